/// Get DCD Info (5600h): what the device supports.
public struct DCDInfo: Hashable, Sendable {
    public var numHosts: Int
    public var numRegions: Int
    /// Bit 0 Free, 1 Contiguous, 2 Prescriptive (bit 3 is always 0).
    public var addSelectionPolicies: UInt16
    /// Bit 0 Tag-based, 1 Prescriptive.
    public var releaseRemovalPolicies: UInt16
    /// Bit n: region n's sanitize-on-release can be configured.
    public var sanitizeConfigMask: UInt8
    /// Total dynamic capacity in 256 MiB units.
    public var totalCapacity: UInt64
    /// Per region, the supported block sizes (bit n = 2^n).
    public var blockSizeMasks: [UInt64]
}

/// One region as Get Host DC Region Configuration (5601h) reports it.
public struct DCRegionConfig: Hashable, Sendable {
    public var base: UInt64
    /// In 256 MiB units, as the spec's field.
    public var decodeLength: UInt64
    public var length: UInt64
    public var blockSize: UInt64
    /// Attributes1: bit 3 Sharable, bit 6 Read-Only.
    public var attributes1: UInt8
    /// Attributes2: bit 0 Sanitize on Release.
    public var attributes2: UInt8
}

/// Get Host DC Region Configuration (5601h).
public struct HostRegionConfig: Hashable, Sendable {
    public var hostId: UInt16
    public var availableRegions: Int
    public var regions: [DCRegionConfig]
    public var totalExtents: UInt32
    public var availableExtents: UInt32
    public var totalTags: UInt32
    public var availableTags: UInt32
}

/// Get DC Region Extent Lists (5603h): one page of one host's accepted extents.
public struct ExtentListPage: Hashable, Sendable {
    public var hostId: UInt16
    public var startIndex: UInt32
    public var totalCount: UInt32
    public var generation: UInt32
    public var extents: [DCExtentRecord]
}

/// One entry of Dynamic Capacity List Tags (5608h).
public struct TagListEntry: Hashable, Sendable {
    public var tag: DaxTag
    /// Flags bit 0.
    public var fmHoldsReference: Bool
    /// LDs that accepted the capacity.
    public var referenceBitmap: HostBitmap
    /// LDs offered it with no answer yet.
    public var pendingReferenceBitmap: HostBitmap
}

/// Dynamic Capacity List Tags (5608h).
public struct TagListPage: Hashable, Sendable {
    public var generation: UInt32
    public var totalTags: UInt32
    public var entries: [TagListEntry]
}

extension DCDevice {
    /// Get DCD Info (5600h). Always succeeds.
    public func getDCDInfo() -> DCDInfo {
        var mask: UInt8 = 0
        for r in regions.indices where sanitizeConfigurable(r) { mask |= 1 << UInt8(r) }
        return DCDInfo(numHosts: hosts.count, numRegions: regions.count,
                       addSelectionPolicies: profile.addPolicyMask, releaseRemovalPolicies: profile.releasePolicyMask,
                       sanitizeConfigMask: mask,
                       totalCapacity: regions.reduce(0) { $0 &+ $1.span.length } / DCRegionSpec.unit,
                       blockSizeMasks: regions.map { $0.spec.blockSizeMask })
    }

    /// Get Host DC Region Configuration (5601h): regions from
    /// `startRegion`, at most `regionCount` of them, and that host's budgets.
    /// Where the profile does not read the Host ID (qemu), host 0 answers
    /// whatever `host` says, with Host ID 0.
    /// - Throws: Invalid Input (no such host; `startRegion` past the last region).
    public func getHostRegionConfig(host: UInt16, regionCount: Int, startRegion: Int) throws(FabricError) -> HostRegionConfig {
        let h = try commandHost(host)
        guard startRegion >= 0, startRegion < regions.count, regionCount >= 0 else {
            throw FabricError(.invalidInput, "starting region \(startRegion) of \(regions.count)")
        }
        let chosen = regions[startRegion..<min(regions.count, startRegion + min(regionCount, 8))]
        let ld = hosts[h]
        return HostRegionConfig(
            hostId: UInt16(h), availableRegions: regions.count,
            regions: chosen.map { r in
                DCRegionConfig(base: r.span.start, decodeLength: r.span.length / DCRegionSpec.unit, length: r.span.length,
                               blockSize: r.spec.blockSize,
                               attributes1: (r.spec.sharable ? 1 << 3 : 0) | (r.spec.readOnly ? 1 << 6 : 0),
                               attributes2: r.spec.sanitizeOnRelease ? 1 : 0)
            },
            totalExtents: UInt32(clamping: ld.maxExtents), availableExtents: UInt32(clamping: ld.availableExtents),
            totalTags: UInt32(clamping: ld.maxTags), availableTags: UInt32(clamping: ld.availableTags))
    }

