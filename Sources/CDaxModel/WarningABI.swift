import DaxModel
import DaxModelHeader

// Kernel warnings: panic_on_warn, the panic itself, clear_warn_once. The
// warnings arrive as events (EventABI.swift) and log lines (afterCall).

@implementation @c public func daxm_set_panic_on_warn(_ ctx: OpaquePointer?, _ on: Int32) -> Int32 {
    withContext(ctx, fallback: errnoResult) { c in
        c.model.setPanicOnWarn(on != 0)
        return 0
    }
}

@implementation @c public func daxm_get_panic_on_warn(_ ctx: OpaquePointer?) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c in c.model.panicOnWarn ? 1 : 0 }
}

@implementation @c public func daxm_ctx_get_panic(_ ctx: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard buf != nil || len == 0 else {
            throw DaxErrorBox(.invalidArgument, "daxm_ctx_get_panic: buf is NULL with len \(len)", priority: Priority.err)
        }
        guard let panic = c.model.panic else { return 0 }
        if let buf, len > 0 {
            var n = 0
            for b in panic.text.utf8 where n < len - 1 {
                buf[n] = CChar(bitPattern: b)
                n += 1
            }
            buf[n] = 0
        }
        return 1
    }
}

@implementation @c public func daxm_clear_warn_once(_ ctx: OpaquePointer?) -> Int32 {
    withContext(ctx, fallback: errnoResult) { c in
        c.model.clearWarnOnce()
        return 0
    }
}
