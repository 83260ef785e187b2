import DaxModel
import DaxModelHeader

#if canImport(Glibc)
import Glibc
#endif

// struct daxm_fabric: creation from a spec, references, host contexts,
// message delivery, and the fabric manager's event queue.

private let fabricSpecV1Size = UInt32(MemoryLayout<daxm_fabric_spec>.size)

@implementation @c public func daxm_fabric_spec_init(_ spec: UnsafeMutablePointer<daxm_fabric_spec>?) {
    guard let spec else { return }
    var s = daxm_fabric_spec()
    s.struct_size = fabricSpecV1Size
    s.profile = UInt32(DAXM_FABRIC_PROFILE_SPEC)
    s.num_regions = 0
    s.num_hosts = 1
    withUnsafeMutableBytes(of: &s.regions) { raw in
        let regions = raw.bindMemory(to: daxm_fabric_region.self)
        for i in regions.indices {
            regions[i] = daxm_fabric_region(base: 0, decode_len: 0, block_size: 2 << 20, supported_blk_sz_mask: 0,
                                            flags: 0, reserved: 0)
        }
    }
    s.max_extents_per_host = 512
    s.max_tags_per_host = 64
    s.event_log_depth = 64
    s.flags = 0
    spec.pointee = s
}

/// Converts the C spec, refusing what the model cannot take as given
/// (the model checks the rest, in the spec's terms).
private func deviceSpec(from c: daxm_fabric_spec) throws(FabricFailure) -> (DCDeviceSpec, revoke: Bool) {
    guard c.struct_size >= fabricSpecV1Size else {
        throw .misuse(.invalidArgument, "struct_size \(c.struct_size) is too small; call daxm_fabric_spec_init()")
    }
    guard let profile = FabricProfile(rawValue: Int32(bitPattern: c.profile)) else {
        throw .misuse(.invalidArgument, "unknown profile \(c.profile)")
    }
    let known = UInt32(DAXM_FABRIC_HOSTS_REVOKE)
    guard c.flags & ~known == 0 else {
        throw .misuse(.invalidArgument, "unknown flags 0x\(String(c.flags & ~known, radix: 16))")
    }
    guard (1...Int(DAXM_FABRIC_MAX_REGIONS)).contains(Int(c.num_regions)) else {
        throw .misuse(.invalidArgument, "a device has 1 to 8 DC regions, not \(c.num_regions)")
    }
    let regionFlags = UInt32(DAXM_FABRIC_REGION_SHARABLE | DAXM_FABRIC_REGION_READ_ONLY
                             | DAXM_FABRIC_REGION_SANITIZE | DAXM_FABRIC_REGION_SANITIZE_FIXED)
    var regions: [DCRegionSpec] = []
    var problem: FabricFailure?
    withUnsafeBytes(of: c.regions) { raw in
        for (i, r) in raw.bindMemory(to: daxm_fabric_region.self).prefix(Int(c.num_regions)).enumerated() {
            guard r.flags & ~regionFlags == 0 else {
                problem = .misuse(.invalidArgument, "region \(i): unknown flags 0x\(String(r.flags & ~regionFlags, radix: 16))")
                return
            }
            var spec = DCRegionSpec(base: r.base, decodeLength: r.decode_len, blockSize: r.block_size)
            spec.supportedBlockSizes = r.supported_blk_sz_mask
            spec.sharable = r.flags & UInt32(DAXM_FABRIC_REGION_SHARABLE) != 0
            spec.readOnly = r.flags & UInt32(DAXM_FABRIC_REGION_READ_ONLY) != 0
            spec.sanitizeOnRelease = r.flags & UInt32(DAXM_FABRIC_REGION_SANITIZE) != 0
            spec.sanitizeConfigurable = r.flags & UInt32(DAXM_FABRIC_REGION_SANITIZE_FIXED) == 0
            regions.append(spec)
        }
    }
    if let problem { throw problem }
    var spec = DCDeviceSpec(regions: regions, hostCount: Int(c.num_hosts))
    spec.maxExtentsPerHost = Int(c.max_extents_per_host)
    spec.maxTagsPerHost = Int(c.max_tags_per_host)
    spec.eventLogDepth = Int(c.event_log_depth)
    spec.profile = profile
    return (spec, c.flags & UInt32(DAXM_FABRIC_HOSTS_REVOKE) != 0)
}

@implementation @c public func daxm_fabric_new(
    _ spec: UnsafePointer<daxm_fabric_spec>?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    guard let spec, let out else {
        reportUnlogged(.invalidArgument, "daxm_fabric_new: NULL argument")
        return errnoResult(.invalidArgument)
    }
    out.pointee = nil
    switch makeFabric(spec.pointee) {
    case .success(let handle):
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
        return 0
    case .failure(let failure):
        ThreadError.set(failure.message("daxm_fabric_new"))
        return failure.code
    }
}

/// A new fabric; a construction refusal is an invalid spec (a negative
/// errno), not a command's answer.
private func makeFabric(_ c: daxm_fabric_spec) -> Result<FabricHandle, FabricFailure> {
    let s: DCDeviceSpec, revoke: Bool
    do {
        (s, revoke) = try deviceSpec(from: c)
    } catch {
        return .failure(error)
    }
    do {
        return .success(try FabricHandle(s, revoke: revoke))
    } catch {
        let errno: DaxErrno = error.code == .unsupported ? .notSupported : .invalidArgument
        return .failure(.misuse(errno, error.message))
    }
}

@implementation @c public func daxm_fabric_ref(_ fabric: OpaquePointer?) -> OpaquePointer? {
    guard let f = FabricHandle.from(fabric) else { return nil }
    f.references.wrappingAdd(1, ordering: .relaxed)
    return fabric
}

