import DaxModel
import DaxModelHeader

// Saved state: the whole model as a versioned JSON document.

@implementation @c public func daxm_ctx_save(_ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let path else { throw DaxErrorBox(.invalidArgument, "daxm_ctx_save: path is NULL", priority: Priority.err) }
        let file: SysPath
        switch SysPath.from(path) {
        case .success(let p): file = p
        case .failure(let e): throw DaxErrorBox(e, "daxm_ctx_save: path is 4096 bytes or longer")
        }
        guard !file.isEmpty else { throw DaxErrorBox(.invalidArgument, "daxm_ctx_save: path is empty") }
        let text = c.model.stateDocument().serialized()
        if let e = sys_write_atomically(Array(text.utf8), to: file) {
            throw DaxErrorBox(e, "\(file): cannot save the state (\(e.name))", priority: Priority.err)
        }
        return 0
    }
}

@implementation @c public func daxm_ctx_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let path, let out else {
        reportUnlogged(.invalidArgument, "daxm_ctx_load: NULL argument")
        return errnoResult(.invalidArgument)
    }
    out.pointee = nil
    let file: SysPath
    switch SysPath.from(path) {
    case .success(let p): file = p
    case .failure(let e):
        reportUnlogged(e, "daxm_ctx_load: path is 4096 bytes or longer")
        return errnoResult(e)
    }
    let bytes: [UInt8]
    switch sys_read_file(file) {
    case .success(let b): bytes = b
    case .failure(let e):
        reportUnlogged(e, "\(file): cannot read the state (\(e.name))")
        return errnoResult(e)
    }
    let doc: JSONValue
    switch JSONValue.parse(bytes) {
    case .success(let d): doc = d
    case .failure(let e):
        reportUnlogged(.invalidArgument, "\(file): not a JSON state document (\(e))")
        return errnoResult(.invalidArgument)
    }
    let context: Context
    do {
        context = try Context.restoring(doc)
    } catch {
        reportUnlogged(error.errno, "\(file): \(error.message)")
        return errnoResult(error.errno)
    }
    out.pointee = OpaquePointer(Unmanaged.passRetained(context).toOpaque())
    return 0
}
