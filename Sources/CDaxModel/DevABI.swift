import DaxModel
import DaxModelHeader

// struct daxm_dev: iteration, getters, and the size / align / mapping
// stores and binding, each one model call under the context lock.

@implementation @c public func daxm_dev_get_first(_ region: OpaquePointer?) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { _, r in r.firstDevice?.pointer }
}

@implementation @c public func daxm_dev_get_next(_ dev: OpaquePointer?) -> OpaquePointer? {
    with(dev, Device.self, fallback: { _ in nil }) { _, d in d.region?.device(after: d)?.pointer }
}

@implementation @c public func daxm_dev_get_by_name(_ ctx: OpaquePointer?, _ name: UnsafePointer<CChar>?) -> OpaquePointer? {
    withContext(ctx, fallback: { _ in nil }) { c in
        guard let name else { return nil }
        return c.model.device(named: String(decoding: sys_bytes(name, limit: 64), as: UTF8.self))?.pointer
    }
}

@implementation @c public func daxm_dev_ref(_ dev: OpaquePointer?) -> OpaquePointer? { refForC(dev, Device.self) }

@implementation @c public func daxm_dev_unref(_ dev: OpaquePointer?) { unrefForC(dev, Device.self) }

@implementation @c public func daxm_dev_get_region(_ dev: OpaquePointer?) -> OpaquePointer? {
    with(dev, Device.self, fallback: { _ in nil }) { _, d in d.region?.pointer }
}

@implementation @c public func daxm_dev_get_ctx(_ dev: OpaquePointer?) -> OpaquePointer? {
    with(dev, Device.self, fallback: { _ in nil }) { c, _ in c.pointer }
}

@implementation @c public func daxm_dev_get_id(_ dev: OpaquePointer?) -> Int32 {
    withShared(dev, Device.self, fallback: errnoResult) { d in Int32(truncatingIfNeeded: d.id) }
}

@implementation @c public func daxm_dev_get_devname(_ dev: OpaquePointer?) -> UnsafePointer<CChar>? {
    // The name is immutable: readable without the lock, even once deleted.
    guard let d = Device.from(dev) else { return nil }
    return UnsafePointer(d.nameCString)
}

@implementation @c public func daxm_dev_get_size(_ dev: OpaquePointer?) -> UInt64 {
    withShared(dev, Device.self, fallback: { _ in .max }) { d in d.size }
}

@implementation @c public func daxm_dev_set_size(_ dev: OpaquePointer?, _ size: UInt64) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        try box { () throws(DaxError) in try d.resize(to: size) }
        return 0
    }
}

@implementation @c public func daxm_dev_get_align(_ dev: OpaquePointer?) -> UInt64 {
    withShared(dev, Device.self, fallback: { _ in .max }) { d in d.align }
}

@implementation @c public func daxm_dev_set_align(_ dev: OpaquePointer?, _ align: UInt64) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        try box { () throws(DaxError) in try d.setAlign(align) }
        return 0
    }
}

@implementation @c public func daxm_dev_set_mapping(_ dev: OpaquePointer?, _ start: UInt64, _ end: UInt64) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        try box { () throws(DaxError) in try d.addMapping(start: start, last: end) }
        return 0
    }
}

@implementation @c public func daxm_dev_get_resource(_ dev: OpaquePointer?) -> UInt64 {
    withShared(dev, Device.self, fallback: { _ in .max }) { d in d.resource }
}

@implementation @c public func daxm_dev_get_target_node(_ dev: OpaquePointer?) -> Int32 {
    withShared(dev, Device.self, fallback: errnoResult) { d in Int32(clamping: d.targetNode) }
}

@implementation @c public func daxm_dev_get_nr_mappings(_ dev: OpaquePointer?) -> Int32 {
    withShared(dev, Device.self, fallback: errnoResult) { d in Int32(clamping: d.ranges.count) }
}

@implementation @c public func daxm_dev_is_enabled(_ dev: OpaquePointer?) -> Int32 {
    withShared(dev, Device.self, fallback: errnoResult) { d in d.isBound ? 1 : 0 }
}

@implementation @c public func daxm_dev_enable(_ dev: OpaquePointer?) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        try box { () throws(DaxError) in try d.enable() }
        return 0
    }
}

@implementation @c public func daxm_dev_disable(_ dev: OpaquePointer?) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        try box { () throws(DaxError) in try d.disable() }
        return 0
    }
}
