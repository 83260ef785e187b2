import DaxModel
import DaxModelHeader

// The FM API Dynamic Capacity commands (5600h-5608h), one C call each,
// with libcxlmi's request and response structs. Each call converts the
// request, runs the device's command under the fabric lock and writes the
// response only on success; variable-length payloads are bounded by the
// size the caller passes.

/// Byte offset of the flexible array of `E` after the named fields of
/// `H`: C's offsetof, which for every struct here equals sizeof(H) (the C
/// test checks both). Swift imports the struct without the array, so its
/// size may stop before the array's alignment.
@inline(__always)
func flexOffset<H, E>(_: H.Type, _: E.Type) -> Int {
    let a = MemoryLayout<E>.alignment
    return (MemoryLayout<H>.size + a - 1) / a * a
}

/// Bytes of an `H` with `n` entries of `E` (DAXM_FMAPI_SIZE), nil on overflow.
func flexSize<H, E>(_ h: H.Type, _ e: E.Type, _ n: Int) -> Int? {
    let (entries, o1) = n.multipliedReportingOverflow(by: MemoryLayout<E>.stride)
    let (total, o2) = flexOffset(h, e).addingReportingOverflow(entries)
    return o1 || o2 ? nil : total
}

/// Reads `n` extent records following a request header of type `H`,
/// after checking that `size` bytes hold them.
private func readExtents<H>(_ request: UnsafePointer<H>, size: Int, count n: Int) throws(FabricFailure) -> [DCExtentRecord] {
    guard let need = flexSize(H.self, daxm_fmapi_extent.self, n), size >= need else {
        throw .misuse(.invalidArgument, "in_size \(size) cannot hold ext_count \(n) extents")
    }
    let base = UnsafeRawPointer(request) + flexOffset(H.self, daxm_fmapi_extent.self)
    var out: [DCExtentRecord] = []
    out.reserveCapacity(n)
    for k in 0..<n {
        let e = base.loadUnaligned(fromByteOffset: k * MemoryLayout<daxm_fmapi_extent>.stride, as: daxm_fmapi_extent.self)
        out.append(DCExtentRecord(dpa: e.start_dpa, length: e.len, tag: dcTag(e.tag), sequence: e.shared_seq))
    }
    return out
}

/// The tag of a 16-byte C field.
private func dcTag<T>(_ field: T) -> DaxTag {
    withUnsafeBytes(of: field) { DaxTag(bytes: $0) } ?? .untagged
}

/// Checks that a response of `size` bytes holds `n` entries of `E`.
private func requireRoom<H, E>(_ h: H.Type, _ e: E.Type, _ n: Int, _ size: Int, _ what: String) throws(FabricFailure) {
    guard let need = flexSize(h, e, n), size >= need else {
        throw .misuse(.outOfRange, "ret_size \(size) cannot hold \(what) \(n) entries")
    }
}

@implementation @c public func daxm_fmapi_get_dcd_info(
    _ fabric: OpaquePointer?, _ ret: UnsafeMutablePointer<daxm_fmapi_get_dcd_info_rsp>?
) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let ret else { throw .misuse(.invalidArgument, "ret is NULL") }
        let info = f.fabric.device.getDCDInfo()
        var r = daxm_fmapi_get_dcd_info_rsp()
        r.num_hosts = UInt8(clamping: info.numHosts)
        r.num_supported_dc_regions = UInt8(clamping: info.numRegions)
        r.capacity_selection_policies = info.addSelectionPolicies
        r.capacity_removal_policies = info.releaseRemovalPolicies
        r.sanitize_on_release_config_mask = info.sanitizeConfigMask
        let (bytes, overflow) = info.totalCapacity.multipliedReportingOverflow(by: DCRegionSpec.unit)
        r.total_dynamic_capacity = overflow ? .max : bytes
        let m = info.blockSizeMasks + [UInt64](repeating: 0, count: max(0, 8 - info.blockSizeMasks.count))
        r.region_0_supported_blk_sz_mask = m[0]
        r.region_1_supported_blk_sz_mask = m[1]
        r.region_2_supported_blk_sz_mask = m[2]
        r.region_3_supported_blk_sz_mask = m[3]
        r.region_4_supported_blk_sz_mask = m[4]
        r.region_5_supported_blk_sz_mask = m[5]
        r.region_6_supported_blk_sz_mask = m[6]
        r.region_7_supported_blk_sz_mask = m[7]
        ret.pointee = r
        return 0
    }
}

