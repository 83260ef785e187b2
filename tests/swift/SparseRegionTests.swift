import Testing
@testable import DaxModel

/// Sparse regions against the host-side statements of the DCD reference
/// (dcd-spec.md §5, numbered "S<n>") and ndctl's cxl-dcd.sh scenarios
/// (ndctl.md §4.6, "X-<nn>"), plus the seed review's points.
@Suite struct SparseRegionTests {
    typealias F = SparseFixture
    let mib = SparseFixture.mib

    // MARK: groups and acceptance

    @Test("S4 S5 S22 X-15: a group stays staged until the record without More")
    func stagingUntilTheGroupCloses() throws {
        let f = try F()
        #expect(try f.region.offerExtents([F.offer(0, 4)], more: true) == nil)
        #expect(try f.region.offerExtents([F.offer(8, 4)], more: true) == nil)
        #expect(f.region.extents.isEmpty && f.region.availableSize == 0 && f.model.pendingEventCount == 0)
        let answer = try #require(try f.region.offerExtents([F.offer(16, 4)], more: false))
        #expect(answer.kind == .groupAnswered && answer.records.count == 3)
        #expect(answer.records.allSatisfy { $0.result == nil })
        #expect(f.region.extents.count == 3 && f.region.availableSize == 12 * mib)
        f.check()
    }

    @Test("S6: a group with nothing acceptable is answered with no accepted extent")
    func allRejected() throws {
        let f = try F()
        let answer = try f.group([F.offer(1, 4), F.offer(2048, 4)])
        #expect(answer.records.map(\.result) == [.invalidArgument, .outOfRange])
        #expect(f.region.extents.isEmpty)
    }

    @Test("S24: one group with tags A and B; a bad B is dropped, A is accepted")
    func acceptanceIsPerTagGroup() throws {
        let f = try F()
        let answer = try f.group([F.offer(0, 4, F.tagA), F.offer(8, 4, F.tagB), F.offer(13, 2, F.tagB), F.offer(16, 4, F.tagA)])
        #expect(answer.records.map(\.result) == [nil, .canceled, .invalidArgument, nil])
        #expect(f.region.extents.map(\.tag) == [F.tagA, F.tagA])
        f.check()
    }

    @Test("S25 X-26: an extent not 2 MiB aligned drops its whole tag group")
    func misalignedDropsTheGroup() throws {
        let f = try F()
        var bad = F.offer(4, 2, F.tagA)
        bad.offset += mib  // 1 MiB aligned only
        let answer = try f.group([F.offer(0, 2, F.tagA), bad])
        #expect(answer.records.map(\.result) == [.canceled, .invalidArgument])
        #expect(f.region.extents.isEmpty)
    }

    @Test("S26 X-24: a later group cannot add to an existing tag, even in another region")
    func tagsAreUniqueHostWide() throws {
        let f = try F()
        try f.group([F.offer(0, 4, F.tagA)])
        #expect(try f.group([F.offer(8, 4, F.tagA)]).records.first?.result == .exists)
        var spec = RegionSpec(start: 0x20_0000_0000, size: 1 << 30)
        spec.kind = .sparse
        let other = try f.model.addRegion(spec)
        let answer = try #require(try other.offerExtents([F.offer(0, 4, F.tagA)], more: false))
        #expect(answer.records.first?.result == .exists)
        let d = try f.device(tag: nil)
        try d.claimTag(F.tagA)
        #expect(d.size == 4 * mib, "the original allocation can still be claimed")
        f.check()
    }

    @Test("S27 X-25: a shareable group's sequence numbers must run 0..n-1",
          arguments: [([0, 1, 2], true), ([2, 0, 1], true), ([0, 2, 3], false), ([0, 0, 1], false), ([1, 2, 3], false)])
    func shareableSequences(seqs: [UInt32], accepted: Bool) throws {
        let f = try F()
        let offers = seqs.enumerated().map { F.offer(UInt64($0.offset) * 8, 4, F.tagA, seq: $0.element) }
        let answer = try f.group(offers, shareable: true)
        #expect(answer.records.allSatisfy { ($0.result == nil) == accepted })
        #expect(f.region.extents.count == (accepted ? 3 : 0))
    }

