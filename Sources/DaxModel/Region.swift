import Synchronization

/// A DAX region: the kernel's `struct dax_region`.
///
/// Owns the free space (the complement of its devices' ranges), the
/// devices by id, and the `seed` and `youngest` pointers of `create`.
/// Invariants: `availableSize + Σ device sizes == size` (dynamic regions);
/// device ranges lie inside `span` and never overlap.
public final class Region: @unchecked Sendable {
    /// `memremap_compat_align()`: every size is a multiple of max(align, this).
    public static let compatAlign: UInt64 = 2 << 20
    /// Aligns `dax_align_valid` accepts on x86-64 with THP: 4 KiB, 2 MiB, 1 GiB.
    public static let validAligns: Set<UInt64> = [4096, 2 << 20, 1 << 30]

    public let id: Int
    public let kind: RegionKind
    public let profile: KernelProfile
    public let span: Span
    public let align: UInt64
    public let targetNode: Int
    public let numaNode: Int
    public internal(set) weak var model: DaxBus?
    /// The bus's anchor (see `ModelAnchor`).
    public let anchor: ModelAnchor
    /// The embedder handed this region's address out (regions are only
    /// deleted with the whole model).
    public var handedOut = false
    /// References taken by embedders (the C ABI's `daxm_region_ref`).
    public let externalRefs = Atomic<Int>(0)
    public internal(set) var isDeleted = false
    /// Released sparse capacity must be discarded by the memory layer.
    public let sanitizeOnRelease: Bool
    /// A fabric host's region (`FabricHost`): its extents, tags included,
    /// are what the Dynamic Capacity device offered, and the device, the
    /// fabric manager and the other hosts sharing a tag know them so;
    /// `retag` is refused (EPERM), or the host's view would leave the
    /// device's extent list. Set by `FabricHost`, not saved.
    public internal(set) var boundToFabric = false
    /// Spans released since the memory layer last asked (absolute
    /// addresses); see `takeReleasedSpans`.
    var releasedSpans: [Span] = []
    /// While a verb drops many references at once (a shrink): the
    /// releasing extents whose last reference went, completed together at
    /// its end (`completingTogether`).
    var completionBatch: [Extent]?

    /// The spans released since the last call, for the memory layer to
    /// sanitize; empties the list.
    public func takeReleasedSpans() -> [Span] {
        defer { releasedSpans = [] }
        return releasedSpans
    }

    /// Free space of a dynamic region (empty for static and sparse ones:
    /// a sparse region's space lives in its extents).
    var free: FreeSpace
    var sparse = SparseState()
    /// Holes of fragmented extents and pending release requests.
    let extentSide = ExtentSideTable()
    var ids = IdAllocator()
    private(set) var devicesById: [Int: Device] = [:]
    /// Device ids in ascending order, for iteration.
    private(set) var sortedIds: [Int] = []
    /// First device made by `create` and not yet bound or deleted.
    public internal(set) var seed: Device?
    /// Last device made by `create`, until deleted.
    public internal(set) var youngest: Device?

    init(id: Int, spec: RegionSpec, span: Span, model: DaxBus) {
        self.id = id
        self.kind = spec.kind
        self.profile = spec.profile
        self.span = span
        self.align = spec.align
        self.targetNode = spec.targetNode
        self.numaNode = spec.numaNode
        self.model = model
        self.anchor = model.anchor
        self.free = spec.kind == .sparse ? FreeSpace() : FreeSpace(span)
        // Only sparse regions have extents: other kinds keep the defaults
        // whatever the spec says, so what they save always loads.
        if spec.kind == .sparse {
            sparse.maxPerGroup = spec.maxExtentsPerGroup
            sparse.maxExtents = spec.maxExtents
        }
        sparse.revoke = spec.revokeOnForcedRelease
        sanitizeOnRelease = spec.sanitizeOnRelease
    }

    public var start: UInt64 { span.start }
    public var size: UInt64 { span.length }

    /// `available_size`: free bytes (dynamic); free bytes inside accepted
    /// extents (sparse); 0 for a static region.
    public var availableSize: UInt64 {
        switch kind {
        case .staticRegion: 0
        case .dynamic: free.total
        case .sparse: sparse.available
        }
    }

    /// Devices in id order.
    public var devices: [Device] { sortedIds.compactMap { devicesById[$0] } }

    public func device(id: Int) -> Device? { devicesById[id] }

    /// The device with the lowest id. O(1).
    public var firstDevice: Device? { sortedIds.first.flatMap { devicesById[$0] } }

    /// The device after `device` in id order.
    public func device(after device: Device) -> Device? {
        let i = sortedIds.partitionPoint { $0 <= device.id }
        return i < sortedIds.count ? devicesById[sortedIds[i]] : nil
    }

    func insert(_ device: Device) {
        devicesById[device.id] = device
        sortedIds.insert(device.id, at: sortedIds.partitionPoint { $0 < device.id })
    }

    func removeAllDevices() {
        devicesById = [:]
        sortedIds = []
    }

    func remove(_ device: Device) {
        devicesById[device.id] = nil
        let i = sortedIds.partitionPoint { $0 < device.id }
        if i < sortedIds.count, sortedIds[i] == device.id { sortedIds.remove(at: i) }
    }

    /// "regionR", the model's sysfs name for the region directory.
    public var name: String { "region\(id)" }
}