@implementation @c public func daxm_fmapi_get_dc_reg_config(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_get_host_dc_region_config_req>?,
    _ ret: UnsafeMutablePointer<daxm_fmapi_get_host_dc_region_config_rsp>?
) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request, let ret else { throw .misuse(.invalidArgument, "in or ret is NULL") }
        let q = request.pointee
        let cfg = try command { () throws(FabricError) in
            try f.fabric.device.getHostRegionConfig(host: q.host_id, regionCount: Int(q.region_cnt),
                                                     startRegion: Int(q.start_region_id))
        }
        var r = daxm_fmapi_get_host_dc_region_config_rsp()
        r.host_id = cfg.hostId
        r.num_regions = UInt8(clamping: cfg.availableRegions)
        let shown = cfg.regions.prefix(8)
        r.regions_returned = UInt8(truncatingIfNeeded: shown.count)
        withUnsafeMutablePointer(to: &r.region_configs) { tuple in
            tuple.withMemoryRebound(to: daxm_fmapi_dc_region_config.self, capacity: 8) { slots in
                for (k, g) in shown.enumerated() {
                    var c = daxm_fmapi_dc_region_config()
                    c.base = g.base
                    c.decode_len = g.length  // bytes, as libcxlmi returns it (the payload's is in 256 MiB units)
                    c.region_len = g.length
                    c.block_size = g.blockSize
                    c.flags = g.attributes1
                    c.sanitize_on_release = g.attributes2
                    slots[k] = c
                }
            }
        }
        r.num_extents_supported = cfg.totalExtents
        r.num_extents_available = cfg.availableExtents
        r.num_tags_supported = cfg.totalTags
        r.num_tags_available = cfg.availableTags
        ret.pointee = r
        return 0
    }
}

@implementation @c public func daxm_fmapi_set_dc_region_config(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_set_dc_region_config_req>?
) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request else { throw .misuse(.invalidArgument, "in is NULL") }
        let q = request.pointee
        try command { () throws(FabricError) in
            try f.fabric.device.setRegionConfig(region: Int(q.region_id), blockSize: q.block_sz,
                                                sanitizeOnRelease: q.sanitize_on_release & 1 != 0)
        }
        return 0
    }
}

@implementation @c public func daxm_fmapi_get_dc_region_ext_list(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_get_dc_region_ext_list_req>?,
    _ ret: UnsafeMutablePointer<daxm_fmapi_get_dc_region_ext_list_rsp>?, _ retSize: Int
) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request, let ret else { throw .misuse(.invalidArgument, "in or ret is NULL") }
        let q = request.pointee
        let count = Int(q.extent_count)
        typealias Rsp = daxm_fmapi_get_dc_region_ext_list_rsp
        try requireRoom(Rsp.self, daxm_fmapi_extent.self, count, retSize, "extent_count")
        let page = try command { () throws(FabricError) in
            try f.fabric.device.getExtentList(host: q.host_id, count: count, startIndex: Int(q.start_ext_index))
        }
        let shown = page.extents.prefix(count)
        var r = Rsp()
        r.host_id = page.hostId
        r.start_ext_index = page.startIndex
        r.extents_returned = UInt32(truncatingIfNeeded: shown.count)
        r.total_extents = page.totalCount
        r.list_generation_num = page.generation
        ret.pointee = r
        let base = UnsafeMutableRawPointer(ret) + flexOffset(Rsp.self, daxm_fmapi_extent.self)
        for (k, e) in shown.enumerated() {
            base.storeBytes(of: cExtent(e), toByteOffset: k * MemoryLayout<daxm_fmapi_extent>.stride, as: daxm_fmapi_extent.self)
        }
        return 0
    }
}

@implementation @c public func daxm_fmapi_initiate_dc_add(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_initiate_dc_add_req>?, _ inSize: Int
) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request else { throw .misuse(.invalidArgument, "in is NULL") }
        typealias Req = daxm_fmapi_initiate_dc_add_req
        guard inSize >= flexOffset(Req.self, daxm_fmapi_extent.self) else {
            throw .misuse(.invalidArgument, "in_size \(inSize) is below the request's \(flexOffset(Req.self, daxm_fmapi_extent.self)) bytes")
        }
        let q = request.pointee
        let prescriptive = q.selection_policy & 0xF == UInt8(DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE)
        let extents = prescriptive ? try readExtents(request, size: inSize, count: Int(q.ext_count)) : []
        var add = DCAddRequest(hostId: q.host_id, policy: .free, region: q.region_num, length: q.length,
                               tag: dcTag(q.tag), extents: extents)
        add.selectionPolicy = q.selection_policy  // the device masks bits 3:0 and refuses what it lacks
        try command { () throws(FabricError) in _ = try f.fabric.device.initiateAdd(add) }
        return 0
    }
}

