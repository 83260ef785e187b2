import Testing
@testable import DaxModel

/// Seeded random sequences mixing extent groups and releases with device
/// create / tag / size / claim / delete and pins, checking after every
/// step: the model's invariants; free + used + releasing bytes equal the
/// capacity of the extents still held; every extent that leaves the region
/// is reported by exactly one `released` record.
@Suite struct SparseRandomTests {
    typealias F = SparseFixture
    static let tags: [DaxTag] = [.untagged, F.tagA, F.tagB, F.tagC]

    private struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
        mutating func pick<T>(_ a: [T]) -> T? { a.isEmpty ? nil : a[below(a.count)] }
    }

    @Test(arguments: 0..<24)
    func randomSequence(seed: Int) throws {
        let f = try F(revoke: seed % 3 == 0)
        var rng = Rng(state: UInt64(seed) &* 7919)
        var seen: [Extent] = []          // every extent ever accepted
        var releasedRecords = 0          // `released` records that named an extent
        var deferred = 0, sized = 0      // coverage: the sequence must reach these states
        let mib = F.mib
        for step in 0..<400 {
            let label = "seed \(seed) step \(step)"
            let devices = f.region.devices
            switch rng.below(10) {
            case 0, 1:
                let n = 1 + rng.below(3)
                let offers = (0..<n).map { i in
                    F.offer(UInt64(rng.below(120)) * 4 + (rng.below(20) == 0 ? 1 : 0),
                            UInt64(1 + rng.below(8)) * 2, Self.tags[rng.below(4)], seq: UInt32(i))
                }
                _ = try? f.region.offerExtents(offers, more: rng.below(4) == 0, shareable: rng.below(3) == 0)
            case 2:
                let tag = rng.pick(f.region.extents.map(\.tag)) ?? .untagged
                let offset = UInt64(rng.below(500)) * mib
                _ = try? f.region.requestRelease(offset: offset, length: UInt64(1 + rng.below(64)) * mib,
                                                 tag: tag, forced: rng.below(8) == 0)
            case 3:
                // Sparse regions never reach a kernel warning (checked
                // below), also when their devices are probed.
                if rng.below(3) != 0 {
                    _ = try? f.region.createDevice()
                } else if let d = rng.pick(devices) {
                    if d.isBound { _ = try? d.disable() } else { _ = try? d.enable() }
                }
            case 4:
                if let d = rng.pick(devices) { _ = try? d.selectTag(rng.pick(Self.tags)) }
            case 5, 6:
                // A successful resize gives exactly the size asked; a
                // refused one changes nothing.
                if let d = rng.pick(devices) {
                    let want = UInt64(rng.below(24)) * 2 * mib
                    let before = d.ranges.map(\.span)
                    if (try? d.resize(to: want)) != nil {
                        #expect(d.size == want, "\(label): \(d.name) resized to \(want) has \(d.size)")
                    } else {
                        #expect(d.ranges.map(\.span) == before, "\(label): a refused resize changed \(d.name)")
                    }
                }
            case 7:
                if let d = rng.pick(devices) {
                    if rng.below(2) == 0 {
                        let tag = Self.tags[rng.below(4)]
                        let group = f.region.extents.filter { $0.tag == tag }
                        if (try? d.claimTag(tag)) != nil {
                            let want = tag.isUntagged ? d.ranges.first?.extent?.length : group.reduce(0) { $0 + $1.length }
                            #expect(d.size == want && d.tag == tag, "\(label): \(d.name) claimed \(tag) short")
                        }
                    } else {
                        _ = try? f.region.deleteDevice(d)
                    }
                }
            case 8:
                if let e = rng.pick(f.region.extents) {
                    if rng.below(2) == 0 { _ = try? f.region.pin(e) } else { _ = try? f.region.unpin(e) }
                }
            default:
                if let e = rng.pick(f.region.extents) {
                    _ = try? f.region.retag(e, to: Self.tags[rng.below(4)], wholeGroup: rng.below(2) == 0)
                }
            }
            for e in f.region.extents where !seen.contains(where: { $0 === e }) { seen.append(e) }
            for event in f.drain() {
                if event.kind == .released { releasedRecords += event.records.filter { $0.reason.isEmpty }.count }
                if event.kind == .releaseDeferred { deferred += 1 }
                #expect(event.kind != .kernelWarning, "\(label): a sparse region warned: \(event.warning?.text ?? "")")
            }
            if f.region.devices.contains(where: { $0.size > 0 }) { sized += 1 }
            #expect(f.model.checkInvariants() == [], "\(label)")
            let held = f.region.extents.reduce(UInt64(0)) { $0 + $1.length }
            let free = f.region.extents.filter { $0.state == .accepted }.reduce(UInt64(0)) { $0 + $1.freeBytes }
            let releasing = f.region.extents.filter { $0.state == .releasing }.reduce(UInt64(0)) { $0 + $1.freeBytes }
            let used = f.region.devices.reduce(UInt64(0)) { $0 + $1.size }
            #expect(free + used + releasing == held, "\(label): free \(free) + used \(used) + releasing \(releasing) != \(held)")
            #expect(f.region.availableSize == free, "\(label)")
            #expect(releasedRecords == seen.filter { $0.state == .released }.count, "\(label): released events")
        }
        #expect(deferred > 0 && sized > 50, "seed \(seed): too little coverage (deferred \(deferred), sized steps \(sized))")
        // Let go of everything: every pending release must complete.
        for d in f.region.devices {
            if d.isBound { try d.disable() }
            try d.resize(to: 0)
        }
        for e in f.region.extents { while e.pins > 0 { try f.region.unpin(e) } }
        for event in f.drain() where event.kind == .released {
            releasedRecords += event.records.filter { $0.reason.isEmpty }.count
        }
        #expect(!f.region.extents.contains { $0.state == .releasing }, "seed \(seed): a release never completed")
        #expect(releasedRecords == seen.filter { $0.state == .released }.count, "seed \(seed)")
        f.check()
    }
}
