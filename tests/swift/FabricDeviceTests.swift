import Testing
@testable import DaxModel

/// The device and its FM API commands, one test per rule and return code
/// (reference fabric.md §1.2 and §5.2, cited as "§5.2.n").
@Suite struct FabricDeviceTests {
    typealias F = FabricFixture
    let mib = FabricFixture.mib

    // MARK: building the device

    @Test("device limits: 1-8 regions, 256 MiB bases, block sizes, 1-256 hosts")
    func deviceLimits() throws {
        func build(_ change: (inout DCDeviceSpec) -> Void) -> CXLReturnCode {
            var spec = DCDeviceSpec(regions: [DCRegionSpec(base: F.base, decodeLength: F.gib)], hostCount: 2)
            change(&spec)
            return F.code { _ = try DCDevice(spec) }
        }
        #expect(build { _ in } == .success)
        #expect(build { $0.regions = [] } == .invalidInput)
        #expect(build { $0.regions = (0..<9).map { DCRegionSpec(base: F.base + UInt64($0) * F.gib, decodeLength: F.gib) } } == .invalidInput)
        #expect(build { $0.regions[0].base += 2 * mib } == .invalidInput)
        #expect(build { $0.regions[0].decodeLength = 64 * mib } == .invalidInput)
        #expect(build { $0.regions[0].blockSize = 3 * mib } == .invalidInput)
        #expect(build { $0.regions[0].blockSize = 32 } == .invalidInput)
        #expect(build { $0.regions.append(DCRegionSpec(base: F.base, decodeLength: F.gib)) } == .invalidInput)
        #expect(build { $0.hostCount = 0 } == .invalidInput)
        #expect(build { $0.hostCount = 256 } == .success)
        #expect(build { $0.hostCount = 257 } == .invalidInput)
        #expect(build { $0.profile = .qemu } == .invalidInput)  // qemu has one host
    }

    @Test("5600h Get DCD Info reports hosts, regions, policies, sanitize mask and capacity in 256 MiB units")
    func dcdInfo() throws {
        let f = try F()
        let info = f.dev.getDCDInfo()
        #expect(info.numHosts == 4 && info.numRegions == 2)
        #expect(info.addSelectionPolicies == 0b111 && info.releaseRemovalPolicies == 0b11)
        #expect(info.sanitizeConfigMask == 0b11 && info.totalCapacity == 8)
        #expect(info.blockSizeMasks == [2 << 20, 2 << 20])
    }

    @Test("5601h Get Host DC Region Config: attributes, per-LD budgets; Invalid Input for host or start region")
    func hostRegionConfig() throws {
        let f = try F(maxExtents: 10, maxTags: 3)
        let c = try f.dev.getHostRegionConfig(host: 1, regionCount: 8, startRegion: 0)
        #expect(c.regions.count == 2 && c.availableRegions == 2)
        #expect(c.regions[0].attributes1 == 1 << 3 && c.regions[1].attributes1 == 1 << 3 | 1 << 6)
        #expect(c.regions[0].decodeLength == 4 && c.totalExtents == 10 && c.availableTags == 3)
        #expect(f.add(host: 1, .free, mib: 4, tag: F.tag(1)) == .success)
        let after = try f.dev.getHostRegionConfig(host: 1, regionCount: 1, startRegion: 1)
        #expect(after.regions.count == 1 && after.availableExtents == 9 && after.availableTags == 2)
        #expect(try f.dev.getHostRegionConfig(host: 0, regionCount: 8, startRegion: 0).availableExtents == 10)
        #expect(F.code { _ = try f.dev.getHostRegionConfig(host: 4, regionCount: 1, startRegion: 0) } == .invalidInput)
        #expect(F.code { _ = try f.dev.getHostRegionConfig(host: 0, regionCount: 1, startRegion: 2) } == .invalidInput)
    }

    // MARK: 5604h Initiate Dynamic Capacity Add

    @Test("§5.2.1: success starts the offer: records in that host's log only, blocks reserved, nothing listed yet")
    func addStartsTheOffer() throws {
        let f = try F()
        let gen = f.generation(2)
        #expect(f.add(host: 2, .free, mib: 6, tag: F.tag(1)) == .success)
        #expect(f.dev.eventLogCount(host: 2) == 1 && f.dev.eventLogCount(host: 0) == 0)
        #expect(f.dev.capacityTotals.reserved == 6 * mib && f.dev.blockOwner(at: F.base) == .reserved(host: 2))
        #expect(f.list(2).isEmpty && f.generation(2) == gen)
        #expect(f.tagEntry(F.tag(1))?.pendingReferenceBitmap == HostBitmap([2]))
        #expect(f.fmEvents().isEmpty)
        f.check()
    }

    @Test("§5.2.5: the host accepts; the list and generation change; the manager gets Add Capacity Response with the host id")
    func acceptReportsToTheManager() throws {
        let f = try F()
        let gen = f.generation(2)
        f.add(host: 2, .free, mib: 6, tag: F.tag(1))
        #expect(f.fabric.run() == 1)
        #expect(f.list(2) == [F.ext(0, 6, F.tag(1))] && f.generation(2) != gen)
        #expect(f.dev.blockOwner(at: F.base) == .shared(tag: F.tag(1)))
        let fm = f.fmEvents()
        #expect(fm.map(\.type) == [.addCapacityResponse] && fm[0].hostId == 2 && fm[0].extent == F.ext(0, 6, F.tag(1)))
        let t = try #require(f.tagEntry(F.tag(1)))
        #expect(t.referenceBitmap == HostBitmap([2]) && t.pendingReferenceBitmap.isEmpty)
        f.check()
    }