@implementation @c public func daxm_fabric_unref(_ fabric: OpaquePointer?) {
    guard let f = FabricHandle.from(fabric) else { return }
    let (_, left) = f.references.wrappingSubtract(1, ordering: .acquiringAndReleasing)
    guard left == 0 else { return }
    f.close()
    Unmanaged.passUnretained(f).release()  // the reference daxm_fabric_new took
}

@implementation @c public func daxm_fabric_get_nr_hosts(_ fabric: OpaquePointer?) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ in Int32(clamping: f.hosts.count) }
}

@implementation @c public func daxm_fabric_get_host(
    _ fabric: OpaquePointer?, _ hostId: UInt32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let out else { throw .misuse(.invalidArgument, "ctx is NULL") }
        out.pointee = nil
        guard Int(hostId) < f.hosts.count else {
            throw .misuse(.noEntry, "no host \(hostId): the fabric has \(f.hosts.count)")
        }
        let c = f.hosts[Int(hostId)]
        // A context an unbalanced daxm_unref closed gave its references
        // back: handing out a new one would release it a second time.
        guard !c.lock.withLock({ c.closed }) else {
            throw .misuse(.noDevice, "host \(hostId)'s context was closed by an unbalanced daxm_unref")
        }
        c.references.wrappingAdd(1, ordering: .relaxed)
        out.pointee = c.pointer
        return 0
    }
}

@implementation @c public func daxm_fabric_deliver(_ fabric: OpaquePointer?, _ hostId: UInt32) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, after throws(FabricFailure) in
        guard hostId < UInt32(f.hosts.count), let id = UInt16(exactly: hostId) else {
            throw .misuse(.noEntry, "no host \(hostId): the fabric has \(f.hosts.count)")
        }
        let queued = f.fabric.device.pendingFMEventCount
        let sent = f.deliver(to: id, function: #function, &after)
        f.notifyIfQueued(since: queued, &after)
        return Int32(clamping: sent)
    }
}

@implementation @c public func daxm_fabric_run(_ fabric: OpaquePointer?) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, after in
        let queued = f.fabric.device.pendingFMEventCount
        let sent = f.fabric.run { id in f.deliver(to: id, function: #function, &after) }
        f.notifyIfQueued(since: queued, &after)
        return Int32(clamping: sent)
    }
}

extension FabricHandle {
    /// The fabric's notification, for after the lock, if records were queued.
    func notifyIfQueued(since queued: Int, _ after: inout [() -> Void]) {
        guard fabric.device.pendingFMEventCount > queued, let fn = eventFn else { return }
        let p = pointer
        after.append { fn(p) }
    }
}

/// The C form of an extent record.
func cExtent(_ r: DCExtentRecord) -> daxm_fmapi_extent {
    var e = daxm_fmapi_extent()
    e.start_dpa = r.dpa
    e.len = r.length
    withUnsafeMutableBytes(of: &e.tag) { raw in
        for (j, b) in r.tag.bytes.enumerated() where j < raw.count { raw[j] = b }
    }
    e.shared_seq = r.sequence
    return e
}

@implementation @c public func daxm_fabric_next_event(
    _ fabric: OpaquePointer?, _ out: UnsafeMutablePointer<daxm_fabric_event>?
) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let out else { throw .misuse(.invalidArgument, "out is NULL") }
        guard let r = f.fabric.device.nextFMEvent() else {
            out.pointee = daxm_fabric_event()
            return -Int32(EAGAIN)  // an empty queue is not a failure: no message
        }
        out.pointee = daxm_fabric_event(
            event_type: r.type.rawValue, region_index: r.regionIndex, host_id: r.hostId,
            flags: r.more ? UInt32(DAXM_DC_EVENT_MORE) : 0, extent: cExtent(r.extent),
            num_avail_extents: r.availableExtents, num_avail_tags: r.availableTags)
        return 0
    }
}

@implementation @c public func daxm_fabric_get_log_overflows(_ fabric: OpaquePointer?, _ hostId: UInt32) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard hostId < UInt32(f.hosts.count) else {
            throw .misuse(.noEntry, "no host \(hostId): the fabric has \(f.hosts.count)")
        }
        return Int32(clamping: f.fabric.device.eventLogOverflows(host: UInt16(truncatingIfNeeded: hostId)))
    }
}

@implementation @c public func daxm_fabric_get_nr_events(_ fabric: OpaquePointer?) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ in Int32(clamping: f.fabric.device.pendingFMEventCount) }
}

@implementation @c public func daxm_fabric_set_event_fn(_ fabric: OpaquePointer?, _ fn: daxm_fabric_event_fn?) {
    withFabric(fabric, fallback: { _ in () }) { f, _ in f.eventFn = fn }
}

@implementation @c public func daxm_fabric_set_userdata(_ fabric: OpaquePointer?, _ userdata: UnsafeMutableRawPointer?) {
    withFabric(fabric, fallback: { _ in () }) { f, _ in f.userdata = userdata }
}

@implementation @c public func daxm_fabric_get_userdata(_ fabric: OpaquePointer?) -> UnsafeMutableRawPointer? {
    withFabric(fabric, fallback: { _ in nil }) { f, _ in f.userdata }
}

@implementation @c public func daxm_fabric_set_log_fn(_ fabric: OpaquePointer?, _ fn: daxm_fabric_log_fn?) {
    withFabric(fabric, fallback: { _ in () }) { f, _ in f.logFn = fn }
}

@implementation @c public func daxm_fabric_get_log_priority(_ fabric: OpaquePointer?) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ in f.priority }
}

@implementation @c public func daxm_fabric_set_log_priority(_ fabric: OpaquePointer?, _ priority: Int32) {
    withFabric(fabric, fallback: { _ in () }) { f, _ in f.priority = min(max(priority, 0), 7) }
}
