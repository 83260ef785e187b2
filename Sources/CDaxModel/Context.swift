import DaxModel
import DaxModelHeader

/// Syslog priorities (syslog.h) the log uses.
enum Priority {
    static let err: Int32 = 3
    static let notice: Int32 = 5
    static let info: Int32 = 6
    static let debug: Int32 = 7
}

/// A `DaxError` with the syslog priority it is logged at; the error type
/// every entry point's body throws.
struct DaxErrorBox: Error {
    var error: DaxError
    var priority: Int32

    init(_ error: DaxError, priority: Int32 = Priority.info) {
        self.error = error
        self.priority = priority
    }

    init(_ errno: DaxErrno, _ message: String, priority: Int32 = Priority.info) {
        self.init(DaxError(errno, message), priority: priority)
    }
}

/// The object behind `struct daxm_ctx *`: the model, its lock, the log
/// settings. Its Swift reference count is the C reference count: daxm_new
/// hands out +1, daxm_ref retains, daxm_unref releases; deinit tears the
/// model down so objects the caller still references answer -ENODEV.
final class Context: @unchecked Sendable {
    let model = DaxModel()
    let lock = Lock()
    // Guarded by `lock`.
    var logFn: daxm_log_fn?
    var priority: Int32 = Priority.err
    var userdata: UnsafeMutableRawPointer?

    init() {
        model.owner = self
        if let env = sys_getenv("DAXM_LOG") { priority = Context.parsePriority(env) ?? priority }
    }

    deinit { model.tearDown() }

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer?) -> Context? {
        guard let handle else { return nil }
        return Unmanaged<Context>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    static func parsePriority(_ s: String) -> Int32? {
        switch s.lowercased() {
        case "err": Priority.err
        case "notice": Priority.notice
        case "info": Priority.info
        case "debug": Priority.debug
        default: Int32(s).map { min(max($0, 0), 7) }
        }
    }

    /// Records a failure: the thread's last error, then the log (called
    /// with the lock released, so a log function may re-enter).
    func report(_ box: DaxErrorBox, function: StaticString) {
        ThreadError.set(box.error.message)
        let (fn, prio) = lock.withLock { (logFn, priority) }
        guard box.priority <= prio else { return }
        let fname = String(describing: function)
        if let fn {
            let ctxPointer = pointer
            box.error.message.withCString { msg in
                fname.withCString { f in fn(ctxPointer, box.priority, "CDaxModel", 0, f, msg) }
            }
        } else {
            sys_stderr_write("libdaxmodel: \(fname): \(box.error.message)\n")
        }
    }
}