@implementation @c public func daxm_fmapi_initiate_dc_release(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_initiate_dc_release_req>?, _ inSize: Int
) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request else { throw .misuse(.invalidArgument, "in is NULL") }
        typealias Req = daxm_fmapi_initiate_dc_release_req
        guard inSize >= flexOffset(Req.self, daxm_fmapi_extent.self) else {
            throw .misuse(.invalidArgument, "in_size \(inSize) is below the request's \(flexOffset(Req.self, daxm_fmapi_extent.self)) bytes")
        }
        let q = request.pointee
        let prescriptive = q.flags & 0xF == UInt8(DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE)
        let extents = prescriptive ? try readExtents(request, size: inSize, count: Int(q.ext_count)) : []
        var release = DCReleaseRequest(hostId: q.host_id, policy: .tagBased, length: q.length, tag: dcTag(q.tag),
                                       extents: extents)
        release.flags = q.flags & 0x3F  // bits 7:6 reserved; the device refuses unknown policies
        try command { () throws(FabricError) in try f.fabric.device.initiateRelease(release) }
        return 0
    }
}

@implementation @c public func daxm_fmapi_dc_add_reference(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_dc_add_ref_req>?
) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request else { throw .misuse(.invalidArgument, "in is NULL") }
        let t = dcTag(request.pointee.tag)
        try command { () throws(FabricError) in try f.fabric.device.addReference(tag: t) }
        return 0
    }
}

@implementation @c public func daxm_fmapi_dc_remove_reference(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_dc_remove_ref_req>?
) -> Int32 {
    withFabric(fabric, mutates: true, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request else { throw .misuse(.invalidArgument, "in is NULL") }
        let t = dcTag(request.pointee.tag)
        try command { () throws(FabricError) in try f.fabric.device.removeReference(tag: t) }
        return 0
    }
}

@implementation @c public func daxm_fmapi_dc_list_tags(
    _ fabric: OpaquePointer?, _ request: UnsafePointer<daxm_fmapi_dc_list_tags_req>?,
    _ ret: UnsafeMutablePointer<daxm_fmapi_dc_list_tags_rsp>?, _ retSize: Int
) -> Int32 {
    withFabric(fabric, fallback: { $0 }) { f, _ throws(FabricFailure) in
        guard let request, let ret else { throw .misuse(.invalidArgument, "in or ret is NULL") }
        let q = request.pointee
        let count = Int(q.tags_count)
        typealias Rsp = daxm_fmapi_dc_list_tags_rsp
        try requireRoom(Rsp.self, daxm_fmapi_dc_tag_info.self, count, retSize, "tags_count")
        let page = try command { () throws(FabricError) in
            try f.fabric.device.listTags(startIndex: Int(q.start_idx), maxTags: count)
        }
        let shown = page.entries.prefix(count)
        var r = Rsp()
        r.generation_num = page.generation
        r.total_num_tags = page.totalTags
        r.num_tags_returned = UInt32(truncatingIfNeeded: shown.count)
        r.validity_bitmap = UInt8(DAXM_FMAPI_TAGS_REF_BITMAPS_VALID | DAXM_FMAPI_TAGS_PENDING_REF_BITMAPS_VALID)
        ret.pointee = r
        let base = UnsafeMutableRawPointer(ret) + flexOffset(Rsp.self, daxm_fmapi_dc_tag_info.self)
        for (k, t) in shown.enumerated() {
            var c = daxm_fmapi_dc_tag_info()
            withUnsafeMutableBytes(of: &c.tag) { raw in
                for (j, b) in t.tag.bytes.enumerated() where j < raw.count { raw[j] = b }
            }
            c.flags = t.fmHoldsReference ? UInt8(DAXM_FMAPI_TAG_FM_HOLDS_REFERENCE) : 0
            withUnsafeMutableBytes(of: &c.ref_bitmap) { raw in
                for (j, b) in t.referenceBitmap.bytes.enumerated() where j < raw.count { raw[j] = b }
            }
            withUnsafeMutableBytes(of: &c.pending_ref_bitmap) { raw in
                for (j, b) in t.pendingReferenceBitmap.bytes.enumerated() where j < raw.count { raw[j] = b }
            }
            base.storeBytes(of: c, toByteOffset: k * MemoryLayout<daxm_fmapi_dc_tag_info>.stride, as: daxm_fmapi_dc_tag_info.self)
        }
        return 0
    }
}

@implementation @c public func daxm_retcode_tostr(_ code: Int32) -> UnsafePointer<CChar>? {
    guard let raw = UInt16(exactly: code), let rc = CXLReturnCode(rawValue: raw) else { return nil }
    let name = rc.name
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}
