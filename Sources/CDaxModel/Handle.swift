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
    /// The model's anchor: the context, immutable for the object's life.
    var anchor: ModelAnchor { get }
    /// Set when the address goes to C: a deleted object is then kept
    /// until the context is freed. Written and read under the lock.
    var handedOut: Bool { get set }
    /// Deleted objects answer -ENODEV; read under the context lock.
    var deleted: Bool { get }
    /// Object name for messages ("region0", "dax0.1", "dax0.1/mapping0");
    /// built under the context lock, on failure paths only.
    var label: String { get }
    var externalRefs: Atomic<Int> { get }
}

extension Region: Handle {
    var deleted: Bool { isDeleted }
    var label: String { name }
}

extension Device: Handle {
    var deleted: Bool { isDeleted }
    var label: String { name }
}

extension DeviceRange: Handle {
    var deleted: Bool { isDeleted }
    var label: String { "\(device?.name ?? "dax?")/mapping\(index)" }
}

extension Handle {
    /// The context. Every object reachable through the C ABI belongs to a
    /// bus anchored to its context (daxm_new and daxm_ctx_load make them
    /// so), and the object keeps it alive: safe without the lock.
    @inline(__always)
    var context: Context { unsafeDowncast(anchor, to: Context.self) }

    /// The address handed to C (under the context lock); from now on the
    /// object outlives its deletion until the context is freed.
    var pointer: OpaquePointer {
        if !handedOut { handedOut = true }
        return OpaquePointer(Unmanaged.passUnretained(self).toOpaque())
    }

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
/// NULL gives EINVAL; an object whose context was freed or that was
/// deleted gives ENODEV; a failure of `body` is recorded (last error, log)
/// after the lock is released. `fallback` turns the error into the C
/// return value (a negative errno, NULL or a sentinel). Nothing on the
/// success path builds a string: names and messages are made only when
/// something failed.
@inline(__always)
func with<Object: Handle, T>(
    _ handle: OpaquePointer?, _ type: Object.Type, function: StaticString = #function,
    afterPanic: Bool = false,
    fallback: (DaxErrno) -> T, _ body: (Context, Object) throws(DaxErrorBox) -> T
) -> T {
    guard let handle else { return nullHandle(Object.self, function: function, fallback: fallback) }
    // The caller vouches for the object for the length of the call, and
    // the object for its context: no retain or release is needed.
    return Unmanaged<Object>.fromOpaque(UnsafeRawPointer(handle))._withUnsafeGuaranteedRef { object in
        Unmanaged.passUnretained(object.context)._withUnsafeGuaranteedRef { context in
            context.call(function: function, afterPanic: afterPanic, fallback: fallback) { () throws(DaxErrorBox) -> T in
                guard !object.deleted else { throw deletedObject(object) }
                return try body(context, object)
            }
        }
    }
}

/// `with` for the hot calls that only read the model, or move an accepted
/// extent's pin count: `fast` runs with the context held shared, so
/// threads in such calls run side by side (`ContextLock`). It returns nil
/// where it cannot answer (a pin count at its limit, a put that may
/// complete a release); the call then runs as `with` does, exclusively,
/// and `body` gives the answer or the error. So does a call on a closed,
/// panicked or deleted object: every failure keeps its errno and message.
/// Debug builds' invariant check runs after exclusive calls only.
@inline(__always)
func withShared<Object: Handle, T>(
    _ handle: OpaquePointer?, _ type: Object.Type, function: StaticString = #function,
    fallback: (DaxErrno) -> T, fast: (Object) -> T?,
    _ body: (Context, Object) throws(DaxErrorBox) -> T
) -> T {
    if let handle {
        let answer = Unmanaged<Object>.fromOpaque(UnsafeRawPointer(handle))._withUnsafeGuaranteedRef { object in
            Unmanaged.passUnretained(object.context)._withUnsafeGuaranteedRef { context in
                context.shared { object.deleted ? nil : fast(object) }
            }
        }
        if let answer { return answer }
    }
    return with(handle, type, function: function, fallback: fallback, body)
}

/// A getter on the shared path: `read` answers both shared and, after a
/// failure check, exclusively.
@inline(__always)
func withShared<Object: Handle, T>(
    _ handle: OpaquePointer?, _ type: Object.Type, function: StaticString = #function,
    fallback: (DaxErrno) -> T, _ read: (Object) -> T
) -> T {
    withShared(handle, type, function: function, fallback: fallback, fast: read) { _, object in read(object) }
}

/// The failure of a NULL handle (cold).
@inline(never)
func nullHandle<Object, T>(_ type: Object.Type, function: StaticString, fallback: (DaxErrno) -> T) -> T {
    reportUnlogged(.invalidArgument, "\(Context.cName(function)): NULL \(String(describing: Object.self).lowercased())")
    return fallback(.invalidArgument)
}

/// The error of a deleted object (cold; built under the lock).
@inline(never)
func deletedObject(_ object: some Handle) -> DaxErrorBox {
    DaxErrorBox(.noDevice, "\(object.label) was deleted", priority: Priority.err)
}

/// Runs `body` on the context behind `handle`, under its lock.
@inline(__always)
func withContext<T>(
    _ handle: OpaquePointer?, function: StaticString = #function, afterPanic: Bool = false,
    fallback: (DaxErrno) -> T, _ body: (Context) throws(DaxErrorBox) -> T
) -> T {
    guard let context = Context.from(handle) else {
        return nullHandle(Context.self, function: function, fallback: fallback)
    }
    return context.call(function: function, afterPanic: afterPanic, fallback: fallback) { () throws(DaxErrorBox) -> T in
        try body(context)
    }
}

extension Context {
    /// Getters change nothing, so the debug invariant check skips them
    /// (walking N objects would otherwise cost O(N^2)). Debug builds only.
    static func isQuery(_ function: StaticString) -> Bool {
        let name = cName(function)
        return name.contains("_get_") || name.hasSuffix("_is_enabled") || name == "daxm_attr_read"
    }

