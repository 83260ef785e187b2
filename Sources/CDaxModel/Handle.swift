import DaxModel
import DaxModelHeader
import Synchronization

/// A model object handed to C as an opaque pointer: `struct daxm_region *`,
/// `struct daxm_dev *`, `struct daxm_mapping *`.
///
/// The pointer is the object itself (`Unmanaged`), borrowed from the model;
/// `daxm_*_ref` retains it and counts in `externalRefs`, so an unbalanced
/// unref is refused instead of freeing memory the model still uses.
protocol Handle: AnyObject {
    /// The context, or nil once it is gone (weak chain; safe unlocked).
    var context: Context? { get }
    /// Deleted objects answer -ENODEV; read under the context lock.
    var deleted: Bool { get }
    /// Object name for messages ("region0", "dax0.1", "dax0.1/mapping0").
    var label: String { get }
    var externalRefs: Atomic<Int> { get }
}

extension Region: Handle {
    var context: Context? { model?.owner as? Context }
    var deleted: Bool { isDeleted }
    var label: String { name }
}

extension Device: Handle {
    var context: Context? { region?.model?.owner as? Context }
    var deleted: Bool { isDeleted }
    var label: String { name }
}

extension DeviceRange: Handle {
    var context: Context? { device?.region?.model?.owner as? Context }
    var deleted: Bool { isDeleted }
    var label: String { "\(device?.name ?? "dax?")/mapping\(index)" }
}

extension Handle {
    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer?) -> Self? {
        guard let handle else { return nil }
        return Unmanaged<Self>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    func retainForC() {
        externalRefs.wrappingAdd(1, ordering: .relaxed)
        _ = Unmanaged.passUnretained(self).retain()
    }

    /// Drops one reference taken by `retainForC`; false if there was none.
    func releaseForC() -> Bool {
        var current = externalRefs.load(ordering: .relaxed)
        while current > 0 {
            let (exchanged, original) = externalRefs.compareExchange(
                expected: current, desired: current - 1, ordering: .acquiringAndReleasing)
            if exchanged {
                Unmanaged.passUnretained(self).release()
                return true
            }
            current = original
        }
        return false
    }
}

/// `daxm_<object>_ref`: retain for C; NULL stays NULL.
func refForC<Object: Handle>(_ handle: OpaquePointer?, _ type: Object.Type) -> OpaquePointer? {
    Object.from(handle)?.retainForC()
    return handle
}

/// `daxm_<object>_unref`: drop one C reference; an unbalanced call is ignored.
func unrefForC<Object: Handle>(_ handle: OpaquePointer?, _ type: Object.Type) {
    _ = Object.from(handle)?.releaseForC()
}

/// Sets the thread's last error for a failure that has no context to log to.
func reportUnlogged(_ errno: DaxErrno, _ message: String) {
    ThreadError.set(message)
}

/// Runs `body` with the object behind `handle`, under its context's lock.
///
/// NULL gives EINVAL; an object whose context is gone or that was deleted
/// gives ENODEV; a failure of `body` is recorded (last error, log) after
/// the lock is released. `fallback` turns the error into the C return
/// value (a negative errno, NULL or a sentinel).
func with<Object: Handle, T>(
    _ handle: OpaquePointer?, _ type: Object.Type, function: StaticString = #function,
    fallback: (DaxErrno) -> T, _ body: (Context, Object) throws(DaxErrorBox) -> T
) -> T {
    guard let object = Object.from(handle) else {
        reportUnlogged(.invalidArgument, "\(function): NULL \(String(describing: Object.self).lowercased())")
        return fallback(.invalidArgument)
    }
    guard let context = object.context else {
        reportUnlogged(.noDevice, "\(function): \(object.label) was deleted")
        return fallback(.noDevice)
    }
    return context.call(function: function, label: object.label, fallback: fallback) { () throws(DaxErrorBox) -> T in
        guard !object.deleted else {
            throw DaxErrorBox(.noDevice, "\(object.label) was deleted", priority: Priority.err)
        }
        return try body(context, object)
    }
}

/// Runs `body` on the context behind `handle`, under its lock.
func withContext<T>(
    _ handle: OpaquePointer?, function: StaticString = #function,
    fallback: (DaxErrno) -> T, _ body: (Context) throws(DaxErrorBox) -> T
) -> T {
    guard let context = Context.from(handle) else {
        reportUnlogged(.invalidArgument, "\(function): NULL context")
        return fallback(.invalidArgument)
    }
    return context.call(function: function, label: nil, fallback: fallback) { () throws(DaxErrorBox) -> T in
        try body(context)
    }
}

extension Context {
    /// Getters change nothing, so the debug invariant check skips them
    /// (walking N objects would otherwise cost O(N^2)).
    static func isQuery(_ function: StaticString) -> Bool {
        let name = cName(function)
        return name.contains("_get_") || name.hasSuffix("_is_enabled") || name == "daxm_attr_read"
    }

    /// One C call: `body` under the lock, then (still locked) the memory
    /// layer's upkeep and, in debug builds, the invariant check; then,
    /// unlocked, the failure report, queued log lines and the event
    /// notification.
    func call<T>(function: StaticString, label: String?, fallback: (DaxErrno) -> T,
                 _ body: () throws(DaxErrorBox) -> T) -> T {
        var broken: [String] = []
        var notes: [(Int32, String)] = []
        var notify: daxm_event_fn?
        defer {
            flush(notes, broken, function: function)
            self.notify(notify)
        }
        do {
            return try lock.withLock { () throws(DaxErrorBox) -> T in
                let queued = model.pendingEventCount
                defer {
                    afterCall()
                    if !Context.isQuery(function) {
                        broken = model.verifyAfterCall(label.map { "\(function) on \($0)" } ?? "\(function)")
                    }
                    notes = pendingLog
                    pendingLog = []
                    if model.pendingEventCount > queued { notify = eventFn }
                }
                return try body()
            }
        } catch {
            report(error, function: function)
            return fallback(error.error.errno)
        }
    }
}

/// EOPNOTSUPP refusals are logged at LOG_ERR: an old client sizing a
/// sparse-region device without a tag must fail loudly.
func box<T>(_ body: () throws(DaxError) -> T) throws(DaxErrorBox) -> T {
    do { return try body() } catch {
        throw DaxErrorBox(error, priority: error.errno == .notSupported ? Priority.err : Priority.info)
    }
}

/// C return value of an action: 0 or a negative errno.
func errnoResult(_ e: DaxErrno) -> Int32 { -e.rawValue }
