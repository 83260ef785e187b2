import Synchronization

/// A DAX device `daxR.N`: the kernel's `struct dev_dax`.
///
/// Invariants: `size` is the sum of the range lengths; ranges never overlap
/// each other or another device's; page offsets run as the sum of earlier
/// lengths; a bound device has a non-zero size.
public final class Device: @unchecked Sendable {
    public let id: Int
    /// "daxR.N".
    public let name: String
    /// The name as a NUL-terminated C string, for embedders; lives as long as
    /// the device object.
    public let nameCString: UnsafeMutablePointer<CChar>
    /// Strong (no weak-load cost per call): a deleted device leaves its
    /// region's table, and the teardown clears the link.
    public internal(set) var region: Region?
    /// The bus's anchor (see `ModelAnchor`).
    public let anchor: ModelAnchor
    /// The embedder handed this object's address out: once deleted (or
    /// released) it is kept until the model is torn down.
    public var handedOut = false
    /// Per-device alignment, initialised from the region.
    public internal(set) var align: UInt64
    public let targetNode: Int
    public let numaNode: Int
    /// Ordered by page offset; appended and trimmed at the end only.
    public internal(set) var ranges: [DeviceRange] = []
    public internal(set) var size: UInt64 = 0
    /// Sparse regions: the tag selected for allocation; nil = none yet
    /// (sizing then fails EOPNOTSUPP), `.untagged` = untagged extents.
    public internal(set) var tag: DaxTag?
    /// Bytes this device lost to revoked extents (sparse, revoke mode).
    public internal(set) var lostBytes: UInt64 = 0
    /// Bound to the device_dax driver (enabled).
    public internal(set) var isBound = false
    /// A probe failed after setting up the device's page map (a range not
    /// 2 MiB aligned): Linux keeps a dangling `dev_dax->pgmap`, and every
    /// later probe of this device fails EINVAL ("dynamic-dax with
    /// pre-populated page map") until it is deleted. Observed on 6.1 and
    /// 6.12.
    public internal(set) var probeFailed = false
    /// Process mappings (views) of this device; while any exist the device
    /// is held like a bound one.
    public var views = 0
    /// A real character device backing this device's views, if set: the
    /// path's bytes as given (Linux paths are bytes; no NUL).
    public var path: [UInt8]?
    /// Creation order on the bus (the driver core's device list order).
    public internal(set) var serial: UInt64 = 0
    /// Set by delete, or when the model is torn down.
    public internal(set) var isDeleted = false
    /// References taken by embedders (the C ABI's `daxm_dev_ref`).
    public let externalRefs = Atomic<Int>(0)

    init(id: Int, region: Region) {
        self.id = id
        self.name = "dax\(region.id).\(id)"
        let bytes = Array(name.utf8)
        nameCString = .allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { nameCString[i] = CChar(bitPattern: b) }
        nameCString[bytes.count] = 0
        self.region = region
        self.anchor = region.anchor
        self.align = region.align
        self.targetNode = region.targetNode
        self.numaNode = region.numaNode
        if let model = region.model {
            serial = model.nextDeviceSerial
            model.nextDeviceSerial &+= 1
        }
    }

    deinit { nameCString.deallocate() }

    /// Allocation granularity: max(align, 2 MiB), the kernel's
    /// `alloc_is_aligned` with `memremap_compat_align()` = 2 MiB.
    public var granularity: UInt64 { max(align, Region.compatAlign) }

    /// `resource`: start of the first range, or the region start.
    public var resource: UInt64 { ranges.first?.start ?? region?.start ?? 0 }

    func isAligned(_ value: UInt64) -> Bool { value % granularity == 0 }
}
