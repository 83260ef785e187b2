import DaxModel
import DaxModelHeader
import Synchronization

/// What makes a context a fabric host's (daxm_fabric_get_host): its LD
/// number and the sparse region bound to the device. Set before the
/// context is handed out, never changed.
///
/// This is where a later step hooks the hosts' shared memory: a view of a
/// device on the bound region would map each device range through the
/// fabric's physical blocks (the device knows each host extent's physical
/// start) instead of the context's private backing for the region.
struct FabricBinding {
    let hostId: UInt16
    let region: ObjectIdentifier

    /// The bound region's capacity comes only from the fabric: the calls
    /// that play the device on a sparse region are refused there. Lock held.
    func refuseDirectCapacity(_ r: Region) throws(DaxErrorBox) {
        guard ObjectIdentifier(r) == region else { return }
        throw DaxErrorBox(.notPermitted,
                          "\(r.name) is bound to fabric host \(hostId): its capacity comes from the fabric manager (daxm_fmapi_initiate_dc_add / _release)",
                          priority: Priority.err)
    }
}

/// The object behind `struct daxm_fabric *`: the fabric model (device and
/// host models), its lock, and one ordinary context per host.
///
/// Locks: `lock` guards the device and the fabric hosts' own state; each
/// host's bus is guarded by its context's lock. A delivery holds `lock`
/// and then the host's lock (fabric before host, never the reverse); calls
/// on a host context take only the host's lock.
///
/// Lifetime: `references` counts C references (daxm_fabric_new gives 1).
/// The fabric holds one C reference on each host context and the Swift
/// references in `hosts`; host contexts do not point back, so there is no
/// cycle. The last daxm_fabric_unref closes the host contexts (their calls
/// then answer ENODEV), drops its C reference on each, and frees the fabric.
final class FabricHandle: @unchecked Sendable {
    let lock = Lock()
    let references = Atomic<Int>(1)
    let fabric: Fabric
    /// Host `i`'s context, for `i` in 0..<hostCount.
    let hosts: [Context]
    // Guarded by `lock`.
    var closed = false
    var eventFn: daxm_fabric_event_fn?
    var userdata: UnsafeMutableRawPointer?
    var logFn: daxm_fabric_log_fn?
    var priority: Int32 = Priority.warning

    /// Builds the fabric and its host contexts, each holding one C
    /// reference (the fabric's) and the Swift reference that goes with it.
    init(_ spec: DCDeviceSpec, revoke: Bool) throws(FabricError) {
        var contexts: [Context] = []
        do {
            // Called only after the device accepted the spec (host count checked).
            fabric = try Fabric(spec, hostsRevokeOnForcedRelease: revoke) { _ in
                let context = Context()
                contexts.append(context)
                return context.model
            }
        } catch {
            for context in contexts { context.close() }  // breaks the region-to-context cycles
            throw error
        }
        for (i, host) in fabric.hosts.enumerated() where i < contexts.count {
            contexts[i].fabricBinding = FabricBinding(hostId: host.id, region: ObjectIdentifier(host.region))
            _ = Unmanaged.passRetained(contexts[i])  // released by the last C reference (dropCReference)
        }
        hosts = contexts
        if let env = sys_getenv("DAXM_LOG") { priority = Context.parsePriority(env) ?? priority }
    }

    /// Sends one message to the log function, or to stderr by default,
    /// when `priority` passes the filter. Call without the lock.
    func log(_ priority: Int32, _ message: String, function: String) {
        let (fn, limit) = lock.withLock { (logFn, self.priority) }
        guard priority <= limit else { return }
        if let fn {
            let p = pointer
            message.withCString { msg in
                function.withCString { f in fn(p, priority, "CDaxModel", 0, f, msg) }
            }
        } else {
            sys_stderr_write("libdaxmodel: \(function): \(message)\n")
        }
    }

