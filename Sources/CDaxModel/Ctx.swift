import DaxModel
import DaxModelHeader

// struct daxm_ctx: lifetime, logging, userdata, last error, version.

@implementation @c public func daxm_new(_ ctx: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let ctx else {
        reportUnlogged(.invalidArgument, "daxm_new: ctx is NULL")
        return errnoResult(.invalidArgument)
    }
    ctx.pointee = OpaquePointer(Unmanaged.passRetained(Context()).toOpaque())
    return 0
}

@implementation @c public func daxm_ref(_ ctx: OpaquePointer?) -> OpaquePointer? {
    guard let context = Context.from(ctx) else { return nil }
    context.references.wrappingAdd(1, ordering: .relaxed)
    return ctx
}

@implementation @c public func daxm_unref(_ ctx: OpaquePointer?) {
    Context.from(ctx)?.dropCReference()
}

@implementation @c public func daxm_set_log_fn(_ ctx: OpaquePointer?, _ fn: daxm_log_fn?) {
    withContext(ctx, afterPanic: true, fallback: { _ in () }) { c in c.logFn = fn }
}

@implementation @c public func daxm_set_event_fn(_ ctx: OpaquePointer?, _ fn: daxm_event_fn?) {
    withContext(ctx, afterPanic: true, fallback: { _ in () }) { c in c.eventFn = fn }
}

@implementation @c public func daxm_get_log_priority(_ ctx: OpaquePointer?) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c in c.priority }
}

@implementation @c public func daxm_set_log_priority(_ ctx: OpaquePointer?, _ priority: Int32) {
    withContext(ctx, afterPanic: true, fallback: { _ in () }) { c in c.priority = min(max(priority, 0), 7) }
}

@implementation @c public func daxm_set_userdata(_ ctx: OpaquePointer?, _ userdata: UnsafeMutableRawPointer?) {
    withContext(ctx, afterPanic: true, fallback: { _ in () }) { c in c.userdata = userdata }
}

@implementation @c public func daxm_get_userdata(_ ctx: OpaquePointer?) -> UnsafeMutableRawPointer? {
    withContext(ctx, afterPanic: true, fallback: { _ in nil }) { c in c.userdata }
}

private let emptyString: StaticString = ""
private let versionString: StaticString = "0.1.0"

@implementation @c public func daxm_last_error() -> UnsafePointer<CChar>? {
    ThreadError.get() ?? UnsafeRawPointer(emptyString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@implementation @c public func daxm_clear_last_error() { ThreadError.clear() }

@implementation @c public func daxm_get_version() -> UnsafePointer<CChar>? {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}
