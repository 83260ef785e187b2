import Testing
@testable import DaxModel

private typealias F = FabricFixture
private let mib = F.mib

/// The device's decoding for a memory layer (`DCDevice.decoding(host:)`):
/// which host DPA reaches which physical byte, and when it changes.
@Suite("Fabric memory map")
struct FabricMemoryTests {
    @Test("an extent given directly is one piece at its own address; pending offers reach nothing")
    func directExtents() throws {
        let f = try F(hosts: 2)
        f.add(host: 0, .prescriptive, extents: [F.ext(8, 4, F.tag(1)), F.ext(64, 2)])
        #expect(f.dev.memoryMap(host: 0) == [])
        #expect(f.dev.memoryStamp(host: 0) == 0)
        f.fabric.run()
        #expect(f.dev.memoryMap(host: 0) == [
            HostMemoryPiece(dpa: F.base + 8 * mib, physical: F.base + 8 * mib, length: 4 * mib, readOnly: false),
            HostMemoryPiece(dpa: F.base + 64 * mib, physical: F.base + 64 * mib, length: 2 * mib, readOnly: false),
        ])
        #expect(f.dev.memoryMap(host: 1) == [])
        #expect(f.dev.memoryMap(host: 9) == [])
        f.check()
    }

    @Test("Enable Shared Access: the host's extent follows the tag's runs in the tag's order, read-only in a Read-Only region")
    func sharedAccessPieces() throws {
        let f = try F(hosts: 2)
        // The tag's logical order: 8-10 MiB first, then 0-4 MiB.
        f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(0, 4, F.tag(1))])
        f.fabric.run()
        f.add(host: 1, .enableSharedAccess, region: 1, tag: F.tag(1))
        let before = f.dev.memoryStamp
        f.fabric.run()
        #expect(f.dev.memoryStamp != before)
        let ro = F.base + F.gib
        #expect(f.dev.memoryMap(host: 1) == [
            HostMemoryPiece(dpa: ro, physical: F.base + 8 * mib, length: 2 * mib, readOnly: true),
            HostMemoryPiece(dpa: ro + 2 * mib, physical: F.base, length: 4 * mib, readOnly: true),
        ])
        #expect(HostMemoryPiece(dpa: ro, physical: F.base, length: 2, readOnly: true).physical(of: ro + 1) == F.base + 1)
        #expect(HostMemoryPiece(dpa: ro, physical: F.base, length: 2, readOnly: true).physical(of: ro + 2) == nil)
        f.check()
    }

    @Test("the stamp moves when a host's list does; a forced release takes the pieces whatever the host kept")
    func stampsAndForcedRelease() throws {
        let f = try F(hosts: 2, revoke: false)
        f.add(host: 0, .free, mib: 4, tag: F.tag(2))
        f.add(host: 1, .free, mib: 4, tag: F.tag(3))
        #expect(f.dev.memoryStamp(host: 0) == 0)
        f.fabric.run()
        let s0 = f.dev.memoryStamp(host: 0), s1 = f.dev.memoryStamp(host: 1)
        #expect(s0 != 0 && s1 != 0)
        #expect(f.release(host: 0, forced: true, tag: F.tag(2)) == .success)
        #expect(f.dev.memoryStamp(host: 0) != s0)
        #expect(f.dev.memoryStamp(host: 1) == s1)
        #expect(f.dev.memoryMap(host: 0) == [])
        f.fabric.run()
        #expect(f.fabric.host(0)?.staleExtents.count == 1)  // Linux kept it; the device decodes nothing
        #expect(f.dev.memoryMap(host: 0) == [])
        f.check()
    }

    @Test("HostDecoding: clipped range queries, holds, removal of an extent's pieces, copies that share until changed")
    func decodingValue() {
        var d = HostDecoding()
        #expect(d.pieces(in: 0, length: 100) == [] && !d.holds(HostMemoryPiece(dpa: 0, physical: 0, length: 1, readOnly: false)))
        // Two extents: one piece at 100..<110, two pieces at 200..<204, 204..<210.
        d.insert(HostMemoryPiece(dpa: 200, physical: 1000, length: 4, readOnly: false))
        d.insert(HostMemoryPiece(dpa: 100, physical: 500, length: 10, readOnly: true))
        d.insert(HostMemoryPiece(dpa: 204, physical: 2000, length: 6, readOnly: false))
        d.insert(HostMemoryPiece(dpa: 300, physical: 9, length: 0, readOnly: false))  // empty: ignored
        #expect(d.count == 3)
        #expect(d.pieces.map(\.dpa) == [100, 200, 204])
        #expect(d.pieces(in: 105, length: 100) == [
            HostMemoryPiece(dpa: 105, physical: 505, length: 5, readOnly: true),
            HostMemoryPiece(dpa: 200, physical: 1000, length: 4, readOnly: false),
            HostMemoryPiece(dpa: 204, physical: 2000, length: 1, readOnly: false),
        ])
        #expect(d.pieces(in: 110, length: 90) == [])
        #expect(d.holds(HostMemoryPiece(dpa: 202, physical: 1002, length: 2, readOnly: false)))
        #expect(!d.holds(HostMemoryPiece(dpa: 202, physical: 1002, length: 3, readOnly: false)))  // 204 is elsewhere
        #expect(!d.holds(HostMemoryPiece(dpa: 100, physical: 500, length: 1, readOnly: false)))  // read-only there
        #expect(!d.holds(HostMemoryPiece(dpa: 108, physical: 508, length: 4, readOnly: true)))  // runs past 110
        #expect(!d.holds(HostMemoryPiece(dpa: UInt64.max, physical: 0, length: 1, readOnly: false)))
        let copy = d
        d.remove(startingIn: Span(start: 200, length: 10)!)
        #expect(d.pieces.map(\.dpa) == [100])
        #expect(copy.pieces.map(\.dpa) == [100, 200, 204] && copy != d)
        d.remove(startingIn: Span(start: 0, length: 100)!)  // 100 starts past it
        #expect(d.count == 1)
    }

    @Test("a host that gives back part of its share of a Sharable tag keeps decoding the rest where it was")
    func partialGiveBack() throws {
        let f = try F(hosts: 2)
        // The tag's logical order: 8-10 MiB first, then 0-4 MiB.
        f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(0, 4, F.tag(1))])
        f.fabric.run()
        let host = try #require(f.fabric.host(0))
        let second = try #require(host.region.extent(atOffset: F.base - host.region.start))
        try host.region.pin(second)  // a device maps it: its release is deferred
        #expect(f.release(host: 0, tag: F.tag(1)) == .success)
        f.fabric.run()
        #expect(f.list(0).map(\.dpa) == [F.base])  // the first went back, the second waits
        #expect(f.dev.memoryMap(host: 0) == [
            HostMemoryPiece(dpa: F.base, physical: F.base, length: 4 * mib, readOnly: false),
        ])
        f.check()
    }

    @Test("HostDecoding at the top of the address space")
    func decodingTop() {
        var d = HostDecoding()
        let top = HostMemoryPiece(dpa: UInt64.max - 9, physical: 100, length: 10, readOnly: false)
        d.insert(top)
        #expect(d.pieces(in: UInt64.max - 4, length: 5) == [HostMemoryPiece(dpa: UInt64.max - 4, physical: 105, length: 5, readOnly: false)])
        #expect(d.pieces(in: 0, length: UInt64.max) == [HostMemoryPiece(dpa: UInt64.max - 9, physical: 100, length: 9, readOnly: false)])
        #expect(d.holds(top) && d.holds(HostMemoryPiece(dpa: UInt64.max, physical: 109, length: 1, readOnly: false)))
        #expect(!d.holds(HostMemoryPiece(dpa: UInt64.max, physical: 108, length: 1, readOnly: false)))
        d.remove(startingIn: Span(start: UInt64.max - 9, length: 10)!)
        #expect(d.count == 0)
    }
}
