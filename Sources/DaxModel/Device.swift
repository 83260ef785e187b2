import Synchronization

/// A DAX device `daxR.N`: the kernel's `struct dev_dax`.
///
/// Invariants: `size` is the sum of the range lengths; ranges never overlap
/// each other or another device's; page offsets run as the sum of earlier
/// lengths; a bound device has a non-zero size.
public final class Device: @unchecked Sendable {
    /// The name as a NUL-terminated C string, for embedders; lives as long as
    /// the device object.
    public let nameCString: UnsafeMutablePointer<CChar>
    /// The region this device was made in. Strong (no weak-load cost per
    /// call): a deleted device leaves its region's table, and the teardown
    /// empties the region, so no cycle outlives the model.
    @usableFromInline let home: Region
    /// References taken by embedders (the C ABI's `daxm_dev_ref`).
    public let externalRefs = Atomic<Int>(0)
    /// Ordered by page offset; appended and trimmed at the end only.
    public internal(set) var ranges: [DeviceRange] = []
    /// Per-device alignment, initialised from the region.
    public internal(set) var align: UInt64
    public internal(set) var size: UInt64 = 0
    /// Bytes this device lost to revoked extents (sparse, revoke mode).
    public internal(set) var lostBytes: UInt64 = 0
    /// A real character device backing this device's views, if set: the
    /// path's bytes as given (Linux paths are bytes; no NUL).
    public var path: [UInt8]?
    /// Sparse regions: the tag selected for allocation; nil = none yet
    /// (sizing then fails EOPNOTSUPP), `.untagged` = untagged extents.
    public internal(set) var tag: DaxTag?
    /// The embedder handed this object's address out: once deleted (or
    /// released) it is kept until the model is torn down.
    public var handedOut = false
    /// Bound to the device_dax driver (enabled).
    public internal(set) var isBound = false
    /// A probe failed after setting up the device's page map (a range not
    /// 2 MiB aligned): Linux keeps a dangling `dev_dax->pgmap`, and every
    /// later probe of this device fails EINVAL ("dynamic-dax with
    /// pre-populated page map") until it is deleted. Observed on 6.1 and
    /// 6.12.
    public internal(set) var probeFailed = false
    /// Creation order on the bus (the driver core's device list order).
    public internal(set) var serial: UInt64 = 0
    /// Set by delete, or when the model is torn down.
    public internal(set) var isDeleted = false
    /// The teardown cleared the region link (`region` is then nil).
    @usableFromInline var detached = false
    /// Device ids are at most Int32.max (validated on claim and load;
    /// allocated ones stay below the device count).
    @usableFromInline let storedId: Int32
    @usableFromInline var storedViews: Int32 = 0

    init(id: Int, region: Region) {
        self.storedId = Int32(clamping: id)
        let bytes = Array("dax\(region.id).\(id)".utf8)
        nameCString = .allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { nameCString[i] = CChar(bitPattern: b) }
        nameCString[bytes.count] = 0
        self.home = region
        self.align = region.align
        if let model = region.model {
            serial = model.nextDeviceSerial
            model.nextDeviceSerial &+= 1
        }
    }

    deinit { nameCString.deallocate() }

    @inlinable public var id: Int { Int(storedId) }

    /// "daxR.N".
    public var name: String { String(cString: nameCString) }

    /// The region; nil once the model was torn down.
    public internal(set) var region: Region? {
        @inlinable get { detached ? nil : home }
        set { detached = newValue == nil }
    }

    /// The bus's anchor (see `ModelAnchor`), held through the region.
    @inlinable public var anchor: ModelAnchor { home.anchor }
    public var targetNode: Int { home.targetNode }
    public var numaNode: Int { home.numaNode }

    /// Process mappings (views) of this device; while any exist the device
    /// is held like a bound one. (32-bit: each is a process mapping, and a
    /// process has at most vm.max_map_count of them.)
    public var views: Int {
        @inlinable get { Int(storedViews) }
        set { storedViews = Int32(clamping: newValue) }
    }

    /// Allocation granularity: max(align, 2 MiB), the kernel's
    /// `alloc_is_aligned` with `memremap_compat_align()` = 2 MiB.
    public var granularity: UInt64 { max(align, Region.compatAlign) }

    /// `resource`: start of the first range, or the region start.
    public var resource: UInt64 { ranges.first?.start ?? region?.start ?? 0 }

    func isAligned(_ value: UInt64) -> Bool { value % granularity == 0 }
}
