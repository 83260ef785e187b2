import DaxModel
import DaxModelHeader

// struct daxm_mapping: one device range (mappingK), read-only.

@implementation @c public func daxm_mapping_get_first(_ dev: OpaquePointer?) -> OpaquePointer? {
    with(dev, Device.self, fallback: { _ in nil }) { _, d in d.ranges.first?.pointer }
}

@implementation @c public func daxm_mapping_get_next(_ mapping: OpaquePointer?) -> OpaquePointer? {
    with(mapping, DeviceRange.self, fallback: { _ in nil }) { _, m in
        guard let d = m.device, m.index + 1 < d.ranges.count else { return nil }
        return d.ranges[m.index + 1].pointer
    }
}

@implementation @c public func daxm_mapping_ref(_ mapping: OpaquePointer?) -> OpaquePointer? { refForC(mapping, DeviceRange.self) }

@implementation @c public func daxm_mapping_unref(_ mapping: OpaquePointer?) { unrefForC(mapping, DeviceRange.self) }

@implementation @c public func daxm_mapping_get_dev(_ mapping: OpaquePointer?) -> OpaquePointer? {
    with(mapping, DeviceRange.self, fallback: { _ in nil }) { _, m in m.device?.pointer }
}

@implementation @c public func daxm_mapping_get_id(_ mapping: OpaquePointer?) -> Int32 {
    withShared(mapping, DeviceRange.self, fallback: errnoResult) { m in Int32(truncatingIfNeeded: m.index) }
}

@implementation @c public func daxm_mapping_get_start(_ mapping: OpaquePointer?) -> UInt64 {
    withShared(mapping, DeviceRange.self, fallback: { _ in .max }) { m in m.start }
}

@implementation @c public func daxm_mapping_get_end(_ mapping: OpaquePointer?) -> UInt64 {
    withShared(mapping, DeviceRange.self, fallback: { _ in .max }) { m in m.last }
}

@implementation @c public func daxm_mapping_get_size(_ mapping: OpaquePointer?) -> UInt64 {
    withShared(mapping, DeviceRange.self, fallback: { _ in .max }) { m in m.length }
}

@implementation @c public func daxm_mapping_get_offset(_ mapping: OpaquePointer?) -> UInt64 {
    withShared(mapping, DeviceRange.self, fallback: { _ in .max }) { m in m.pageOffset }
}
