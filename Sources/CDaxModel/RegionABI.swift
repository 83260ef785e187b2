import DaxModel
import DaxModelHeader

// struct daxm_region: creation from a spec, iteration, getters, and the
// region's create / seed / delete.

private let specV1Size = UInt32(MemoryLayout<daxm_region_spec>.size)

@implementation @c public func daxm_region_spec_init(_ spec: UnsafeMutablePointer<daxm_region_spec>?) {
    guard let spec else { return }
    spec.pointee = daxm_region_spec(
        struct_size: specV1Size, id: -1, kind: UInt32(DAXM_REGION_DYNAMIC), profile: UInt32(DAXM_PROFILE_6_12),
        start: 0, size: 0, align: UInt64(Region.compatAlign), target_node: -1, numa_node: -1, dev_id: 0, flags: 0,
        max_extents_per_group: 100, max_extents: 1 << 20)
}

/// Converts the C spec, refusing unknown values rather than guessing.
private func regionSpec(from c: daxm_region_spec) throws(DaxErrorBox) -> RegionSpec {
    guard c.struct_size >= specV1Size else {
        throw DaxErrorBox(.invalidArgument, "region spec: struct_size \(c.struct_size) is too small; call daxm_region_spec_init()")
    }
    guard let kind = RegionKind(rawValue: Int32(bitPattern: c.kind)) else {
        throw DaxErrorBox(.invalidArgument, "region spec: unknown kind \(c.kind)")
    }
    guard let profile = KernelProfile(rawValue: Int32(bitPattern: c.profile)) else {
        throw DaxErrorBox(.invalidArgument, "region spec: unknown profile \(c.profile)")
    }
    let known = UInt32(DAXM_REGION_IDLE | DAXM_REGION_UNBOUND | DAXM_REGION_REVOKE | DAXM_REGION_NO_SANITIZE)
    guard c.flags & ~known == 0 else {
        throw DaxErrorBox(.invalidArgument, "region spec: unknown flags 0x\(String(c.flags & ~known, radix: 16))")
    }
    guard c.id >= -1 else { throw DaxErrorBox(.invalidArgument, "region spec: id \(c.id) is negative") }
    var spec = RegionSpec(start: c.start, size: c.size)
    spec.id = c.id == -1 ? nil : Int(c.id)
    spec.kind = kind
    spec.profile = profile
    spec.align = c.align
    spec.targetNode = Int(max(c.target_node, -1))
    spec.numaNode = Int(max(c.numa_node, -1))
    spec.staticDeviceId = Int(c.dev_id)
    spec.idle = c.flags & UInt32(DAXM_REGION_IDLE) != 0
    spec.unbound = c.flags & UInt32(DAXM_REGION_UNBOUND) != 0
    spec.revokeOnForcedRelease = c.flags & UInt32(DAXM_REGION_REVOKE) != 0
    spec.sanitizeOnRelease = c.flags & UInt32(DAXM_REGION_NO_SANITIZE) == 0
    spec.maxExtentsPerGroup = Int(c.max_extents_per_group)
    spec.maxExtents = Int(c.max_extents)
    return spec
}

@implementation @c public func daxm_region_new(
    _ ctx: OpaquePointer?, _ spec: UnsafePointer<daxm_region_spec>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    withContext(ctx, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let spec else { throw DaxErrorBox(.invalidArgument, "daxm_region_new: spec is NULL", priority: Priority.err) }
        let s = try regionSpec(from: spec.pointee)
        let region = try box { () throws(DaxError) in try c.model.addRegion(s) }
        out?.pointee = region.pointer
        return 0
    }
}

@implementation @c public func daxm_region_get_first(_ ctx: OpaquePointer?) -> OpaquePointer? {
    withContext(ctx, fallback: { _ in nil }) { c in c.model.firstRegion?.pointer }
}

@implementation @c public func daxm_region_get_next(_ region: OpaquePointer?) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { c, r in c.model.region(after: r)?.pointer }
}

@implementation @c public func daxm_region_get_by_id(_ ctx: OpaquePointer?, _ id: Int32) -> OpaquePointer? {
    withContext(ctx, fallback: { _ in nil }) { c in c.model.region(id: Int(id))?.pointer }
}

@implementation @c public func daxm_region_ref(_ region: OpaquePointer?) -> OpaquePointer? { refForC(region, Region.self) }

@implementation @c public func daxm_region_unref(_ region: OpaquePointer?) { unrefForC(region, Region.self) }

@implementation @c public func daxm_region_get_ctx(_ region: OpaquePointer?) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { c, _ in c.pointer }
}

@implementation @c public func daxm_region_get_id(_ region: OpaquePointer?) -> Int32 {
    withShared(region, Region.self, fallback: errnoResult) { r in Int32(truncatingIfNeeded: r.id) }
}

@implementation @c public func daxm_region_get_kind(_ region: OpaquePointer?) -> Int32 {
    withShared(region, Region.self, fallback: errnoResult) { r in r.kind.rawValue }
}

@implementation @c public func daxm_region_get_profile(_ region: OpaquePointer?) -> Int32 {
    withShared(region, Region.self, fallback: errnoResult) { r in r.profile.rawValue }
}

@implementation @c public func daxm_region_get_start(_ region: OpaquePointer?) -> UInt64 {
    withShared(region, Region.self, fallback: { _ in .max }) { r in r.start }
}

@implementation @c public func daxm_region_get_size(_ region: OpaquePointer?) -> UInt64 {
    withShared(region, Region.self, fallback: { _ in .max }) { r in r.size }
}

@implementation @c public func daxm_region_get_align(_ region: OpaquePointer?) -> UInt64 {
    withShared(region, Region.self, fallback: { _ in .max }) { r in r.align }
}

@implementation @c public func daxm_region_get_available_size(_ region: OpaquePointer?) -> UInt64 {
    withShared(region, Region.self, fallback: { _ in .max }) { r in r.availableSize }
}

@implementation @c public func daxm_region_get_target_node(_ region: OpaquePointer?) -> Int32 {
    withShared(region, Region.self, fallback: errnoResult) { r in Int32(clamping: r.targetNode) }
}

@implementation @c public func daxm_region_create_dev(
    _ region: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    with(region, Region.self, fallback: errnoResult) { _, r throws(DaxErrorBox) in
        let device = try box { () throws(DaxError) in try r.createDevice() }
        out?.pointee = device.pointer
        return 0
    }
}

@implementation @c public func daxm_region_get_dev_seed(_ region: OpaquePointer?) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { _, r in r.seed?.pointer }
}

@implementation @c public func daxm_region_get_dev_youngest(_ region: OpaquePointer?) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { _, r in r.youngest?.pointer }
}

@implementation @c public func daxm_region_destroy_dev(_ region: OpaquePointer?, _ dev: OpaquePointer?) -> Int32 {
    with(region, Region.self, fallback: errnoResult) { _, r throws(DaxErrorBox) in
        guard let d = Device.from(dev) else {
            throw DaxErrorBox(.invalidArgument, "daxm_region_destroy_dev: dev is NULL", priority: Priority.err)
        }
        guard d.region === r else {
            throw DaxErrorBox(.noDeviceOrAddress, "\(r.name): \(d.name) is not a device of this region")
        }
        guard !d.isDeleted else { throw DaxErrorBox(.noDevice, "\(d.name) was deleted", priority: Priority.err) }
        try box { () throws(DaxError) in try r.deleteDevice(d) }
        return 0
    }
}