    @Test("S28 S32: claim lays a shareable group out by sequence, others by arrival")
    func claimLayout() throws {
        let f = try F()
        try f.group([F.offer(0, 4, F.tagA, seq: 1), F.offer(64, 2, F.tagA, seq: 0)], shareable: true)
        try f.group([F.offer(128, 4, F.tagB, seq: 1), F.offer(256, 2, F.tagB, seq: 0)])
        let a = try f.device(tag: nil)
        try a.claimTag(F.tagA)
        #expect(a.ranges.map(\.start) == [0x10_0000_0000 + 64 * mib, 0x10_0000_0000])
        #expect(a.size == 6 * mib && a.tag == F.tagA)
        let b = try f.region.createDevice()
        try b.claimTag(F.tagB)
        #expect(b.ranges.map(\.start) == [0x10_0000_0000 + 128 * mib, 0x10_0000_0000 + 256 * mib])
        #expect(b.ranges.map(\.pageOffset) == [0, 4 * mib / 4096])
        f.check()
    }

    @Test("S30 X-13: contained offers are accepted again as no-ops, partial overlaps rejected")
    func overlaps() throws {
        let f = try F()
        try f.group([F.offer(0, 8)])
        let answer = try f.group([F.offer(2, 2), F.offer(6, 4), F.offer(32, 4), F.offer(34, 4)])
        #expect(answer.records.map(\.result) == [nil, .busy, nil, .busy])
        #expect(f.region.extents.map(\.length) == [8 * mib, 4 * mib], "the contained one created nothing")
        // Contained in an extent of another tag, or in a releasing one of
        // the same tag: refused, nothing created.
        try f.group([F.offer(64, 8, F.tagA)])
        #expect(try f.group([F.offer(66, 2, F.tagB)]).records.map(\.result) == [.busy], "another tag")
        #expect(try f.group([F.offer(2, 2, F.tagA)]).records.map(\.result) == [.busy], "inside an untagged extent")
        try f.region.pin(try #require(f.extent(at: 0)))
        try f.region.requestRelease(offset: 0, length: 8 * mib)
        #expect(f.extent(at: 0)?.state == .releasing)
        #expect(try f.group([F.offer(2, 2)]).records.map(\.result) == [.busy], "inside a releasing extent")
        #expect(f.region.extents.map(\.length) == [8 * mib, 4 * mib, 8 * mib])
        f.check()
    }

    @Test func groupAndRegionLimits() throws {
        let f = try F(maxPerGroup: 3, maxExtents: 4)
        #expect(try f.region.offerExtents([F.offer(0, 2), F.offer(2, 2)], more: true) == nil)
        #expect(errnoOf { _ = try f.region.offerExtents([F.offer(4, 2), F.offer(6, 2)], more: true) } == .argumentListTooLong)
        let answer = try #require(try f.region.offerExtents([F.offer(4, 2)], more: false))
        #expect(answer.records.count == 3, "the refused call staged nothing")
        let second = try f.group([F.offer(8, 2), F.offer(10, 2)])
        #expect(second.records.map(\.result) == [nil, .noSpace])
        f.check()
    }

    @Test("a tag group the region's extent limit cannot hold whole is rejected whole (found by tests/fuzz/fabric.c)")
    func tagGroupOverLimit() throws {
        let f = try F(maxPerGroup: 8, maxExtents: 4)
        let a = F.tagA, b = F.tagB
        #expect(try f.group([F.offer(0, 2)]).records.map(\.result) == [nil])
        // 3 places left: the untagged extent takes one, tag a needs 3 (rejected
        // whole), tag b needs 2 (fits), the last untagged finds none.
        let answer = try f.group([F.offer(2, 2), F.offer(4, 2, a), F.offer(6, 2, a), F.offer(8, 2, a),
                                  F.offer(10, 2, b), F.offer(12, 2, b), F.offer(14, 2)])
        #expect(answer.records.map(\.result) == [nil, .noSpace, .noSpace, .noSpace, nil, nil, .noSpace])
        #expect(f.region.extents.count == 4 && !f.region.extents.contains { $0.tag == a })
        f.check()
    }

    // MARK: tag-aware allocation

    @Test("Seed review: an old client that only writes size fails with EOPNOTSUPP")
    func sizingWithoutATagFailsLoudly() throws {
        let f = try F()
        try f.group([F.offer(0, 64)])
        let d = try f.region.createDevice()
        let error = #expect(throws: DaxError.self) { try d.resize(to: 2 * mib) }
        #expect(error?.errno == .notSupported)
        #expect(error?.message.contains("tag") == true)
        #expect(errnoOf { try d.resize(to: 0) } == nil, "writing the current size 0 still works")
    }

    @Test("Seed review: allocation is bounded by tag")
    func allocationIsBoundedByTag() throws {
        let f = try F()
        try f.group([F.offer(0, 8, F.tagA)])
        try f.group([F.offer(64, 64, F.tagB)])
        try f.group([F.offer(256, 4)])
        let a = try f.device(tag: F.tagA)
        #expect(errnoOf { try a.resize(to: 10 * mib) } == .noSpace, "other tags' room does not count")
        try a.resize(to: 8 * mib)
        #expect(a.ranges.allSatisfy { $0.extent?.tag == F.tagA })
        let u = try f.device(tag: .untagged)
        #expect(errnoOf { try u.resize(to: 6 * mib) } == .noSpace)
        try u.resize(to: 4 * mib)
        #expect(u.ranges.first?.extent?.tag == .untagged)
        #expect(f.region.availableSize == 64 * mib)
        f.check()
    }

    @Test("X-11 X-12: shrink and reuse inside and across extents, first fit in acceptance order")
    func shrinkAndReuse() throws {
        let f = try F()
        try f.group([F.offer(64, 64)])
        try f.group([F.offer(0, 64)])  // accepted second, lower address
        let d1 = try f.device(tag: .untagged)
        try d1.resize(to: 128 * mib)
        #expect(d1.ranges.map(\.start) == [0x10_0000_0000 + 64 * mib, 0x10_0000_0000], "acceptance order, not address")
        try d1.resize(to: 32 * mib)
        let d2 = try f.device(tag: .untagged)
        try d2.resize(to: 96 * mib)
        try d2.resize(to: 48 * mib)
        let d3 = try f.device(tag: .untagged)
        try d3.resize(to: 48 * mib)
        #expect(f.region.availableSize == 0)
        #expect(errnoOf { _ = try f.region.createDevice() } == .noSpace, "X-10: nothing left to create in")
        f.check()
    }

    @Test func tagCannotChangeWhileSized() throws {
        let f = try F()
        try f.group([F.offer(0, 8, F.tagA)])
        let d = try f.device(tag: F.tagA)
        try d.resize(to: 2 * mib)
        #expect(errnoOf { try d.selectTag(F.tagB) } == .busy)
        try d.resize(to: 0)
        try d.selectTag(F.tagB)
        #expect(d.tag == F.tagB)
    }

    @Test("S2 S32 X-18..X-23: claiming by tag")
    func claims() throws {
        let f = try F()
        try f.group([F.offer(0, 64)])
        try f.group([F.offer(64, 64)])
        try f.group([F.offer(128, 32, F.tagA), F.offer(192, 32, F.tagA)])
        let d1 = try f.region.createDevice()
        #expect(errnoOf { try d1.claimTag(F.tagC) } == .noEntry, "X-20: unknown tag")
        #expect(d1.size == 0)
        try d1.claimTag(.untagged)
        #expect(d1.size == 64 * mib && d1.ranges.count == 1, "S2: one untagged extent per claim")
        let d2 = try f.region.createDevice()
        try d2.claimTag(F.tagA)
        #expect(d2.size == 64 * mib && d2.ranges.count == 2)
        let d3 = try f.region.createDevice()
        #expect(errnoOf { try d3.claimTag(F.tagA) } == .busy, "already claimed")
        // A pin alone keeps a group from being claimed, too.
        try f.group([F.offer(256, 2, F.tagB)])
        try f.region.pin(try #require(f.extent(at: 256)))
        #expect(errnoOf { try d3.claimTag(F.tagB) } == .busy, "a pinned group")
        #expect(d3.size == 0 && d3.tag == nil)
        try f.region.unpin(try #require(f.extent(at: 256)))
        try f.region.requestRelease(offset: 256 * mib, length: 2 * mib, tag: F.tagB)
        try d3.claimTag(.untagged)
        #expect(errnoOf { _ = try f.region.createDevice() } == .noSpace)
        let d0 = try #require(f.region.device(id: 0))
        #expect(errnoOf { try d0.claimTag(.untagged) } == .busy, "X-22: no untagged extent left")
        #expect(errnoOf { try d0.resize(to: 2 * mib) } == .notSupported, "X-22: plain sizing needs a tag")
        f.check()
    }

    // MARK: release

    @Test("X-07 X-08 S33: a release touching part of extents releases them whole")
    func partialRangeReleasesWholeExtents() throws {
        let f = try F()
        try f.group([F.offer(0, 64)])
        try f.group([F.offer(64, 64)])
        let events = try f.region.requestRelease(offset: 32 * mib, length: 64 * mib)
        #expect(events.map(\.kind) == [.released], "one event per request")
        #expect(events.flatMap(\.records).map(\.length) == [64 * mib, 64 * mib])
        #expect(f.region.extents.isEmpty)
    }

    @Test("S33 X-27: a tagged release takes the whole group; a wrong tag releases nothing")
    func tagGroupRelease() throws {
        let f = try F()
        try f.group([F.offer(0, 4, F.tagA), F.offer(64, 4, F.tagA), F.offer(128, 4, F.tagA)])
        #expect(errnoOf { _ = try f.region.requestRelease(offset: 64 * mib, length: 2 * mib, tag: F.tagB) } == .invalidArgument)
        #expect(errnoOf { _ = try f.region.requestRelease(offset: 64 * mib, length: 2 * mib) } == .invalidArgument)
        #expect(f.region.extents.count == 3)
        let d = try f.region.createDevice()
        try d.claimTag(F.tagA)
        let events = try f.region.requestRelease(offset: 64 * mib, length: 2 * mib, tag: F.tagA)
        #expect(events.map(\.kind) == [.releaseDeferred], "S34: deferred while a device holds it")
        #expect(events.first?.records.count == 3)
        try d.resize(to: 0)
        #expect(f.region.extents.isEmpty)
        let released = f.drain().filter { $0.kind == .released }
        #expect(released.count == 1 && released.first?.records.count == 3,
                "the three extents the shrink gave back: one released event for the request")
        #expect(released.first?.requestId == events.first?.requestId)
        #expect(!f.model.tagExists(F.tagA), "a released tag can be offered again")
        f.check()
    }

    /// The event rule: one event per request for what it releases at once,
    /// one deferred event for what waits; later completions, one event per
    /// call, with the request id that deferred them.
    @Test("release events: one per request and call, listing every extent")
    func releaseEventsPerRequest() throws {
        let f = try F()
        try f.group([F.offer(0, 4, F.tagA), F.offer(64, 4, F.tagA), F.offer(128, 4, F.tagA)])
        let pinned = try #require(f.region.extents.first { $0.offset == 64 * mib })
        let last = try #require(f.region.extents.first { $0.offset == 128 * mib })
        try f.region.pin(pinned)
        try f.region.pin(last)
        _ = f.drain()
        let events = try f.region.requestRelease(offset: 0, length: 2 * mib, tag: F.tagA)
        #expect(events.map(\.kind) == [.releaseDeferred, .released])
        #expect(events.map(\.records.count) == [2, 1])
        #expect(Set(events.map(\.requestId)).count == 1)
        #expect(f.drain().count == 2, "the request's events are queued too")
        try f.region.unpin(pinned)
        try f.region.unpin(last)
        let later = f.drain()
        #expect(later.map(\.kind) == [.released, .released], "two calls: two events")
        #expect(later.allSatisfy { $0.records.count == 1 && $0.requestId == events[0].requestId })
        f.check()
    }

    /// claim_tag's range order: by sequence number in a shareable group,
    /// by acceptance (offer) order otherwise, whatever the sequence fields
    /// and addresses say.
    @Test("claim order: sequence for shareable groups, acceptance order otherwise")
    func claimOrder() throws {
        for shareable in [true, false] {
            let f = try F()
            // Offered high address first; sequences 0, 2, 1.
            try f.group([F.offer(256, 2, F.tagA, seq: 0), F.offer(0, 4, F.tagA, seq: 2), F.offer(128, 6, F.tagA, seq: 1)],
                        shareable: shareable)
            let d = try f.region.createDevice()
            try d.claimTag(F.tagA)
            let starts = d.ranges.map { ($0.start - f.region.start) / mib }
            #expect(starts == (shareable ? [256, 128, 0] : [256, 0, 128]), "shareable \(shareable): \(starts)")
            f.check()
        }
    }

    @Test("S36 S37: forced releases are ignored; unknown ranges acknowledged")
    func forcedAndUnknown() throws {
        let f = try F()
        try f.group([F.offer(0, 4)])
        #expect(try f.region.requestRelease(offset: 0, length: 4 * mib, forced: true).map(\.kind) == [.forcedReleaseIgnored])
        #expect(try f.region.requestRelease(offset: 100 * mib, length: 4 * mib, forced: true).map(\.kind) == [.released])
        #expect(f.region.extents.count == 1)
    }

    // MARK: writable tags

    @Test func retagging() throws {
        let f = try F()
        try f.group([F.offer(0, 4, F.tagA), F.offer(64, 4, F.tagA)])
        try f.group([F.offer(128, 4, F.tagB)])
        let a0 = try #require(f.extent(at: 0))
        #expect(errnoOf { try f.region.retag(a0, to: F.tagB, wholeGroup: false) } == .exists)
        try f.region.retag(a0, to: F.tagC, wholeGroup: true)
        #expect(f.region.extents.map(\.tag) == [F.tagC, F.tagC, F.tagB])
        #expect(!f.model.tagExists(F.tagA))
        let d = try f.device(tag: F.tagC)
        try d.resize(to: 2 * mib)
        #expect(errnoOf { try f.region.retag(a0, to: F.tagA, wholeGroup: true) } == .busy, "referenced extents keep their tag")
        let b = try #require(f.extent(at: 128))
        try f.region.retag(b, to: .untagged, wholeGroup: false)
        #expect(b.tag == .untagged)
        f.check()
    }

    /// Growth never extends a range across an extent boundary: adjacent
    /// extents of one tag are separate extents, each holding its own
    /// reference, so the next piece is a new range (the grow-in-place
    /// rule applies inside one extent only). The size is exactly the size
    /// asked, every time.
    @Test("Growth across adjacent extents of one tag takes a new range in the next extent")
    func growthAcrossAdjacentExtents() throws {
        let f = try F()
        try f.group([F.offer(0, 2, F.tagA, seq: 0), F.offer(2, 4, F.tagA, seq: 1)], shareable: true)
        try f.group([F.offer(100, 2)])
        try f.group([F.offer(102, 2)])
        let a = try f.device(tag: F.tagA)
        try a.resize(to: 4 * F.mib)
        #expect(a.size == 4 * F.mib)
        #expect(a.ranges.map(\.span.length) == [2 * F.mib, 2 * F.mib])
        #expect(a.ranges.map { $0.extent?.offset } == [0, 2 * F.mib])
        #expect(f.extent(at: 0)?.refcount == 1 && f.extent(at: 2)?.refcount == 1)
        try a.resize(to: 6 * F.mib)  // the second range grows in place inside its extent
        #expect(a.size == 6 * F.mib && a.ranges.count == 2)
        #expect(a.ranges.last?.span.length == 4 * F.mib && f.extent(at: 2)?.refcount == 1)
        try a.resize(to: 2 * F.mib)
        #expect(a.size == 2 * F.mib && a.ranges.count == 1 && f.extent(at: 2)?.refcount == 0)
        let u = try f.device(tag: .untagged)
        try u.resize(to: 4 * F.mib)  // untagged extents of two groups, adjacent
        #expect(u.size == 4 * F.mib && u.ranges.count == 2)
        #expect(f.extent(at: 100)?.refcount == 1 && f.extent(at: 102)?.refcount == 1)
        // Released one at a time: each goes with its own reference.
        try f.region.requestRelease(offset: 102 * F.mib, length: 2 * F.mib)
        #expect(f.extent(at: 102)?.state == .releasing)
        try u.resize(to: 2 * F.mib)
        #expect(f.extent(at: 102) == nil && f.extent(at: 100)?.refcount == 1)
        f.check()
    }

    /// A group whose untagged extent is refused keeps the rest: only a
    /// tagged extent's refusal takes its tag group along (S24, S25).
    @Test("A rejected untagged extent does not cancel the rest of its group")
    func rejectedUntaggedExtentCancelsNothing() throws {
        let f = try F()
        let answer = try f.group([F.offer(0, 2), F.offer(4, 3), F.offer(10, 2), F.offer(20, 2, F.tagA)])
        #expect(answer.records.map(\.result) == [nil, .invalidArgument, nil, nil])
        #expect(f.region.extents.map(\.offset) == [0, 10 * F.mib, 20 * F.mib])
        f.check()
    }
}
