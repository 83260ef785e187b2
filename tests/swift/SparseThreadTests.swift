import Dispatch
import DaxModelHeader
import Synchronization
import Testing

/// Release racing with allocation from several threads, through the C ABI:
/// counts stay exact and no event is lost.
@Suite struct SparseThreadTests {
    static let brokenInvariants = Atomic<Int>(0)

    @Test func releaseRacingWithAllocation() throws {
        var ctxOut: OpaquePointer?
        #expect(daxm_new(&ctxOut) == 0)
        let ctx = try #require(ctxOut)
        defer { daxm_unref(ctx) }
        daxm_set_log_priority(ctx, 3)
        daxm_set_log_fn(ctx) { _, _, _, _, _, msg in
            if let msg, String(cString: msg).contains("internal invariant") {
                SparseThreadTests.brokenInvariants.wrappingAdd(1, ordering: .relaxed)
            }
        }
        var spec = daxm_region_spec()
        daxm_region_spec_init(&spec)
        spec.kind = UInt32(DAXM_REGION_SPARSE)
        spec.start = 0x40_0000_0000
        spec.size = 1 << 30
        var regionOut: OpaquePointer?
        #expect(daxm_region_new(ctx, &spec, &regionOut) == 0)
        let region = SendablePointer(try #require(regionOut))
        let mib: UInt64 = 1 << 20
        let untagged = [UInt8](repeating: 0, count: 16)

        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var seed = UInt64(worker + 1) &* 0x9E37_79B9_7F4A_7C15
            func next(_ n: UInt64) -> UInt64 {
                seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
                return seed % n
            }
            for _ in 0..<400 {
                switch worker {
                case 0, 1:  // the device side: offer groups and ask for capacity back
                    if next(2) == 0 {
                        var ext = daxm_extent_spec()
                        ext.offset = next(256) * 4 * mib
                        ext.length = (1 + next(4)) * 2 * mib
                        _ = daxm_region_add_extents(region.p, &ext, 1, 0)
                    } else {
                        _ = daxm_region_release_extents(region.p, next(1024) * mib, (1 + next(16)) * mib, nil, 0)
                    }
                case 2:  // a caller pinning extents
                    if let e = daxm_extent_get_first(region.p) {
                        if daxm_extent_get(e) == 0 { _ = daxm_extent_put(e) }
                    }
                default:  // jobs: create, allocate untagged, free, destroy
                    var dev: OpaquePointer?
                    guard daxm_region_create_dev(region.p, &dev) == 0, let dev else { continue }
                    _ = untagged.withUnsafeBufferPointer { daxm_dev_set_tag(dev, $0.baseAddress) }
                    _ = daxm_dev_set_size(dev, (1 + next(4)) * 2 * mib)
                    _ = daxm_dev_set_size(dev, 0)
                    _ = daxm_region_destroy_dev(region.p, dev)
                }
            }
        }

        // Every device is gone or empty now; pending releases must have completed.
        var accepted = 0, released = 0
        var event: UnsafeMutablePointer<daxm_event>?
        while daxm_ctx_next_event(ctx, &event) == 0, let e = event {
            let records = UnsafeBufferPointer(start: e.pointee.records, count: Int(e.pointee.nr_records))
            let named = records.filter { $0.result == 0 && $0.reason.map { $0.pointee == 0 } ?? true }.count
            if e.pointee.type == UInt32(DAXM_EVENT_GROUP) { accepted += named }
            if e.pointee.type == UInt32(DAXM_EVENT_RELEASED) { released += named }
            daxm_event_free(e)
        }
        var remaining = 0
        var extent = daxm_extent_get_first(region.p)
        while let e = extent {
            #expect(daxm_extent_get_state(e) == DAXM_EXTENT_ACCEPTED, "no release may stay pending")
            #expect(daxm_extent_get_refcount(e) == 0)
            remaining += 1
            extent = daxm_extent_get_next(e)
        }
        #expect(accepted > 50 && released > 10, "the race must actually happen (accepted \(accepted), released \(released))")
        #expect(accepted - released == remaining, "every extent that left was reported exactly once")
        #expect(SparseThreadTests.brokenInvariants.load(ordering: .relaxed) == 0)
    }
}

/// The event notification: called after calls that queued events, without
/// the lock, so it can drain the queue from inside.
@Suite struct EventCallbackTests {
    static let calls = Atomic<Int>(0)
    static let drained = Atomic<Int>(0)

    @Test func notifiesAndMayDrainFromInside() throws {
        var ctx: OpaquePointer?
        #expect(daxm_new(&ctx) == 0)
        defer { daxm_unref(ctx) }
        daxm_set_event_fn(ctx) { c in
            EventCallbackTests.calls.wrappingAdd(1, ordering: .relaxed)
            var e: UnsafeMutablePointer<daxm_event>?
            while daxm_ctx_next_event(c, &e) == 0 {
                EventCallbackTests.drained.wrappingAdd(1, ordering: .relaxed)
                daxm_event_free(e)
            }
        }
        var spec = daxm_region_spec()
        daxm_region_spec_init(&spec)
        spec.kind = UInt32(DAXM_REGION_SPARSE)
        spec.start = 0x50_0000_0000
        spec.size = 1 << 30
        var region: OpaquePointer?
        #expect(daxm_region_new(ctx, &spec, &region) == 0)
        #expect(EventCallbackTests.calls.load(ordering: .relaxed) == 0, "no event, no call")
        var ext = daxm_extent_spec()
        ext.length = 4 << 20
        #expect(daxm_region_add_extents(region, &ext, 1, UInt32(DAXM_GROUP_MORE)) == 0)
        #expect(EventCallbackTests.calls.load(ordering: .relaxed) == 0, "a staged group answers nothing yet")
        #expect(daxm_region_add_extents(region, nil, 0, 0) == 0)
        #expect(EventCallbackTests.calls.load(ordering: .relaxed) == 1)
        #expect(daxm_region_release_extents(region, 0, 4 << 20, nil, 0) == 0)
        #expect(EventCallbackTests.calls.load(ordering: .relaxed) == 2)
        #expect(EventCallbackTests.drained.load(ordering: .relaxed) == 2 && daxm_ctx_get_nr_events(ctx) == 0)
        daxm_set_event_fn(ctx, nil)
        #expect(daxm_region_release_extents(region, 0, 4 << 20, nil, 0) == 0)
        #expect(EventCallbackTests.calls.load(ordering: .relaxed) == 2 && daxm_ctx_get_nr_events(ctx) == 1)
    }
}

/// A C handle shared by worker threads; the library is thread-safe.
private struct SendablePointer: @unchecked Sendable {
    let p: OpaquePointer
    init(_ p: OpaquePointer) { self.p = p }
}
