import Testing
@testable import DaxModel

/// Reference counts on extents, one behaviour per test: every device range
/// holds exactly one reference; pins add one; releases wait for zero.
@Suite struct ExtentLifecycleTests {
    typealias F = SparseFixture
    let mib = SparseFixture.mib

    @Test func pinAndUnpin() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let e = try #require(f.extent(at: 0))
        try f.region.pin(e)
        try f.region.pin(e)
        #expect(e.refcount == 2)
        try f.region.unpin(e)
        try f.region.unpin(e)
        #expect(e.refcount == 0)
        #expect(errnoOf { try f.region.unpin(e) } == .invalidArgument, "no pin left to drop")
        f.check()
    }

    @Test func growInPlaceAndShrinkKeepOneReferencePerRange() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let e = try #require(f.extent(at: 0))
        let d = try f.device(tag: .untagged)
        try d.resize(to: 2 * mib)
        #expect(e.refcount == 1 && d.ranges.count == 1)
        try d.resize(to: 4 * mib)  // grows the range in place
        #expect(e.refcount == 1 && d.ranges.count == 1, "growing in place takes no new reference")
        try d.resize(to: 2 * mib)
        #expect(e.refcount == 1)
        try d.resize(to: 0)
        #expect(e.refcount == 0, "the DCD v1..v9 leak (grow in place, then shrink) must not happen")
        f.check()
        let events = try f.region.requestRelease(offset: 0, length: 8 * mib)
        #expect(events.map(\.kind) == [.released], "an unreferenced extent is released at once")
    }

    @Test func rangesInTwoExtentsHoldOneReferenceEach() throws {
        let f = try F()
        try f.group([F.offer(0, 4), F.offer(64, 4)])
        let d = try f.device(tag: .untagged)
        try d.resize(to: 6 * mib)
        let (a, b) = (try #require(f.extent(at: 0)), try #require(f.extent(at: 64)))
        #expect(d.ranges.count == 2 && a.refcount == 1 && b.refcount == 1)
        try d.resize(to: 4 * mib)  // drops the range in b
        #expect(a.refcount == 1 && b.refcount == 0)
        f.check()
    }

    @Test func disableLeavesCountsAlone() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let d = try f.device(tag: .untagged)
        try d.resize(to: 8 * mib)
        try d.enable()
        try d.disable()
        #expect(f.extent(at: 0)?.refcount == 1)
        f.check()
    }

    @Test func deferredReleaseCompletesWhenTheDeviceLetsGo() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        _ = f.drain()
        let d = try f.device(tag: .untagged)
        try d.resize(to: 2 * mib)
        let e = try #require(f.extent(at: 0))
        try f.region.requestRelease(offset: 4 * mib, length: 2 * mib)
        #expect(e.state == .releasing)
        #expect(f.region.availableSize == 0, "a releasing extent's free space is not available")
        #expect(f.drain().map(\.kind) == [.releaseDeferred])
        try d.resize(to: 0)
        #expect(e.state == .released)
        let done = f.drain()
        #expect(done.map(\.kind) == [.released])
        #expect(done.first?.records.first?.length == 8 * mib, "the whole extent is released")
        try f.region.deleteDevice(d)
        #expect(f.region.extents.isEmpty)
        f.check()
    }

    @Test func deferredReleaseCompletesOnTheLastPut() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let e = try #require(f.extent(at: 0))
        try f.region.pin(e)
        try f.region.requestRelease(offset: 0, length: 8 * mib)
        #expect(e.state == .releasing)
        #expect(errnoOf { try f.region.pin(e) } == .busy, "no new pins once a release is pending")
        _ = f.drain()
        try f.region.unpin(e)
        #expect(e.state == .released)
        #expect(f.drain().map(\.kind) == [.released])
        #expect(errnoOf { try f.region.pin(e) } == .noDevice)
        f.check()
    }

    /// The shared-hold pins (the C layer's hot path) succeed exactly where
    /// `pin` / `unpin` would, and otherwise change nothing: the exclusive
    /// call then answers with the error, or completes the release.
    @Test func sharedPinsSucceedOnlyWhereExclusiveOnesWould() throws {
        let f = try F()
        try f.group([F.offer(0, 8), F.offer(8, 8)])
        let e = try #require(f.extent(at: 0))
        #expect(!e.unpinShared(), "no pin to drop: unpin's EINVAL")
        #expect(e.pinShared() && e.pinShared())
        #expect(e.pins == 2)
        #expect(e.unpinShared())
        #expect(e.pins == 1)
        try f.region.requestRelease(offset: 0, length: 8 * mib)
        #expect(e.state == .releasing)
        #expect(!e.pinShared(), "releasing: pin's EBUSY")
        #expect(!e.unpinShared(), "the put that may complete a release is exclusive")
        #expect(e.pins == 1 && e.state == .releasing)
        try f.region.unpin(e)
        #expect(e.state == .released)
        #expect(!e.pinShared() && !e.unpinShared())
        #expect(e.pins == 0)
        f.check()

        let g = try #require(f.extent(at: 8))
        g.pins = Int(Int32.max)
        #expect(!g.pinShared(), "at the limit: pin's ERANGE")
        #expect(g.pins == Int(Int32.max))
        #expect(g.unpinShared() && g.pinShared())
        #expect(g.pins == Int(Int32.max))
        g.pins = 0
        f.model.tearDown()
        #expect(!g.pinShared(), "the region is gone")
    }

    @Test func releasingExtentIsNotAllocatable() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let d1 = try f.device(tag: .untagged)
        let d2 = try f.device(tag: .untagged)
        try d1.resize(to: 2 * mib)
        try f.region.requestRelease(offset: 0, length: 2 * mib)
        #expect(errnoOf { _ = try f.region.createDevice() } == .noSpace, "nothing available while releasing")
        #expect(errnoOf { try d2.resize(to: 2 * mib) } == .noSpace)
        #expect(errnoOf { try d1.resize(to: 4 * mib) } == .noSpace, "not even for the device already in it")
        f.check()
    }

    @Test func releaseOfAnEmptyRangeIsAcknowledgedAtOnce() throws {
        let f = try F()
        let events = try f.region.requestRelease(offset: 512 * mib, length: 2 * mib)
        #expect(events.map(\.kind) == [.released])
        #expect(events.first?.records.first?.offset == 512 * mib)
    }

    @Test func forcedReleaseIsIgnoredByDefault() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let d = try f.device(tag: .untagged)
        try d.resize(to: 2 * mib)
        let events = try f.region.requestRelease(offset: 0, length: 8 * mib, forced: true)
        #expect(events.map(\.kind) == [.forcedReleaseIgnored])
        #expect(f.extent(at: 0)?.state == .accepted && d.size == 2 * mib)
        f.check()
    }

    @Test func revokeModeDropsRangesAndRecordsTheLoss() throws {
        let f = try F(revoke: true)
        try f.group([F.offer(0, 4), F.offer(64, 4), F.offer(128, 4)])
        let d = try f.device(tag: .untagged)
        try d.resize(to: 12 * mib)
        #expect(d.ranges.count == 3)
        let middle = try #require(f.extent(at: 64))
        try f.region.pin(middle)
        let events = try f.region.requestRelease(offset: 64 * mib, length: 4 * mib, forced: true)
        #expect(events.map(\.kind) == [.forcedReleaseApplied, .deviceLostMemory, .released])
        #expect(events[1].device == d.name)
        #expect(middle.state == .released && middle.refcount == 0)
        #expect(d.size == 8 * mib && d.lostBytes == 4 * mib && d.ranges.count == 2)
        #expect(d.ranges.map(\.pageOffset) == [0, 4 * mib / 4096], "page offsets run again")
        f.check()
    }
}
