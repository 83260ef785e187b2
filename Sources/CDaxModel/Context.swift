import DaxModel
import DaxModelHeader
import Synchronization

/// Syslog priorities (syslog.h) the log uses.
enum Priority {
    static let err: Int32 = 3
    static let warning: Int32 = 4
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
/// settings. `references` is the C reference count (daxm_new gives 1,
/// daxm_ref adds, daxm_unref drops); the last daxm_unref tears the model
/// down under the lock at once (`closed`), so objects the caller still
/// references answer -ENODEV even while other threads are inside calls,
/// and then drops the Swift reference daxm_new took.
///
/// It is its model's anchor: every region, device, range and extent holds
/// it strongly, so a call reaches the context from a handle with one load,
/// and a context outlives every object a caller still references.
final class Context: ModelAnchor, @unchecked Sendable {
    /// Replaced only while the context is private to its maker (load).
    private(set) var model: DaxBus
    let lock = ContextLock()
    let references = Atomic<Int>(1)
    // Guarded by `lock` (written exclusively; shared calls read `closed`).
    /// The last C reference went: the model is torn down.
    var closed = false
    var logFn: daxm_log_fn?
    var priority: Int32 = Priority.warning
    var userdata: UnsafeMutableRawPointer?
    var eventFn: daxm_event_fn?
    /// Emulated memory per region id (backing files), and live views.
    var backings: [Int: Int32] = [:]
    var views: [ObjectIdentifier: View] = [:]
    /// Messages produced under the lock, logged once it is released.
    var pendingLog: [(Int32, String)] = []
    /// Set on a fabric host's context (FabricABI.swift) before it is
    /// handed out, and never changed after.
    var fabricBinding: FabricBinding?

    override init() {
        model = DaxBus()
        super.init()
        model.anchor(to: self)
        if let env = sys_getenv("DAXM_LOG") { priority = Context.parsePriority(env) ?? priority }
    }

    /// A new context holding the model a state document describes.
    static func restoring(_ doc: JSONValue) throws(DaxError) -> Context {
        let context = Context()
        context.model = try DaxBus.restore(from: doc, anchor: context)
        return context
    }

    /// Makes `bus`, restored with this context as its anchor (a fabric
    /// host's bus, `Fabric.restore(from:hostAnchor:)`), the context's
    /// model. Only while the context is private to its maker (a load); the
    /// empty model it had goes.
    func adopt(_ bus: DaxBus) {
        model = bus
    }

    deinit {
        model.tearDown()
        for fd in backings.values { sys_close(fd) }  // live views keep their pages
    }

    /// The last C reference is gone: tear the model down now. The views
    /// table goes too (a view holds its device, which holds the context).
    /// Views keep their pages, except a fabric host's views of the
    /// device's memory: a host that is down reaches it no more.
    func close() {
        lock.withLock {
            if fabricBinding != nil { revokeFabricViews() }
            model.tearDown()
            closed = true
            views = [:]
        }
    }

    /// Drops one C reference (daxm_unref). The last one closes the model
    /// and releases the Swift reference the first C reference holds
    /// (daxm_new's, or a fabric's for a host context).
    func dropCReference() {
        let (_, left) = references.wrappingSubtract(1, ordering: .acquiringAndReleasing)
        guard left == 0 else { return }
        close()
        Unmanaged.passUnretained(self).release()
    }

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer?) -> Context? {
        guard let handle else { return nil }
        return Unmanaged<Context>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// "daxm_attr_write" from Swift's "daxm_attr_write(_:_:_:)".
    static func cName(_ function: StaticString) -> String {
        let s = String(describing: function)
        return String(s.prefix { $0 != "(" })
    }

    static func parsePriority(_ s: String) -> Int32? {
        switch s.lowercased() {
        case "err": Priority.err
        case "warning", "warn": Priority.warning
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
        log(box.priority, box.error.message, function: Context.cName(function))
    }

    /// Sends one message to the log function, or to stderr by default,
    /// when `priority` passes the context's filter. Takes the lock only to
    /// read the settings: the callback runs unlocked.
    func log(_ priority: Int32, _ message: String, function: String) {
        let (fn, limit) = lock.withLock { (logFn, self.priority) }
        guard priority <= limit else { return }
        if let fn {
            let ctxPointer = pointer
            message.withCString { msg in
                function.withCString { f in fn(ctxPointer, priority, "CDaxModel", 0, f, msg) }
            }
        } else {
            sys_stderr_write("libdaxmodel: \(function): \(message)\n")
        }
    }

    /// Logs what a call left behind (notes, then internal invariant
    /// failures of debug builds at LOG_ERR). Call without the lock.
    func flush(_ notes: [(Int32, String)], _ problems: [String], function: StaticString) {
        for (prio, text) in notes { log(prio, text, function: Context.cName(function)) }
        for p in problems { log(Priority.err, p, function: "verifyAfterCall") }
    }

    /// Tells the embedder that events were queued. Call without the lock.
    func notify(_ fn: daxm_event_fn?) {
        fn?(pointer)
    }
}