    /// Set DC Region Configuration (5602h). Checks, in order: region id
    /// (Invalid Input), block size a power of two in the region's mask
    /// (Invalid Input), a sanitize change the region cannot make
    /// (Unsupported; always, for a change, under a profile without
    /// sanitize), any block of the region allocated or any host DPA of it
    /// in use, fabric-manager-referenced capacity included (Unsupported),
    /// room in every host's log (Retry Required, unless the profile drops
    /// what does not fit instead). The same
    /// configuration succeeds with no event; a change posts Region
    /// Configuration Updated to every host's log (fabric.md leaves "every
    /// LD" unconfirmed: the model's choice, since each LD decodes the region).
    public func setRegionConfig(region: Int, blockSize: UInt64, sanitizeOnRelease: Bool) throws(FabricError) {
        guard regions.indices.contains(region) else {
            throw FabricError(.invalidInput, "no DC region \(region): the device has \(regions.count)")
        }
        let r = regions[region]
        guard DCRegionSpec.validBlockSize(blockSize, mask: r.spec.blockSizeMask), r.span.length % blockSize == 0 else {
            throw FabricError(.invalidInput, "region \(region): block size \(blockSize) is not supported")
        }
        if sanitizeOnRelease != r.spec.sanitizeOnRelease, !sanitizeConfigurable(region) {
            throw FabricError(.unsupported, "region \(region): sanitize on release cannot be changed")
        }
        guard r.blocks.free.total == r.span.length,
              hosts.allSatisfy({ ($0.dpaFree[region]?.total ?? r.span.length) == r.span.length }) else {
            throw FabricError(.unsupported, "region \(region): capacity is still allocated; release it on every host first")
        }
        if blockSize == r.spec.blockSize, sanitizeOnRelease == r.spec.sanitizeOnRelease { return }
        if profile.retryWhenLogFull, let full = hosts.first(where: { $0.logRoom < 1 }) {
            throw FabricError(.retryRequired, "host \(full.id)'s event log is full")
        }
        regions[region].spec.blockSize = blockSize
        regions[region].spec.sanitizeOnRelease = sanitizeOnRelease
        for h in hosts.indices {
            post([(.regionConfigurationUpdated, region, DCExtentRecord(dpa: 0, length: 0))], to: h)
        }
    }

    /// Get DC Region Extent Lists (5603h): host `host`'s accepted extents
    /// (never pending or dead ones) from `startIndex`, at most `count`;
    /// count 0 returns only the total and the generation number. The one
    /// command whose Host ID every profile checks.
    /// - Throws: Invalid Input (no such host; `startIndex` past the total).
    /// - Complexity: O(n / B + count), B = 91 extents per block.
    public func getExtentList(host: UInt16, count: Int, startIndex: Int) throws(FabricError) -> ExtentListPage {
        let h = try hostIndex(host)
        let ld = hosts[h]
        guard startIndex >= 0, startIndex <= ld.accepted.count, count >= 0 else {
            throw FabricError(.invalidInput, "starting extent index \(startIndex) of \(ld.accepted.count)")
        }
        let page = count == 0 ? [] : ld.accepted.values(from: startIndex, limit: count).map(\.record)
        return ExtentListPage(hostId: host, startIndex: UInt32(clamping: startIndex), totalCount: UInt32(clamping: ld.accepted.count),
                              generation: ld.generation, extents: page)
    }

    /// Dynamic Capacity List Tags (5608h): live tags in creation order
    /// from `startIndex`, at most `maxTags` (0: only the generation and
    /// the total).
    /// - Throws: Unsupported (the profile lacks r3.2's tag commands),
    ///   Invalid Input (`startIndex` past the total).
    public func listTags(startIndex: Int, maxTags: Int) throws(FabricError) -> TagListPage {
        guard profile.tagCommands else { throw FabricError(.unsupported, "profile \(profile) has no List Tags") }
        guard startIndex >= 0, startIndex <= tagOrder.count, maxTags >= 0 else {
            throw FabricError(.invalidInput, "starting tag index \(startIndex) of \(tagOrder.count)")
        }
        let chosen = maxTags == 0 ? [] : tagOrder.values(from: startIndex, limit: maxTags)
        return TagListPage(generation: tagGeneration, totalTags: UInt32(clamping: tagOrder.count),
                           entries: chosen.compactMap { tag in
                               tags[tag].map { TagListEntry(tag: tag, fmHoldsReference: $0.fmReference,
                                                            referenceBitmap: $0.accepted, pendingReferenceBitmap: $0.pending) }
                           })
    }
}
