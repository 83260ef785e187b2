import DaxModel
import DaxModelHeader

// struct daxm_extent and the fabric-manager calls of a sparse region:
// offering groups, release requests, pins, tags.

extension Extent: Handle {
    /// Released extents stay readable; only a torn-down region deletes them.
    var deleted: Bool { isGone }
    var label: String { "\(region?.name ?? "region?")/\(name)" }
}

/// Reads a 16-byte tag from C; NULL means untagged.
func tag(from pointer: UnsafePointer<UInt8>?) -> DaxTag {
    guard let pointer else { return .untagged }
    return DaxTag(bytes: UnsafeBufferPointer(start: pointer, count: 16)) ?? .untagged
}

func copy(_ tag: DaxTag, to out: UnsafeMutablePointer<UInt8>) {
    for (i, b) in tag.bytes.enumerated() { out[i] = b }
}

@implementation @c public func daxm_region_add_extents(
    _ region: OpaquePointer?, _ specs: UnsafePointer<daxm_extent_spec>?, _ count: Int, _ flags: UInt32
) -> Int32 {
    with(region, Region.self, fallback: errnoResult) { c, r throws(DaxErrorBox) in
        if let binding = c.fabricBinding { try binding.refuseDirectCapacity(r) }
        let known = UInt32(DAXM_GROUP_MORE | DAXM_GROUP_SHAREABLE)
        guard flags & ~known == 0 else { throw DaxErrorBox(.invalidArgument, "\(r.name): unknown group flags 0x\(String(flags, radix: 16))") }
        guard count >= 0, count <= 1 << 20 else { throw DaxErrorBox(.argumentListTooLong, "\(r.name): \(count) extents in one call") }
        guard count == 0 || specs != nil else { throw DaxErrorBox(.invalidArgument, "\(r.name): specs is NULL", priority: Priority.err) }
        var offers: [ExtentOffer] = []
        if let specs {
            for i in 0..<count {
                let s = specs[i]
                guard s.reserved == 0, s.reserved2 == 0 else {
                    throw DaxErrorBox(.invalidArgument, "\(r.name): extent spec \(i) has non-zero reserved fields")
                }
                let t = withUnsafeBytes(of: s.tag) { DaxTag(bytes: $0) } ?? .untagged
                offers.append(ExtentOffer(offset: s.offset, length: s.length, tag: t, sequence: UInt32(s.sequence)))
            }
        }
        let more = flags & UInt32(DAXM_GROUP_MORE) != 0
        let shareable = flags & UInt32(DAXM_GROUP_SHAREABLE) != 0
        _ = try box { () throws(DaxError) in try r.offerExtents(offers, more: more, shareable: shareable) }
        return 0
    }
}

@implementation @c public func daxm_region_release_extents(
    _ region: OpaquePointer?, _ offset: UInt64, _ length: UInt64, _ tagBytes: UnsafePointer<UInt8>?, _ flags: UInt32
) -> Int32 {
    with(region, Region.self, fallback: errnoResult) { c, r throws(DaxErrorBox) in
        if let binding = c.fabricBinding { try binding.refuseDirectCapacity(r) }
        guard flags & ~UInt32(DAXM_RELEASE_FORCED) == 0 else {
            throw DaxErrorBox(.invalidArgument, "\(r.name): unknown release flags 0x\(String(flags, radix: 16))")
        }
        let forced = flags & UInt32(DAXM_RELEASE_FORCED) != 0
        let events = try box { () throws(DaxError) in
            try r.requestRelease(offset: offset, length: length, tag: tag(from: tagBytes), forced: forced)
        }
        if events.contains(where: { $0.kind == .forcedReleaseIgnored }) {
            c.pendingLog.append((Priority.notice, "\(r.name): forced release of 0x\(String(offset, radix: 16))+0x\(String(length, radix: 16)) logged and ignored"))
        }
        return 0
    }
}

@implementation @c public func daxm_extent_get_first(_ region: OpaquePointer?) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { _, r in r.firstExtent?.pointer }
}

@implementation @c public func daxm_extent_get_next(_ extent: OpaquePointer?) -> OpaquePointer? {
    with(extent, Extent.self, fallback: { _ in nil }) { _, e in e.region?.extent(after: e)?.pointer }
}

@implementation @c public func daxm_extent_get_by_id(_ region: OpaquePointer?, _ id: Int32) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { _, r throws(DaxErrorBox) in
        guard r.kind == .sparse else { throw DaxErrorBox(.notSupported, "\(r.name) is not sparse: it has no extents") }
        guard let e = r.extent(id: Int(id)) else { throw DaxErrorBox(.noEntry, "\(r.name) has no extent\(id)") }
        return e.pointer
    }
}

