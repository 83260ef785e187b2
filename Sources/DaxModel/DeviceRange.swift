import Synchronization

/// One range of a device: the kernel's `struct dev_dax_range` together with
/// its `mappingK` sysfs child (`struct dax_mapping`).
///
/// Invariants (checked by `DaxBus.checkInvariants`): `pageOffset` is the
/// sum of the lengths of the ranges before it, in 4 KiB pages; the span is
/// busy in the region's free space; `index` is the position in the device's
/// range list, which is also the mapping id (ranges are added and removed
/// at the end only, so the kernel's lowest-free mapping id equals it).
public final class DeviceRange: @unchecked Sendable {
    /// Page size the kernel's `page_offset` counts in.
    public static let pageSize: UInt64 = 4096

    public internal(set) var span: Span
    /// File offset of this range inside the device, in pages.
    public internal(set) var pageOffset: UInt64
    /// The extent this range lies in (sparse regions); the range holds one
    /// reference on it.
    public let extent: Extent?
    /// The device this range was made for. Strong: a range leaves its
    /// device's list when trimmed, and the teardown empties the lists, so
    /// no cycle outlives the model.
    @usableFromInline let home: Device
    /// References taken by embedders (the C ABI's `daxm_mapping_ref`).
    public let externalRefs = Atomic<Int>(0)
    /// Mapping ids are 32-bit, as the kernel's are (`ida` ints).
    @usableFromInline var storedIndex: Int32
    /// The embedder handed this object's address out: once deleted (or
    /// released) it is kept until the model is torn down.
    public var handedOut = false
    /// Set when the range is trimmed away or its device deleted.
    public internal(set) var isDeleted = false
    /// The teardown cleared the device link (`device` is then nil).
    @usableFromInline var detached = false

    init(span: Span, pageOffset: UInt64, index: Int, device: Device, extent: Extent?) {
        self.span = span
        self.extent = extent
        self.pageOffset = pageOffset
        self.storedIndex = Int32(clamping: index)
        self.home = device
    }

    /// K of `mappingK`.
    public internal(set) var index: Int {
        @inlinable get { Int(storedIndex) }
        set { storedIndex = Int32(clamping: newValue) }
    }

    /// The device; nil once the model was torn down.
    public internal(set) var device: Device? {
        @inlinable get { detached ? nil : home }
        set { detached = newValue == nil }
    }

    /// The bus's anchor (see `ModelAnchor`), held through the device.
    @inlinable public var anchor: ModelAnchor { home.anchor }

    public var start: UInt64 { span.start }
    /// Inclusive end, as `mappingK/end` prints it.
    public var last: UInt64 { span.last }
    public var length: UInt64 { span.length }
}