    /// One C call: `body` under the lock, then (still locked) the memory
    /// layer's upkeep when the model says it has work and, in debug
    /// builds, the invariant check; then, unlocked, the failure report,
    /// queued log lines and the event notification. A call on a closed
    /// context (its last reference went while the caller kept an object)
    /// answers ENODEV without logging: the log function may be gone. Once
    /// the model panicked (panic_on_warn), every call but the few marked
    /// `afterPanic` answers EHOSTDOWN, the one that panicked included.
    @inline(__always)
    func call<T>(function: StaticString, afterPanic: Bool = false, fallback: (DaxErrno) -> T,
                 _ body: () throws(DaxErrorBox) -> T) -> T {
        lock.lock()
        if closed {
            lock.unlock()
            return closedCall(function: function, fallback: fallback)
        }
        if model.isPanicked, !afterPanic {
            let text = model.panic?.text ?? ""
            lock.unlock()
            return panickedCall(text, function: function, fallback: fallback)
        }
        let queued = model.pendingEventCount
        var outcome = Result { () throws(DaxErrorBox) -> T in try body() }
        if model.isPanicked, !afterPanic {
            outcome = .failure(panicDuringCall())
        }
        if model.upkeepPending { afterCall() }
        var broken: [String] = []
        #if DAXMODEL_INTERNAL_CHECKS
        if !Context.isQuery(function) { broken = model.verifyAfterCall("\(Context.cName(function))") }
        #endif
        let notes = pendingLog
        if !notes.isEmpty { pendingLog = [] }
        let notify = model.pendingEventCount > queued ? eventFn : nil
        lock.unlock()
        let result: T
        switch outcome {
        case .success(let value):
            result = value
        case .failure(let error):
            report(error, function: function)
            result = fallback(error.error.errno)
        }
        if !notes.isEmpty || !broken.isEmpty { flush(notes, broken, function: function) }
        notify?(pointer)
        return result
    }

    /// Runs `body` with the model held shared; nil, without running it,
    /// when a writer holds or waits for the lock, or the context is closed
    /// or panicked (the exclusive call then answers).
    @inline(__always)
    func shared<T>(_ body: () -> T?) -> T? {
        guard let slot = lock.lockShared() else { return nil }
        defer { lock.unlockShared(slot) }
        guard !closed, !model.isPanicked else { return nil }
        return body()
    }

    /// The call that panicked the model answers EHOSTDOWN too (cold).
    @inline(never)
    func panicDuringCall() -> DaxErrorBox {
        DaxErrorBox(.hostDown, "the host panicked: \(model.panic?.text ?? "")", priority: Priority.err)
    }

    /// A call on a panicked context (cold).
    @inline(never)
    func panickedCall<T>(_ text: String, function: StaticString, fallback: (DaxErrno) -> T) -> T {
        report(DaxErrorBox(.hostDown, "\(Context.cName(function)): the host panicked earlier: \(text)", priority: Priority.err),
               function: function)
        return fallback(.hostDown)
    }

    /// A call on a closed context (cold).
    @inline(never)
    func closedCall<T>(function: StaticString, fallback: (DaxErrno) -> T) -> T {
        reportUnlogged(.noDevice, "\(Context.cName(function)): the object's context was freed")
        return fallback(.noDevice)
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