    var pointer: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ handle: OpaquePointer?) -> FabricHandle? {
        guard let handle else { return nil }
        return Unmanaged<FabricHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }

    /// The last C reference went: no more commands, every host context
    /// closed (ENODEV from now on), then the fabric's C reference on each
    /// dropped. The caller releases the Swift reference daxm_fabric_new took.
    func close() {
        lock.withLock { closed = true }
        for context in hosts {
            context.close()
            context.dropCReference()
        }
    }

    /// Lets host `id` read its log and answer, under its context's lock,
    /// with that context's upkeep (memory layer, debug invariant check).
    /// The host context's log lines and event notification are appended
    /// to `after`, to run once every lock is released. A host whose context
    /// was closed or panicked is down: nothing happens. Fabric lock held.
    func deliver(to id: UInt16, function: StaticString, _ after: inout [() -> Void]) -> Int {
        guard Int(id) < hosts.count else { return 0 }
        let c = hosts[Int(id)]
        c.lock.lock()
        guard !c.closed, !c.model.isPanicked else {
            c.lock.unlock()
            return 0
        }
        let queued = c.model.pendingEventCount
        let sent = fabric.deliver(to: id)
        _ = fabric.host(id)?.takeAnswers()  // counted in `sent`; not kept
        if c.model.upkeepPending { c.afterCall() }
        var broken: [String] = []
        #if DAXMODEL_INTERNAL_CHECKS
        broken = c.model.verifyAfterCall("\(Context.cName(function)) to host \(id)")
        #endif
        let notes = c.pendingLog
        if !notes.isEmpty { c.pendingLog = [] }
        let notify = c.model.pendingEventCount > queued ? c.eventFn : nil
        c.lock.unlock()
        if !notes.isEmpty || !broken.isEmpty || notify != nil {
            after.append {
                c.flush(notes, broken, function: function)
                notify?(c.pointer)
            }
        }
        return sent
    }
}

/// A failed fabric call: misuse of the C API (a negative errno) or a
/// command the device refused (a positive CXL return code).
enum FabricFailure: Error {
    case misuse(DaxErrno, String)
    case refused(FabricError)

    /// The C return value.
    var code: Int32 {
        switch self {
        case .misuse(let e, _): -e.rawValue
        case .refused(let f): Int32(f.code.rawValue)
        }
    }

    /// Refusals are logged at LOG_INFO, as a context logs the kernel's
    /// refusals; misuse of the C API at LOG_ERR.
    var priority: Int32 {
        switch self {
        case .misuse: Priority.err
        case .refused: Priority.info
        }
    }

    /// The daxm_last_error() text (cold).
    func message(_ function: StaticString) -> String {
        switch self {
        case .misuse(_, let m): "\(Context.cName(function)): \(m)"
        case .refused(let f): "\(Context.cName(function)): \(f.code): \(f.message)"
        }
    }
}

/// Runs a device command, turning its refusal into `.refused`.
@inline(__always)
func command<T>(_ body: () throws(FabricError) -> T) throws(FabricFailure) -> T {
    do { return try body() } catch { throw .refused(error) }
}

/// Runs `body` on the fabric behind `handle`, under its lock.
///
/// NULL gives EINVAL, a fabric whose last reference went ENODEV. `after`
/// collects work for once the lock is released (host contexts' logs and
/// notifications, the fabric's own notification). A failure sets the
/// thread's last error and is logged. In debug builds a call that
/// `mutates` is followed by the device's invariant check, whose failures
/// are logged at LOG_ERR from "verifyAfterCall".
@inline(__always)
func withFabric<T>(
    _ handle: OpaquePointer?, function: StaticString = #function, mutates: Bool = false,
    fallback: (Int32) -> T, _ body: (FabricHandle, inout [() -> Void]) throws(FabricFailure) -> T
) -> T {
    guard let f = FabricHandle.from(handle) else {
        ThreadError.set("\(Context.cName(function)): NULL fabric")
        return fallback(errnoResult(.invalidArgument))
    }
    var after: [() -> Void] = []
    f.lock.lock()
    if f.closed {
        f.lock.unlock()
        ThreadError.set("\(Context.cName(function)): the fabric was freed")
        return fallback(errnoResult(.noDevice))
    }
    let outcome = Result { () throws(FabricFailure) -> T in try body(f, &after) }
    var broken: [String] = []
    #if DAXMODEL_INTERNAL_CHECKS
    if mutates { broken = f.fabric.device.checkInvariants() }
    #endif
    f.lock.unlock()
    for work in after { work() }
    for p in broken {
        f.log(Priority.err, "internal invariant broken after \(Context.cName(function)): \(p)", function: "verifyAfterCall")
    }
    switch outcome {
    case .success(let value):
        return value
    case .failure(let failure):
        let text = failure.message(function)
        ThreadError.set(text)
        f.log(failure.priority, text, function: Context.cName(function))
        return fallback(failure.code)
    }
}
