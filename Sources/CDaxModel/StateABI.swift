import DaxModel
import DaxModelHeader

// Saved state: the whole model as a versioned JSON document. The file
// rules (paths are bytes, atomic O_EXCL temporaries, read + parse, which
// document a file holds) are `StateFile`'s, shared with the fabric's
// save and load (FabricStateABI.swift).

/// A state file: what daxm_ctx_save/_load and daxm_fabric_save/_load
/// share. Messages are built on the failure path only.
enum StateFile {
    /// The documents this library writes, and who loads each.
    static let loaders = [(DaxBus.stateFormat, "a context's state (daxm_ctx_load)"),
                          (Fabric.stateFormat, "a fabric's state (daxm_fabric_load)")]

    /// A caller's path, byte for byte. A save also refuses an empty one.
    /// The message does not name the calling function.
    static func path(_ path: UnsafePointer<CChar>, saving: Bool) -> Result<SysPath, DaxError> {
        switch SysPath.from(path) {
        case .success(let p):
            if saving, p.isEmpty { return .failure(DaxError(.invalidArgument, "path is empty")) }
            return .success(p)
        case .failure(let e):
            return .failure(DaxError(e, "path is 4096 bytes or longer"))
        }
    }

    /// Writes `doc` to `file` atomically (`sys_write_atomically`).
    static func write(_ doc: JSONValue, to file: SysPath) -> DaxError? {
        let text = doc.serialized()
        guard let e = sys_write_atomically(Array(text.utf8), to: file) else { return nil }
        return DaxError(e, "\(file): cannot save the state (\(e.name))")
    }

    /// Reads and parses `file`. A document another loader takes (its
    /// `format` is one of `loaders`' but not `format`) is EINVAL naming
    /// that loader; any other format is left to the restore, which names
    /// the field.
    static func read(_ file: SysPath, format: String) -> Result<JSONValue, DaxError> {
        let bytes: [UInt8]
        switch sys_read_file(file) {
        case .success(let b): bytes = b
        case .failure(let e): return .failure(DaxError(e, "\(file): cannot read the state (\(e.name))"))
        }
        let doc: JSONValue
        switch JSONValue.parse(bytes) {
        case .success(let d): doc = d
        case .failure(let e): return .failure(DaxError(.invalidArgument, "\(file): not a JSON state document (\(e))"))
        }
        if case .string(let found)? = doc["format"], found != format,
           let (_, what) = loaders.first(where: { $0.0 == found }) {
            return .failure(DaxError(.invalidArgument,
                                     "\(file): state field format is \(found), not \(format): the file is \(what)"))
        }
        return .success(doc)
    }
}

@implementation @c public func daxm_ctx_save(_ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    withContext(ctx, afterPanic: true, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let path else { throw DaxErrorBox(.invalidArgument, "daxm_ctx_save: path is NULL", priority: Priority.err) }
        let file: SysPath
        switch StateFile.path(path, saving: true) {
        case .success(let p): file = p
        case .failure(let e): throw DaxErrorBox(e.errno, "daxm_ctx_save: \(e.message)")
        }
        if let e = StateFile.write(c.model.stateDocument(), to: file) {
            throw DaxErrorBox(e, priority: Priority.err)
        }
        return 0
    }
}

@implementation @c public func daxm_ctx_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    loadState(path, out, function: "daxm_ctx_load", format: DaxBus.stateFormat) { doc throws(DaxError) in
        try Context.restoring(doc)
    }
}

/// A load call (`daxm_ctx_load`, `daxm_fabric_load`): the state document
/// of the file at `path` in `format`, restored by `restore`; `*out` gets
/// the new object with its one C reference, or NULL. Failures set the
/// thread's last error only: there is no context to log to yet.
func loadState<Object: AnyObject>(
    _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
    function: String, format: String, _ restore: (JSONValue) throws(DaxError) -> Object
) -> Int32 {
    guard let path, let out else {
        reportUnlogged(.invalidArgument, "\(function): NULL argument")
        return errnoResult(.invalidArgument)
    }
    out.pointee = nil
    let file: SysPath
    switch StateFile.path(path, saving: false) {
    case .success(let p): file = p
    case .failure(let e):
        reportUnlogged(e.errno, "\(function): \(e.message)")
        return errnoResult(e.errno)
    }
    let doc: JSONValue
    switch StateFile.read(file, format: format) {
    case .success(let d): doc = d
    case .failure(let e):
        reportUnlogged(e.errno, e.message)
        return errnoResult(e.errno)
    }
    let object: Object
    do {
        object = try restore(doc)
    } catch {
        reportUnlogged(error.errno, "\(file): \(error.message)")
        return errnoResult(error.errno)
    }
    out.pointee = OpaquePointer(Unmanaged.passRetained(object).toOpaque())
    return 0
}
