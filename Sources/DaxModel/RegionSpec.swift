/// What a producer (hmem, CXL, pmem) knows about a new region; the model's
/// side of `struct daxm_region_spec`.
public struct RegionSpec: Sendable {
    /// Region id; nil = the lowest id not in use.
    public var id: Int?
    public var kind: RegionKind = .dynamic
    public var profile: KernelProfile = .linux6_12
    public var start: UInt64 = 0
    public var size: UInt64 = 0
    public var align: UInt64 = Region.compatAlign
    /// -1 = none: `target_node` is then absent.
    public var targetNode: Int = -1
    public var numaNode: Int = -1
    /// Static regions: the one device's id.
    public var staticDeviceId: Int = 0
    /// daxR.0 starts at size 0 (hmem `region_idle`).
    public var idle = false
    /// A full daxR.0 starts unbound rather than bound to device_dax.
    public var unbound = false
    /// Sparse regions: most extents one group may offer, 1...groupLimit.
    public var maxExtentsPerGroup = 100
    /// Sparse regions: most extents the region holds, 1...extentLimit.
    public var maxExtents = 1 << 20
    /// Node numbers a region may carry: -1 (none) or a node id.
    public static let validNodes = -1...Int(Int32.max)
    /// The largest `maxExtentsPerGroup` accepted (2^24).
    public static let groupLimit = 1 << 24
    /// The largest `maxExtents` accepted (2^30).
    public static let extentLimit = 1 << 30
    /// Sparse regions: forced releases revoke extents at once (opt-in)
    /// instead of being logged and ignored.
    public var revokeOnForcedRelease = false
    /// Released sparse capacity is discarded (reads back as zeros).
    public var sanitizeOnRelease = true

    public init(start: UInt64 = 0, size: UInt64 = 0) {
        self.start = start
        self.size = size
    }
}