    @Test("non-Sharable region: accepted capacity is owned by the host, not shared")
    func ownedWhenNotSharable() throws {
        let f = try F(sharable: false)
        f.add(host: 1, .free, mib: 4)
        f.fabric.run()
        #expect(f.dev.blockOwner(at: F.base) == .owned(host: 1))
        f.check()
    }

    @Test("Free splits across holes lowest first; Contiguous needs one run (Resources Exhausted)")
    func freeAndContiguous() throws {
        let f = try F(hosts: 2, logDepth: 512)
        // Fill region 0 with 256 x 4 MiB, then free every other one.
        f.add(host: 0, .prescriptive, extents: (0..<256).map { F.ext(UInt64($0) * 4, 4) })
        f.fabric.run()
        let odd = (0..<256).filter { $0 % 2 == 1 }.map { F.ext(UInt64($0) * 4, 4) }
        #expect(f.release(host: 0, .prescriptive, extents: odd) == .success)
        f.fabric.run()
        #expect(f.add(host: 1, .contiguous, mib: 8) == .resourcesExhausted)
        #expect(f.add(host: 1, .contiguous, mib: 4) == .success)
        #expect(f.add(host: 1, .free, mib: 12, tag: F.tag(5)) == .success)
        f.fabric.run()
        #expect(f.list(1) == [F.ext(4, 4), F.ext(12, 4, F.tag(5)), F.ext(20, 4, F.tag(5)), F.ext(28, 4, F.tag(5))].map {
            var e = $0
            if e.tag == F.tag(5) { e.sequence = UInt16((e.dpa - F.base) / (8 * mib) - 1) }
            return e
        })
        #expect(f.add(host: 1, .free, mib: 600) == .resourcesExhausted)
        f.check()
    }

    @Test("Invalid Input: host, policy, region, length, existing tag")
    func addInvalidInput() throws {
        let f = try F()
        #expect(f.add(host: 4, .free, mib: 2) == .invalidInput)
        #expect(F.code { try f.dev.initiateAdd(DCAddRequest(hostId: 0, policy: .free, length: 2 * mib)) } == .success)
        var bad = DCAddRequest(hostId: 0, policy: .free, length: 2 * mib)
        bad.selectionPolicy = 4
        #expect(F.code { try f.dev.initiateAdd(bad) } == .invalidInput)
        #expect(f.add(host: 0, .free, region: 2, mib: 2) == .invalidInput)
        #expect(f.add(host: 0, .free, mib: 0) == .invalidInput)
        #expect(f.add(host: 0, .contiguous, mib: 3) == .invalidInput)
        #expect(f.add(host: 0, .free, mib: 2, tag: F.tag(1)) == .success)
        #expect(f.add(host: 1, .free, mib: 2, tag: F.tag(1)) == .invalidInput)
        #expect(f.add(host: 1, .prescriptive, extents: [F.ext(100, 2, F.tag(1))]) == .invalidInput)
        f.check()
    }

    @Test("Prescriptive: Invalid Extent List for count, alignment, regions, overlaps, same-LD and other hosts' blocks")
    func prescriptiveExtentList() throws {
        let f = try F(maxExtents: 4)
        #expect(f.add(host: 0, .prescriptive, extents: []) == .invalidExtentList)
        #expect(f.add(host: 0, .prescriptive, extents: (0..<5).map { F.ext(UInt64($0) * 2, 2) }) == .invalidExtentList)
        var odd = F.ext(0, 2)
        odd.dpa += 4096
        #expect(f.add(host: 0, .prescriptive, extents: [odd]) == .invalidExtentList)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(1022, 4)]) == .invalidExtentList)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(0, 2), F.ext(0, 2, region: 1)]) == .invalidExtentList)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(0, 4), F.ext(2, 2)]) == .invalidExtentList)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(0, 4)]) == .success)
        // Pending to the same LD, then accessible to it.
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(2, 2)]) == .invalidExtentList)
        f.fabric.run()
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(2, 2)]) == .invalidExtentList)
        // Another host's blocks (fabric.md §6: code unconfirmed; the model's choice).
        #expect(f.add(host: 1, .prescriptive, extents: [F.ext(0, 2)]) == .invalidExtentList)
        f.check()
    }

    @Test("Prescriptive: the device numbers each tag's extents 0..n-1 in list order")
    func prescriptiveSequences() throws {
        let f = try F()
        var a = F.ext(10, 2, F.tag(1)), b = F.ext(0, 2, F.tag(1))
        a.sequence = 7
        b.sequence = 7
        f.add(host: 0, .prescriptive, extents: [a, b, F.ext(20, 2)])
        f.fabric.run()
        #expect(f.list(0).map(\.sequence) == [1, 0, 0])
        f.check()
    }

    @Test("Resources Exhausted: the host's extent and tag budgets")
    func budgets() throws {
        let f = try F(maxExtents: 2, maxTags: 1)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(0, 2), F.ext(4, 2), F.ext(8, 2)]) == .invalidExtentList)
        #expect(f.add(host: 0, .free, mib: 2, tag: F.tag(1)) == .success)
        #expect(f.add(host: 0, .free, mib: 2, tag: F.tag(2)) == .resourcesExhausted)
        #expect(f.add(host: 0, .free, mib: 2) == .success)
        #expect(f.add(host: 0, .free, mib: 2) == .resourcesExhausted)
        #expect(f.add(host: 1, .free, mib: 2) == .success)
        f.check()
    }

    @Test("§5.2.12 Retry Required: the host's log would overflow; nothing changes")
    func retryRequired() throws {
        let f = try F(logDepth: 3)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(0, 2), F.ext(4, 2)]) == .success)
        let totals = f.dev.capacityTotals, gen = f.dev.tagGeneration
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(12, 2, F.tag(1))]) == .retryRequired)
        #expect(f.dev.capacityTotals == totals && f.dev.tagGeneration == gen && f.dev.eventLogCount(host: 0) == 2)
        #expect(f.tagEntry(F.tag(1)) == nil)
        f.fabric.run()
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(12, 2, F.tag(1))]) == .success)
        f.check()
    }

    @Test("a chain of N records: More on all but the last")
    func moreChain() throws {
        let f = try F()
        f.add(host: 0, .prescriptive, extents: [F.ext(0, 2), F.ext(4, 2), F.ext(8, 2)])
        let records = try f.dev.takeEventRecords(host: 0)
        #expect(records.map(\.more) == [true, true, false] && records.allSatisfy { $0.type == .addCapacity })
    }

    @Test("the host model refuses what Linux refuses: a 64 KiB extent; the manager sees length 0, the blocks go back")
    func hostRulesApply() throws {
        let f = try F(blockSize: 64 << 10)
        let small = DCExtentRecord(dpa: F.base, length: 64 << 10)
        #expect(f.add(host: 0, .prescriptive, extents: [small]) == .success)
        f.fabric.run()
        #expect(f.list(0).isEmpty && f.dev.capacityTotals.free == f.dev.capacityTotals.total)
        let fm = f.fmEvents()
        #expect(fm.count == 1 && fm[0].type == .addCapacityResponse && fm[0].extent.length == 0)
        f.check()
    }

    // MARK: Enable Shared Access

    @Test("§5.2.4: Enable Shared Access gives a second host the same capacity with sequence numbers")
    func sharedAccess() throws {
        let f = try F()
        f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(0, 4, F.tag(1))])
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(1)) == .success)
        #expect(f.tagEntry(F.tag(1))?.pendingReferenceBitmap == HostBitmap([1]))
        f.fabric.run()
        #expect(f.list(1).sorted { $0.sequence < $1.sequence } == f.list(0).sorted { $0.sequence < $1.sequence })
        #expect(f.tagEntry(F.tag(1))?.referenceBitmap == HostBitmap([0, 1]))
        #expect(f.dev.capacityTotals.shared == 6 * mib)
        #expect(f.fmEvents().map(\.hostId) == [0, 0, 1, 1])
        f.check()
    }

    @Test("Enable Shared Access into the read-only region: that host's own DPAs, dense sequence")
    func sharedAccessReadOnlyRegion() throws {
        let f = try F()
        f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(0, 4, F.tag(1))])
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, region: 1, tag: F.tag(1)) == .success)
        f.fabric.run()
        #expect(f.list(1) == [DCExtentRecord(dpa: F.base + F.gib, length: 6 * mib, tag: F.tag(1), sequence: 0)])
        #expect(f.dev.blockOwner(at: F.base + F.gib) == .free)
        f.check()
    }

    @Test("Enable Shared Access: Invalid Input for unknown tag, non-Sharable region, non-Sharable home, unaccepted tag, same LD")
    func sharedAccessInvalidInput() throws {
        let f = try F(hosts: 3) { $0.regions[1].sharable = false }
        #expect(f.add(host: 1, .enableSharedAccess, tag: F.tag(9)) == .invalidInput)
        f.add(host: 0, .free, mib: 2, tag: F.tag(1))
        #expect(f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(1)) == .invalidInput)  // not accepted yet
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, region: 1, tag: F.tag(1)) == .invalidInput)  // target not Sharable
        #expect(f.add(host: 0, .enableSharedAccess, region: 0, tag: F.tag(1)) == .invalidInput)  // same LD
        f.add(host: 0, .free, region: 1, mib: 2, tag: F.tag(2))
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(2)) == .invalidInput)  // home not Sharable
        #expect(f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(1)) == .success)
        #expect(f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(1)) == .invalidInput)  // pending to the same LD
        f.check()
    }

    // MARK: 5605h Initiate Dynamic Capacity Release

    @Test("§5.2.6: tag-based release asks the host; its answer frees the blocks and reports Capacity Released")
    func tagBasedRelease() throws {
        let f = try F(sharable: false)
        f.add(host: 3, .free, mib: 4, tag: F.tag(1))
        f.fabric.run()
        _ = f.fmEvents()
        #expect(f.release(host: 3, tag: F.tag(1)) == .success)
        #expect(f.list(3).count == 1)  // nothing changes until the host answers
        f.fabric.run()
        #expect(f.list(3).isEmpty && f.tagEntry(F.tag(1)) == nil && f.dev.capacityTotals.owned == 0)
        let fm = f.fmEvents()
        #expect(fm.map(\.type) == [.capacityReleased] && fm[0].hostId == 3)
        f.check()
    }

    @Test("tag-based release: Invalid Input (null, unknown, partial length), Resources Exhausted (length over), Invalid PA (pending)")
    func tagBasedErrors() throws {
        let f = try F()
        #expect(f.release(host: 0, tag: .untagged) == .invalidInput)
        #expect(f.release(host: 0, tag: F.tag(1)) == .invalidInput)
        f.add(host: 0, .free, mib: 4, tag: F.tag(1))
        #expect(f.release(host: 0, tag: F.tag(1)) == .invalidPhysicalAddress)
        f.fabric.run()
        #expect(f.release(host: 1, tag: F.tag(1)) == .invalidInput)
        #expect(f.release(host: 0, tag: F.tag(1), length: 2 * mib) == .invalidInput)
        #expect(f.release(host: 0, tag: F.tag(1), length: 6 * mib) == .resourcesExhausted)
        #expect(f.release(host: 0, tag: F.tag(1), length: 4 * mib) == .success)
        var bad = DCReleaseRequest(hostId: 0, policy: .tagBased, tag: F.tag(1))
        bad.flags = 2
        #expect(F.code { try f.dev.initiateRelease(bad) } == .invalidInput)
        #expect(f.release(host: 9, tag: F.tag(1)) == .invalidInput)
        f.check()
    }

    @Test("prescriptive release: Invalid Extent List, Invalid PA (nonexistent), Invalid Input (part of a Sharable tag)")
    func prescriptiveReleaseErrors() throws {
        let f = try F()
        f.add(host: 0, .prescriptive, extents: [F.ext(0, 2, F.tag(1)), F.ext(4, 2, F.tag(1)), F.ext(8, 2)])
        f.fabric.run()
        #expect(f.release(host: 0, .prescriptive, extents: []) == .invalidExtentList)
        #expect(f.release(host: 0, .prescriptive, extents: [F.ext(1022, 4)]) == .invalidExtentList)
        #expect(f.release(host: 0, .prescriptive, extents: [F.ext(16, 2)]) == .invalidPhysicalAddress)
        #expect(f.release(host: 0, .prescriptive, extents: [F.ext(0, 2)]) == .invalidInput)
        #expect(f.release(host: 0, .prescriptive, extents: [F.ext(0, 2), F.ext(4, 2)]) == .success)
        #expect(f.release(host: 0, .prescriptive, extents: [F.ext(8, 2)]) == .success)
        f.fabric.run()
        #expect(f.list(0).isEmpty)
        f.check()
    }

    @Test("release with sanitize on a region that cannot sanitize: Invalid Input")
    func sanitizeUnsupported() throws {
        let f = try F { $0.regions[0].sanitizeConfigurable = false }
        f.add(host: 0, .free, mib: 2)
        f.fabric.run()
        #expect(f.release(host: 0, .prescriptive, sanitize: true, extents: [F.ext(0, 2)]) == .invalidInput)
        #expect(f.dev.getDCDInfo().sanitizeConfigMask == 0b10)
    }

    @Test("Retry Required for an unforced release, never for a forced one")
    func releaseRetry() throws {
        let f = try F(logDepth: 1)
        f.add(host: 0, .free, mib: 2)
        f.fabric.run()
        f.add(host: 0, .free, mib: 2)  // fills the log
        #expect(f.release(host: 0, .prescriptive, extents: [F.ext(0, 2)]) == .retryRequired)
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 2)]) == .success)
        #expect(f.dev.eventLogOverflows(host: 0) == 1 && f.list(0).isEmpty)
        f.fabric.run()
        // The dropped Forced Capacity Release never reached the host: it still sees the extent.
        #expect(try #require(f.fabric.host(0)).view.count == 2 && f.list(0).count == 1)
        #expect(f.dev.checkInvariants() == [])
    }

    @Test("a release deferred while a device maps the tag completes, and reports, when the device goes")
    func deferredRelease() throws {
        let f = try F()
        f.add(host: 0, .free, mib: 4, tag: F.tag(1))
        f.fabric.run()
        _ = f.fmEvents()
        let region = try #require(f.fabric.host(0)).region
        let dev = try region.createDevice()
        try dev.claimTag(F.tag(1))
        f.release(host: 0, tag: F.tag(1))
        f.fabric.run()
        #expect(f.fmEvents().isEmpty && f.list(0).count == 1)
        f.check()
        try dev.resize(to: 0)
        try region.deleteDevice(dev)
        f.fabric.run()
        #expect(f.fmEvents().map(\.type) == [.capacityReleased] && f.list(0).isEmpty)
        f.check()
    }

    @Test("a host cannot re-tag the device's capacity (EPERM), so its view stays the device's list; a restored host neither")
    func hostRetagRefused() throws {
        let f = try F()
        f.add(host: 0, .free, mib: 4, tag: F.tag(1))
        f.fabric.run()
        let region = try #require(f.fabric.host(0)).region
        let e = try #require(region.extents.first)
        for whole in [false, true] {
            #expect(throws: DaxError.self) { try region.retag(e, to: F.tag(2), wholeGroup: whole) }
            do { try region.retag(e, to: F.tag(2), wholeGroup: whole) } catch { #expect(error.errno == .notPermitted) }
        }
        #expect(e.tag == F.tag(1) && f.fabric.viewMismatches().isEmpty)
        // The manager's Tag-based release still reaches it.
        #expect(f.release(host: 0, tag: F.tag(1)) == .success)
        f.fabric.run()
        #expect(f.list(0).isEmpty && region.extents.isEmpty)
        f.add(host: 0, .free, mib: 2, tag: F.tag(3))
        f.fabric.run()
        let restored = try FabricStateTests.roundTrip(f.fabric)
        let again = try #require(restored.host(0)?.region)
        let x = try #require(again.extents.first)
        do { try again.retag(x, to: F.tag(4), wholeGroup: false) } catch { #expect(error.errno == .notPermitted) }
        #expect(x.tag == F.tag(3))
    }

    @Test("a host gives back part of a Sharable tag (the rest is mapped): the device keeps the tag, its list shrinks, states round-trip (found by the fabric_stress C test)")
    func sharedPartialHostRelease() throws {
        let f = try F(revoke: false)
        // Two extents of one Sharable tag on host 0 (sequence 0 and 1), shared with host 1.
        f.add(host: 0, .prescriptive, extents: [F.ext(8, 2, F.tag(1)), F.ext(0, 2, F.tag(1))])
        f.fabric.run()
        f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(1))
        f.fabric.run()
        _ = f.fmEvents()
        #expect(f.list(0).map(\.sequence) == [1, 0] && f.list(1).count == 2)
        // Host 0 maps the extent at 8 MiB only; the manager takes the tag back.
        let region = try #require(f.fabric.host(0)).region
        let dev = try region.createDevice()
        try dev.selectTag(F.tag(1))
        try dev.resize(to: 2 * F.mib)
        #expect(dev.ranges.count == 1)
        let mapped = try #require(dev.ranges.first).span.start
        #expect(f.release(host: 0, tag: F.tag(1)) == .success)
        f.fabric.run()
        // The unmapped extent went back at once; the mapped one waits.
        #expect(f.list(0).map(\.dpa) == [mapped])
        #expect(f.fmEvents().map(\.type) == [.capacityReleased])
        f.check()
        #expect(f.dev.checkInvariants().isEmpty)
        #expect(f.tagEntry(F.tag(1))?.referenceBitmap.hosts == [0, 1])
        _ = try FabricStateTests.roundTrip(f.fabric)
        // Host 1 keeps all of it; a Tag-based release of host 0 takes what it has left.
        #expect(f.release(host: 0, tag: F.tag(1), length: 2 * F.mib) == .success)
        try dev.resize(to: 0)
        try region.deleteDevice(dev)
        f.fabric.run()
        #expect(f.list(0).isEmpty && f.list(1).count == 2 && f.dev.capacityTotals.shared == 4 * F.mib)
        #expect(f.release(host: 1, tag: F.tag(1)) == .success)
        f.fabric.run()
        #expect(f.tagEntry(F.tag(1)) == nil && f.dev.capacityTotals.free == f.dev.capacityTotals.total)
        f.check()
    }

    @Test("Enable Shared Access into a region of larger blocks: Invalid Input unless the tag is whole blocks there (found by tests/fuzz/fabric.c)")
    func sharedAccessBlockSize() throws {
        let f = try F { $0.regions[1].blockSize = 4 << 20; $0.regions[1].readOnly = false }
        f.add(host: 0, .free, mib: 6, tag: F.tag(1))
        f.add(host: 0, .free, mib: 8, tag: F.tag(2))
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, region: 1, tag: F.tag(1)) == .invalidInput)
        #expect(f.add(host: 1, .enableSharedAccess, region: 0, tag: F.tag(1)) == .success)
        #expect(f.add(host: 2, .enableSharedAccess, region: 1, tag: F.tag(2)) == .success)
        f.fabric.run()
        #expect(f.list(1).map(\.length) == [6 * F.mib] && f.list(2).allSatisfy { $0.dpa % (4 << 20) == 0 && $0.length % (4 << 20) == 0 })
        f.check()
    }

    // MARK: forced release

    @Test("§5.2.7: forced release of a pending offer: dead group, blocks back at once, host answer gets Invalid PA, manager sees length 0")
    func forcedPendingIsDead() throws {
        let f = try F()
        f.add(host: 1, .free, mib: 4, tag: F.tag(1))
        let logBefore = f.dev.eventLogCount(host: 1)
        #expect(f.release(host: 1, forced: true, tag: F.tag(1)) == .success)
        #expect(f.dev.eventLogCount(host: 1) == logBefore)  // no new record; the add records stay
        #expect(f.dev.capacityTotals.free == f.dev.capacityTotals.total && f.tagEntry(F.tag(1)) == nil)
        f.fabric.run()
        let answers = try #require(f.fabric.host(1)).takeAnswers()
        #expect(answers.map(\.1) == [.invalidPhysicalAddress])
        let fm = f.fmEvents()
        #expect(fm.count == 1 && fm[0].type == .addCapacityResponse && fm[0].extent.length == 0 && fm[0].hostId == 1)
        #expect(try #require(f.fabric.host(1)).view.isEmpty)
        f.check()
    }

    @Test("forced release of accepted capacity: revoked now; a revoking host drops it, a Linux host keeps a stale view")
    func forcedAccepted() throws {
        for revoke in [true, false] {
            let f = try F(revoke: revoke)
            f.add(host: 0, .free, mib: 4)
            f.fabric.run()
            _ = f.fmEvents()
            #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 4)]) == .success)
            #expect(f.list(0).isEmpty && f.dev.capacityTotals.owned == 0)
            #expect(try f.dev.takeEventRecords(host: 0).map(\.type) == [.forcedCapacityRelease])
            f.dev.post([(.forcedCapacityRelease, 0, F.ext(0, 4))], to: 0)
            f.fabric.run()
            let host = try #require(f.fabric.host(0))
            #expect(host.view.isEmpty == revoke && host.staleExtents.isEmpty == revoke)
            #expect(f.fmEvents().isEmpty)
            f.check()
        }
    }

    @Test("a release deferred while mapped, then forced: a revoking host reports only what the device still has (found by the fabric_stress C test)",
          arguments: [false, true])
    func deferredThenForced(sharable: Bool) throws {
        let f = try F(sharable: sharable, revoke: true)
        // Tag 1: two extents; a device maps the one at 0.
        f.add(host: 0, .prescriptive, extents: [F.ext(0, 2, F.tag(1)), F.ext(4, 2, F.tag(1))])
        f.add(host: 0, .free, region: 1, mib: 2)
        f.fabric.run()
        _ = f.fmEvents()
        let host = try #require(f.fabric.host(0))
        _ = host.takeAnswers()
        let dev = try host.region.createDevice()
        try dev.selectTag(F.tag(1))
        try dev.resize(to: 2 * F.mib)
        // Asked to give the tag back, the host gives back what is unmapped
        // and defers the rest; then the manager forces the rest out.
        #expect(f.release(host: 0, tag: F.tag(1)) == .success)
        f.fabric.run()
        let mapped = try #require(dev.ranges.first).span.start
        #expect(f.list(0).map(\.dpa).contains(mapped) && f.list(0).count == 2)
        let rest = f.list(0).filter { $0.dpa == mapped }
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: rest) == .success)
        f.fabric.run()
        // Every answer the host sent was taken: one manager chain each.
        let answers = host.takeAnswers()
        #expect(answers.allSatisfy { $0.1 == .success }, "\(answers)")
        let chains = f.fmEvents().filter { !$0.more }.count
        #expect(chains == answers.count)
        #expect(f.list(0).map(\.dpa) == [F.base + F.gib])
        f.check()
    }

    @Test("a deferred release the host completes after the device forced it out, before the host read the record: nothing is reported twice (found by the fabric_stress C test)",
          arguments: [false, true])
    func forcedWhileDeferredCompletes(revoke: Bool) throws {
        let f = try F(revoke: revoke)
        f.add(host: 0, .free, mib: 2, tag: F.tag(1))
        f.fabric.run()
        _ = f.fmEvents()
        let host = try #require(f.fabric.host(0))
        _ = host.takeAnswers()
        let dev = try host.region.createDevice()
        try dev.claimTag(F.tag(1))
        #expect(f.release(host: 0, tag: F.tag(1)) == .success)
        f.fabric.run()  // deferred: the device maps it
        #expect(f.list(0).count == 1)
        #expect(f.release(host: 0, forced: true, tag: F.tag(1)) == .success)
        #expect(f.list(0).isEmpty)
        // The job ends before the host reads the Forced Capacity Release.
        try dev.resize(to: 0)
        try host.region.deleteDevice(dev)
        f.fabric.run()
        let answers = host.takeAnswers()
        #expect(answers.allSatisfy { $0.1 == .success }, "\(answers)")
        #expect(f.fmEvents().filter { !$0.more }.count == answers.count)
        #expect(host.view.isEmpty && host.staleExtents.isEmpty)
        f.check()
    }

    @Test("a Linux host that kept a force-released extent gives its tag group back: it reports only what the device still has",
          arguments: [false, true])
    func staleExtentInGroupRelease(revoke: Bool) throws {
        let f = try F(sharable: false, revoke: revoke)
        f.add(host: 0, .prescriptive, extents: [F.ext(0, 2, F.tag(1)), F.ext(4, 2, F.tag(1))])
        f.fabric.run()
        _ = f.fmEvents()
        let host = try #require(f.fabric.host(0))
        _ = host.takeAnswers()
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 2)]) == .success)
        f.fabric.run()
        // Linux ignores it (the extent stays, stale); a revoking host drops the group.
        #expect(host.staleExtents.isEmpty == revoke)
        #expect(f.release(host: 0, tag: F.tag(1)) == (revoke ? .invalidInput : .success))
        f.fabric.run()
        let answers = host.takeAnswers()
        #expect(answers.allSatisfy { $0.1 == .success }, "\(answers)")
        #expect(f.fmEvents().filter { !$0.more }.count == answers.count)
        #expect(f.list(0).isEmpty && host.view.isEmpty && host.staleExtents.isEmpty)
        #expect(f.dev.capacityTotals.free == f.dev.capacityTotals.total)
        f.check()
    }

    @Test("forced prescriptive release of part of an extent: Invalid Input (the model does not split)")
    func forcedPartial() throws {
        let f = try F()
        f.add(host: 0, .free, mib: 4)
        f.fabric.run()
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 2)]) == .invalidInput)
    }

    @Test("a list naming part of an extent twice, or in overlapping ranges, still covers only part (found by tests/fuzz/fabric.c)",
          arguments: [[F.ext(0, 4), F.ext(0, 4)], [F.ext(0, 4), F.ext(2, 4)], [F.ext(0, 2), F.ext(4, 2), F.ext(0, 2), F.ext(4, 2)]])
    func forcedPartialRepeated(_ list: [DCExtentRecord]) throws {
        let f = try F(revoke: false)
        f.add(host: 0, .free, mib: 8)
        f.add(host: 1, .free, mib: 8, tag: F.tag(1))
        f.fabric.run()
        _ = f.fmEvents()
        #expect(f.list(1) == [F.ext(8, 8, F.tag(1))])
        let totals = f.dev.capacityTotals, before = f.list(0)
        // Forced: the device does not split extents.
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: list) == .invalidInput)
        #expect(f.list(0) == before && f.dev.capacityTotals == totals)
        // A Sharable tag is released whole or not at all.
        let tagged = list.map { F.ext(($0.dpa - F.base) / F.mib + 8, $0.length / F.mib) }
        #expect(f.release(host: 1, .prescriptive, extents: tagged) == .invalidInput)
        f.fabric.run()
        #expect(f.fabric.viewMismatches().isEmpty && f.dev.checkInvariants().isEmpty)
        // Covering all of it, even twice, is whole.
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 8), F.ext(0, 8)]) == .success)
        #expect(f.list(0).isEmpty)
    }

    @Test("union of spans", arguments: [([(0, 9), (0, 9)], 10), ([(0, 9), (5, 14)], 15), ([(10, 19), (0, 4)], 15),
                                        ([(0, 9), (2, 3), (10, 10)], 11), ([(0, UInt64.max - 1), (5, UInt64.max - 1)], UInt64.max)] as [([(UInt64, UInt64)], UInt64)])
    func unionLength(_ spans: [(UInt64, UInt64)], _ want: UInt64) {
        #expect(DCDevice.unionLength(spans.compactMap { Span(start: $0.0, last: $0.1) }) == want)
    }

    // MARK: shared lifetime, references, sanitize

    @Test("§5.2.8: shared capacity released per host in any order; freed and sanitized after the last")
    func sharedLifetime() throws {
        for order: [UInt16] in [[0, 1, 2], [2, 0, 1]] {
            let f = try F()
            f.add(host: 0, .free, mib: 4, tag: F.tag(1))
            f.fabric.run()
            f.add(host: 1, .enableSharedAccess, tag: F.tag(1))
            f.add(host: 2, .enableSharedAccess, region: 1, tag: F.tag(1))
            f.fabric.run()
            for (i, h) in order.enumerated() {
                #expect(f.release(host: h, sanitize: i == 0, tag: F.tag(1)) == .success)
                f.fabric.run()
                let last = i == order.count - 1
                #expect(f.dev.capacityTotals.shared == (last ? 0 : 4 * mib))
                #expect(f.dev.sanitizedSpans.isEmpty == !last)
                #expect((f.tagEntry(F.tag(1)) == nil) == last)
                f.check()
            }
            #expect(f.dev.sanitizedSpans == [Span(start: F.base, length: 4 * mib)].compactMap { $0 })
            // A memory layer takes them once; the list does not grow with age.
            #expect(f.dev.takeSanitizedSpans() == [Span(start: F.base, length: 4 * mib)].compactMap { $0 })
            #expect(f.dev.sanitizedSpans.isEmpty && f.dev.takeSanitizedSpans().isEmpty)
        }
    }

    @Test("§5.2.9: a manager reference keeps capacity no host maps; idempotent; removing it frees the tag")
    func references() throws {
        let f = try F()
        f.add(host: 0, .free, mib: 4, tag: F.tag(1))
        f.fabric.run()
        try f.dev.addReference(tag: F.tag(1))
        let gen = f.dev.tagGeneration
        try f.dev.addReference(tag: F.tag(1))
        #expect(f.dev.tagGeneration == gen)
        f.release(host: 0, tag: F.tag(1))
        f.fabric.run()
        let entry = try #require(f.tagEntry(F.tag(1)))
        #expect(entry.fmHoldsReference && entry.referenceBitmap.isEmpty && f.dev.capacityTotals.shared == 4 * mib)
        // The initialise-then-share recipe: share it read-only to another host.
        #expect(f.add(host: 1, .enableSharedAccess, region: 1, tag: F.tag(1)) == .success)
        f.fabric.run()
        try f.dev.removeReference(tag: F.tag(1))
        #expect(f.tagEntry(F.tag(1))?.referenceBitmap == HostBitmap([1]))
        f.release(host: 1, tag: F.tag(1))
        f.fabric.run()
        #expect(f.tagEntry(F.tag(1)) == nil && f.dev.capacityTotals.free == f.dev.capacityTotals.total)
        #expect(F.code { try f.dev.addReference(tag: F.tag(1)) } == .invalidInput)
        #expect(F.code { try f.dev.removeReference(tag: F.tag(1)) } == .invalidInput)
        f.check()
    }

    @Test("Add Reference on a tag of a non-Sharable region: Invalid Input")
    func referenceNeedsSharable() throws {
        let f = try F(sharable: false)
        f.add(host: 0, .free, mib: 2, tag: F.tag(1))
        #expect(F.code { try f.dev.addReference(tag: F.tag(1)) } == .invalidInput)
    }

    @Test("a region configured to sanitize sanitizes every release")
    func regionSanitize() throws {
        let f = try F(sanitize: true)
        f.add(host: 0, .free, mib: 2)
        f.fabric.run()
        f.release(host: 0, .prescriptive, extents: [F.ext(0, 2)])
        f.fabric.run()
        #expect(f.dev.sanitizedSpans.count == 1)
    }

    // MARK: 5602h, 5603h, 5608h

    @Test("§5.2.10 Set DC Region Config: Invalid Input, Unsupported (allocated, manager-referenced, sanitize fixed), event to every host")
    func setRegionConfig() throws {
        let f = try F(hosts: 3) { $0.regions[0].supportedBlockSizes = (2 << 20) | (4 << 20) }
        #expect(F.code { try f.dev.setRegionConfig(region: 2, blockSize: 2 << 20, sanitizeOnRelease: false) } == .invalidInput)
        #expect(F.code { try f.dev.setRegionConfig(region: 0, blockSize: 8 << 20, sanitizeOnRelease: false) } == .invalidInput)
        try f.dev.setRegionConfig(region: 0, blockSize: 2 << 20, sanitizeOnRelease: false)
        #expect(f.dev.eventLogCount(host: 0) == 0)
        f.add(host: 0, .free, mib: 2, tag: F.tag(1))
        f.fabric.run()
        try f.dev.addReference(tag: F.tag(1))
        f.release(host: 0, tag: F.tag(1))
        f.fabric.run()
        #expect(F.code { try f.dev.setRegionConfig(region: 0, blockSize: 4 << 20, sanitizeOnRelease: false) } == .unsupported)
        try f.dev.removeReference(tag: F.tag(1))
        try f.dev.setRegionConfig(region: 0, blockSize: 4 << 20, sanitizeOnRelease: true)
        for h: UInt16 in 0..<3 {
            #expect(try f.dev.takeEventRecords(host: h).map(\.type) == [.regionConfigurationUpdated])
        }
        #expect(f.add(host: 0, .free, mib: 2) == .invalidInput)
        let g = try F { $0.regions[1].sanitizeConfigurable = false }
        #expect(F.code { try g.dev.setRegionConfig(region: 1, blockSize: 2 << 20, sanitizeOnRelease: true) } == .unsupported)
    }

    @Test("§5.2.11 extent lists: count 0 gives total and generation; pages; Invalid Input past the end or for a bad host")
    func extentListPaging() throws {
        let f = try F()
        f.add(host: 0, .prescriptive, extents: (0..<5).map { F.ext(UInt64($0) * 4, 2) })
        f.fabric.run()
        let head = try f.dev.getExtentList(host: 0, count: 0, startIndex: 0)
        #expect(head.totalCount == 5 && head.extents.isEmpty)
        let page = try f.dev.getExtentList(host: 0, count: 2, startIndex: 3)
        #expect(page.extents == [F.ext(12, 2), F.ext(16, 2)] && page.generation == head.generation)
        #expect(try f.dev.getExtentList(host: 0, count: 2, startIndex: 5).extents.isEmpty)
        #expect(F.code { _ = try f.dev.getExtentList(host: 0, count: 1, startIndex: 6) } == .invalidInput)
        #expect(F.code { _ = try f.dev.getExtentList(host: 4, count: 1, startIndex: 0) } == .invalidInput)
    }

    @Test("5608h List Tags: pages in creation order; generation changes with the payload")
    func listTags() throws {
        let f = try F()
        let g0 = try f.dev.listTags(startIndex: 0, maxTags: 0)
        #expect(g0.totalTags == 0 && g0.entries.isEmpty)
        for n: UInt8 in 1...3 { f.add(host: 0, .free, mib: 2, tag: F.tag(n)) }
        let g1 = try f.dev.listTags(startIndex: 1, maxTags: 5)
        #expect(g1.totalTags == 3 && g1.entries.map(\.tag) == [F.tag(2), F.tag(3)] && g1.generation != g0.generation)
        #expect(try f.dev.listTags(startIndex: 0, maxTags: 0).generation == g1.generation)
        #expect(F.code { _ = try f.dev.listTags(startIndex: 4, maxTags: 1) } == .invalidInput)
    }

    @Test("host answers: no pending offer, a sub-range, part of a tag, an unknown release: refused, nothing changes")
    func hostAnswerChecks() throws {
        let f = try F()
        #expect(f.dev.answer(.addResponse(host: 0, accepted: [])) == .invalidPhysicalAddress)
        f.add(host: 0, .prescriptive, extents: [F.ext(0, 4, F.tag(1)), F.ext(8, 2, F.tag(1))])
        #expect(f.dev.answer(.addResponse(host: 0, accepted: [DCRange(dpa: F.base, length: 2 * mib)])) == .invalidPhysicalAddress)
        #expect(f.dev.answer(.addResponse(host: 0, accepted: [DCRange(dpa: F.base, length: 4 * mib)])) == .invalidInput)
        #expect(f.dev.answer(.release(host: 0, extents: [])) == .invalidInput)
        #expect(f.dev.answer(.release(host: 0, extents: [DCRange(dpa: F.base, length: 4 * mib)])) == .invalidPhysicalAddress)
        #expect(f.dev.answer(.addResponse(host: 7, accepted: [])) == .invalidInput)
        #expect(f.dev.answersConsumed == 0 && f.fmEvents().isEmpty)
        f.fabric.run()
        #expect(f.list(0).count == 2)
        f.check()
    }
}
