import DaxModel
import DaxModelHeader
import Synchronization

/// What makes a context a fabric host's (daxm_fabric_get_host): its LD
/// number, the sparse region bound to the device, the device's memory and
/// this host's decoding of it (FabricMemory.swift). Set before the context
/// is handed out, never changed (the table's contents are, under the
/// host's lock, by the fabric only).
///
/// A view of a device on the bound region maps the fabric's memory through
/// `table`, not a private backing of the context: hosts sharing a tag see
/// the same bytes.
struct FabricBinding {
    let hostId: UInt16
    let region: ObjectIdentifier
    let memory: FabricMemory
    let table = HostMemoryTable()

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
/// on a host context take only the host's lock (and the memory's, a leaf).
/// What a host's views need of the device (its decoding) is pushed to the
/// host under both locks whenever the device changes it: inside a
/// delivery, before the host's lock is released, and after every command
/// (`syncMemory`).
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
    /// The device's memory, shared with the host bindings.
    let memory: FabricMemory
    /// Per host, the device's `memoryStamp(host:)` last pushed to it, and
    /// the device-wide stamp when every host was last checked.
    var pushedStamps: [UInt64]
    var pushedAll: UInt64 = 0

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
        memory = FabricMemory(span: fabric.device.dpaSpan)
        pushedStamps = [UInt64](repeating: 0, count: contexts.count)
        for (i, host) in fabric.hosts.enumerated() where i < contexts.count {
            contexts[i].fabricBinding = FabricBinding(hostId: host.id, region: ObjectIdentifier(host.region), memory: memory)
            _ = Unmanaged.passRetained(contexts[i])  // released by the last C reference (dropCReference)
        }
        hosts = contexts
        if let env = sys_getenv("DAXM_LOG") { priority = Context.parsePriority(env) ?? priority }
    }

    /// Rebuilds a fabric and its host contexts from a state document
    /// (daxm_fabric_load): one new context per host, anchoring the host's
    /// restored bus and then holding it as its model, bound and retained
    /// as `init(_:revoke:)` does. A refused document leaves nothing: the
    /// contexts made for the hosts restored before the refusal are only
    /// referenced from here and from their half-built buses, which the
    /// model drops (and tears down) when it throws.
    init(restoring doc: JSONValue) throws(DaxError) {
        var made: [UInt16: Context] = [:]
        fabric = try Fabric.restore(from: doc) { id in
            let context = Context()
            made[id] = context
            return context
        }
        var contexts: [Context] = []
        for host in fabric.hosts {
            // Fabric.restore anchors every host's bus to a context of ours.
            guard let context = made[host.id], host.bus.anchor === context else {
                throw DaxError(.invalidArgument, "host \(host.id)'s restored bus is not anchored to its context")
            }
            contexts.append(context)
        }
        // The bytes are not part of a state (as a context's emulated
        // memory is not): the loaded device's memory starts zeroed, with
        // nothing left to discard, and every host gets its decoding now,
        // before any host call can map.
        memory = FabricMemory(span: fabric.device.dpaSpan)
        _ = fabric.device.takeSanitizedSpans()
        pushedStamps = [UInt64](repeating: .max, count: contexts.count)
        for (context, host) in zip(contexts, fabric.hosts) {
            context.adopt(host.bus)
            context.fabricBinding = FabricBinding(hostId: host.id, region: ObjectIdentifier(host.region), memory: memory)
            _ = Unmanaged.passRetained(context)  // released by the last C reference (dropCReference)
        }
        hosts = contexts
        if let env = sys_getenv("DAXM_LOG") { priority = Context.parsePriority(env) ?? priority }
        for (i, context) in contexts.enumerated() { pushMemoryMap(to: context, host: UInt16(truncatingIfNeeded: i)) }
        pushedAll = fabric.device.memoryStamp
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
        pushMemoryMap(to: c, host: id)  // before any host call can map what it accepted
        if c.model.upkeepPending { c.afterCall() }
        var broken: [String] = []
        #if DAXMODEL_INTERNAL_CHECKS
        broken = c.model.verifyAfterCall("\(Context.cName(function)) to host \(id)")
        broken += fabric.deliveryMismatches(host: id).map { "after delivery: \($0)" }
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
    if mutates { f.syncMemory(function: function, &after) }
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