@implementation @c public func daxm_extent_get_by_offset(_ region: OpaquePointer?, _ offset: UInt64) -> OpaquePointer? {
    with(region, Region.self, fallback: { _ in nil }) { _, r throws(DaxErrorBox) in
        guard r.kind == .sparse else { throw DaxErrorBox(.notSupported, "\(r.name) is not sparse: it has no extents") }
        guard let e = r.extent(atOffset: offset) else {
            throw DaxErrorBox(.noEntry, "\(r.name) has no extent at offset 0x\(String(offset, radix: 16))")
        }
        return e.pointer
    }
}

@implementation @c public func daxm_extent_ref(_ extent: OpaquePointer?) -> OpaquePointer? { refForC(extent, Extent.self) }

@implementation @c public func daxm_extent_unref(_ extent: OpaquePointer?) { unrefForC(extent, Extent.self) }

@implementation @c public func daxm_extent_get_region(_ extent: OpaquePointer?) -> OpaquePointer? {
    with(extent, Extent.self, fallback: { _ in nil }) { _, e in e.region?.pointer }
}

@implementation @c public func daxm_extent_get_id(_ extent: OpaquePointer?) -> Int32 {
    withShared(extent, Extent.self, fallback: errnoResult) { e in Int32(truncatingIfNeeded: e.id) }
}

@implementation @c public func daxm_extent_get_offset(_ extent: OpaquePointer?) -> UInt64 {
    withShared(extent, Extent.self, fallback: { _ in .max }) { e in e.offset }
}

@implementation @c public func daxm_extent_get_length(_ extent: OpaquePointer?) -> UInt64 {
    withShared(extent, Extent.self, fallback: { _ in .max }) { e in e.length }
}

@implementation @c public func daxm_extent_get_tag(_ extent: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?) -> Int32 {
    with(extent, Extent.self, fallback: errnoResult) { _, e throws(DaxErrorBox) in
        guard let out else { throw DaxErrorBox(.invalidArgument, "\(e.label): tag buffer is NULL", priority: Priority.err) }
        copy(e.tag, to: out)
        return 0
    }
}

@implementation @c public func daxm_extent_get_sequence(_ extent: OpaquePointer?) -> Int32 {
    withShared(extent, Extent.self, fallback: errnoResult) { e in Int32(clamping: e.sequence) }
}

@implementation @c public func daxm_extent_get_refcount(_ extent: OpaquePointer?) -> Int32 {
    withShared(extent, Extent.self, fallback: errnoResult) { e in Int32(clamping: e.refcount) }
}

@implementation @c public func daxm_extent_get_state(_ extent: OpaquePointer?) -> Int32 {
    withShared(extent, Extent.self, fallback: errnoResult) { e in e.state.rawValue }
}

@implementation @c public func daxm_extent_get(_ extent: OpaquePointer?) -> Int32 {
    // Shared: threads pinning their own extents run side by side.
    withShared(extent, Extent.self, fallback: errnoResult, fast: { e in
        e.pinShared() ? 0 : nil
    }) { _, e throws(DaxErrorBox) in
        guard let r = e.region else { throw DaxErrorBox(.noDevice, "\(e.label): region is gone") }
        try box { () throws(DaxError) in try r.pin(e) }
        return 0
    }
}

@implementation @c public func daxm_extent_put(_ extent: OpaquePointer?) -> Int32 {
    // Shared but for the put that may complete a deferred release.
    withShared(extent, Extent.self, fallback: errnoResult, fast: { e in
        e.unpinShared() ? 0 : nil
    }) { _, e throws(DaxErrorBox) in
        guard let r = e.region else { throw DaxErrorBox(.noDevice, "\(e.label): region is gone") }
        try box { () throws(DaxError) in try r.unpin(e) }
        return 0
    }
}

@implementation @c public func daxm_extent_set_tag(
    _ extent: OpaquePointer?, _ tagBytes: UnsafePointer<UInt8>?, _ flags: UInt32
) -> Int32 {
    with(extent, Extent.self, fallback: errnoResult) { _, e throws(DaxErrorBox) in
        guard let tagBytes else { throw DaxErrorBox(.invalidArgument, "\(e.label): tag is NULL", priority: Priority.err) }
        guard flags & ~UInt32(DAXM_TAG_WHOLE_GROUP) == 0 else {
            throw DaxErrorBox(.invalidArgument, "\(e.label): unknown tag flags 0x\(String(flags, radix: 16))")
        }
        guard let r = e.region else { throw DaxErrorBox(.noDevice, "\(e.label): region is gone") }
        let whole = flags & UInt32(DAXM_TAG_WHOLE_GROUP) != 0
        try box { () throws(DaxError) in try r.retag(e, to: tag(from: tagBytes), wholeGroup: whole) }
        return 0
    }
}
