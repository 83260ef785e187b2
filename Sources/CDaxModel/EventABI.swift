import DaxModel
import DaxModelHeader

#if canImport(Glibc)
import Glibc
#endif

// The event queue a fabric-manager program drains. An event handed to C
// is one malloc'ed struct plus its records array and strings, all freed by
// daxm_event_free.

private func cString(_ s: String) -> UnsafePointer<CChar>? {
    s.withCString { UnsafePointer(strdup($0)) }
}

private func cEvent(_ e: DaxEvent) -> UnsafeMutablePointer<daxm_event>? {
    guard let event = malloc(MemoryLayout<daxm_event>.size)?.assumingMemoryBound(to: daxm_event.self) else { return nil }
    let n = e.records.count
    var records: UnsafeMutablePointer<daxm_extent_record>?
    if n > 0 {
        records = calloc(n, MemoryLayout<daxm_extent_record>.stride)?.assumingMemoryBound(to: daxm_extent_record.self)
        guard let records else { free(event); return nil }
        for (i, r) in e.records.enumerated() {
            var c = daxm_extent_record()
            c.offset = r.offset
            c.length = r.length
            withUnsafeMutableBytes(of: &c.tag) { raw in for (j, b) in r.tag.bytes.enumerated() { raw[j] = b } }
            c.sequence = UInt16(truncatingIfNeeded: r.sequence)
            c.result = r.result.map { -$0.rawValue } ?? 0
            c.reason = cString(r.reason)
            records[i] = c
        }
    }
    let w = e.warning
    let flags = (w?.site.once == true ? UInt32(DAXM_WARN_ONCE) : 0) | (w?.panicked == true ? UInt32(DAXM_WARN_PANIC) : 0)
    event.initialize(to: daxm_event(
        type: UInt32(bitPattern: e.kind.rawValue), region_id: Int32(truncatingIfNeeded: e.regionId),
        request_id: e.requestId, nr_records: UInt32(truncatingIfNeeded: n), reserved: 0,
        records: UnsafePointer(records), device: e.device.flatMap(cString),
        warn_file: w.flatMap { cString($0.site.file) }, warn_function: w.flatMap { cString($0.site.function) },
        warn_message: w.flatMap { cString($0.message) },
        warn_line: UInt32(truncatingIfNeeded: w.map { $0.site.line($0.profile) } ?? 0), warn_flags: flags))
    return event
}

@implementation @c public func daxm_ctx_next_event(_ ctx: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<daxm_event>?>?) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let out else { throw DaxErrorBox(.invalidArgument, "daxm_ctx_next_event: out is NULL", priority: Priority.err) }
        out.pointee = nil
        guard let e = c.model.nextEvent() else { return -Int32(EAGAIN) }
        guard let event = cEvent(e) else {
            c.model.requeueFront(e)
            throw DaxErrorBox(.noMemory, "daxm_ctx_next_event: out of memory", priority: Priority.err)
        }
        out.pointee = event
        return 0
    }
}

@implementation @c public func daxm_ctx_get_nr_events(_ ctx: OpaquePointer?) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c in Int32(clamping: c.model.pendingEventCount) }
}

@implementation @c public func daxm_event_free(_ event: UnsafeMutablePointer<daxm_event>?) {
    guard let event else { return }
    let e = event.pointee
    if let records = e.records {
        for i in 0..<Int(e.nr_records) { free(UnsafeMutableRawPointer(mutating: records[i].reason)) }
        free(UnsafeMutableRawPointer(mutating: records))
    }
    free(UnsafeMutableRawPointer(mutating: e.device))
    free(UnsafeMutableRawPointer(mutating: e.warn_file))
    free(UnsafeMutableRawPointer(mutating: e.warn_function))
    free(UnsafeMutableRawPointer(mutating: e.warn_message))
    free(event)
}
