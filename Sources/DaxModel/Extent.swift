import Synchronization

/// The life of an extent on the host.
public enum ExtentState: Int32, Sendable {
    /// Offered in a group that has not closed yet: invisible, unallocatable.
    case staged = 1
    /// Accepted: visible, allocatable to devices of its tag.
    case accepted = 2
    /// A release was requested while references exist: no longer
    /// allocatable nor counted in available_size; completes when the last
    /// reference drops.
    case releasing = 3
    /// Given back to the device; removed from the region.
    case released = 4

    public var name: String {
        switch self {
        case .staged: "staged"
        case .accepted: "accepted"
        case .releasing: "releasing"
        case .released: "released"
        }
    }
}

/// A CXL Dynamic Capacity extent accepted into a sparse region: the DCD
/// series' `dax_resource` / `region_extent`, with the reference count the
/// seed review asked for (RFC v2's deferred release, v11's per-range pin).
///
/// Invariants: `refcount == rangeRefs + pins`; `rangeRefs` equals the number
/// of device ranges lying in the extent; device ranges and `free` holes
/// tile `span`; a releasing extent has `refcount > 0`.
///
/// Memory: one 96-byte allocation per extent (issue 9). The tag is reached
/// through the tag pool (`pool`); ids, pins and range references are
/// 32-bit (the state format and the C ABI bound them to Int32); the free
/// space is a flag while the extent is wholly free or wholly used; the
/// holes of a fragmented extent and a pending release request live in the
/// region's `ExtentSideTable`, under the model's lock like the rest.
public final class Extent: @unchecked Sendable {
    /// Absolute physical range.
    public let span: Span
    /// Acceptance order within the region; first fit follows it.
    public let order: UInt64
    /// The region this extent was accepted in. Immutable, so the anchor
    /// can be read without the model's lock. Strong: a released extent
    /// leaves its region's lists, and the teardown empties them.
    @usableFromInline let home: Region
    /// The tag pool this extent files in (or filed in, once released):
    /// holds the tag. Changes on re-tagging, under the model's lock.
    var pool: PoolCore
    /// References taken by embedders on the handle (`daxm_extent_ref`).
    public let externalRefs = Atomic<Int>(0)
    @usableFromInline let storedId: Int32
    /// Shared-extent sequence number (orders a tag group).
    public let sequence: UInt32
    @usableFromInline var storedRangeRefs: Int32 = 0
    /// Atomic so that callers holding the model shared can pin and unpin
    /// an accepted extent at once (`Region.pinShared`); every other access
    /// holds the model exclusively and sees a stable count.
    @usableFromInline let storedPins = Atomic<Int32>(0)
    public internal(set) var state: ExtentState = .accepted
    /// The group was shareable: `sequence` orders the tag group. Otherwise
    /// the field is reserved and acceptance order lays the group out.
    public let sequenced: Bool
    /// The embedder handed this object's address out: once deleted (or
    /// released) it is kept until the model is torn down.
    public var handedOut = false
    private var freeKind = FreeKind.whole
    /// The teardown cleared the region link (`region` is then nil).
    @usableFromInline var detached = false

    private enum FreeKind: UInt8 {
        /// No hole: device ranges cover the extent.
        case none
        /// One hole, the whole span.
        case whole
        /// Holes in the region's side table.
        case partial
    }

    init(id: Int, span: Span, tag: DaxTag, sequence: UInt32, sequenced: Bool, order: UInt64, region: Region) {
        // Ids are at most Int32.max: the state format refuses larger ones
        // and allocated ids stay below the extent count.
        self.storedId = Int32(clamping: id)
        self.span = span
        self.sequence = sequence
        self.sequenced = sequenced
        self.order = order
        self.home = region
        self.pool = region.sparse.pools[tag]?.core ?? PoolCore(tag: tag)
    }

    /// K of `extentK`: the lowest id free in the region when accepted.
    @inlinable public var id: Int { Int(storedId) }

    public internal(set) var tag: DaxTag {
        get { pool.tag }
        set {
            // Re-tagging: the caller files the extent in the new tag's pool.
            if newValue != pool.tag { pool = PoolCore(tag: newValue) }
        }
    }

    /// Caller pins (`daxm_extent_get`); at most Int32.max.
    public internal(set) var pins: Int {
        @inlinable get { Int(storedPins.load(ordering: .relaxed)) }
        set { storedPins.store(Int32(clamping: newValue), ordering: .relaxed) }
    }

    /// Device ranges inside this extent, one reference each.
    public internal(set) var rangeRefs: Int {
        @inlinable get { Int(storedRangeRefs) }
        set { storedRangeRefs = Int32(clamping: newValue) }
    }

    /// The release request a releasing extent answers when it completes
    /// (0 for none, and once the extent is released).
    public internal(set) var releaseRequest: UInt64 {
        get { home.extentSide.releaseRequests[ObjectIdentifier(self)] ?? 0 }
        set { home.extentSide.releaseRequests[ObjectIdentifier(self)] = newValue == 0 ? nil : newValue }
    }

    /// The region; nil once the model was torn down.
    public internal(set) var region: Region? {
        @inlinable get { detached ? nil : home }
        set { detached = newValue == nil }
    }

    /// The region was deleted or torn down (`region?.isDeleted ?? true`,
    /// without retaining the region: hot calls on extents of one region
    /// from several threads then write no shared reference count).
    @inlinable public var isGone: Bool { detached || home.isDeleted }

    /// The bus's anchor (see `ModelAnchor`), held through the region.
    @inlinable public var anchor: ModelAnchor { home.anchor }

    /// Drops what the side table holds for this extent (it was released).
    func forgetSideEntries() {
        home.extentSide.releaseRequests[ObjectIdentifier(self)] = nil
        home.extentSide.holes[ObjectIdentifier(self)] = nil
    }

    @inlinable public var refcount: Int { rangeRefs + pins }
    public var start: UInt64 { span.start }
    public var length: UInt64 { span.length }
    /// Region-relative offset (`extentK/offset`).
    public var offset: UInt64 { span.start &- (detached ? 0 : home.start) }
    /// Bytes not used by any device range.
    public var freeBytes: UInt64 { free.total }
    public var name: String { "extent\(id)" }

    /// Free space inside the extent.
    var free: ExtentFree {
        switch freeKind {
        case .none: ExtentFree(total: 0, lowest: nil, partial: nil)
        case .whole: ExtentFree(total: span.length, lowest: span, partial: nil)
        case .partial:
            home.extentSide.holes[ObjectIdentifier(self)].map { ExtentFree(total: $0.total, lowest: $0.lowest, partial: $0) }
                ?? ExtentFree(total: 0, lowest: nil, partial: nil)
        }
    }

    /// The free space as holes, for an operation that changes it.
    private var holes: FreeSpace {
        switch freeKind {
        case .none: FreeSpace()
        case .whole: FreeSpace(span)
        case .partial: home.extentSide.holes[ObjectIdentifier(self)] ?? FreeSpace()
        }
    }

    /// Stores `holes` back in the cheapest form.
    private func setHoles(_ holes: FreeSpace) {
        let key = ObjectIdentifier(self)
        if holes.holes.isEmpty {
            if freeKind == .partial { home.extentSide.holes[key] = nil }
            freeKind = .none
        } else if holes.holes.count == 1, holes.holes[0] == span {
            if freeKind == .partial { home.extentSide.holes[key] = nil }
            freeKind = .whole
        } else {
            freeKind = .partial
            home.extentSide.holes[key] = holes
        }
    }

    /// Marks `span` busy (FreeSpace.take). Returns false, changing
    /// nothing, unless all of it is free.
    func takeFree(_ part: Span) -> Bool {
        if freeKind == .whole, part == span {
            freeKind = .none
            return true
        }
        if freeKind == .partial {
            // In place: the holes array stays uniquely referenced.
            let key = ObjectIdentifier(self)
            guard home.extentSide.holes[key]?.take(part) == true else { return false }
            if home.extentSide.holes[key]?.holes.isEmpty != false { setHoles(FreeSpace()) }
            return true
        }
        var h = holes
        guard h.take(part) else { return false }
        setHoles(h)
        return true
    }

    /// Marks `span` free again (FreeSpace.give). Returns false, changing
    /// nothing, if any of it is already free.
    @discardableResult
    func giveFree(_ part: Span) -> Bool {
        if freeKind == .none, part == span {
            freeKind = .whole
            return true
        }
        if freeKind == .partial {
            let key = ObjectIdentifier(self)
            guard home.extentSide.holes[key]?.give(part) == true else { return false }
            if let h = home.extentSide.holes[key], h.holes.count == 1, h.holes[0] == span { setHoles(h) }
            return true
        }
        var h = holes
        guard h.give(part) else { return false }
        setHoles(h)
        return true
    }
}

/// What few extents need, kept by the region instead of in every extent:
/// the holes of fragmented extents and pending release requests. Entries
/// exist only for extents the region lists (removed when one is released,
/// all dropped at teardown), so an identifier is never reused while filed.
final class ExtentSideTable: @unchecked Sendable {
    var holes: [ObjectIdentifier: FreeSpace] = [:]
    var releaseRequests: [ObjectIdentifier: UInt64] = [:]

    func removeAll() {
        holes = [:]
        releaseRequests = [:]
    }
}

/// A read-only view of an extent's free space.
struct ExtentFree {
    /// Free bytes.
    let total: UInt64
    /// The lowest-address hole, the one allocation picks first.
    let lowest: Span?
    fileprivate let partial: FreeSpace?

    /// The holes, ascending.
    var holes: [Span] {
        if let partial { return partial.holes }
        return lowest.map { [$0] } ?? []
    }
}

/// One extent as a device (or fabric manager) offers it: the fields of the
/// CXL Dynamic Capacity Extent record a host model needs.
public struct ExtentOffer: Hashable, Sendable {
    /// Region-relative start (the record's DPA start minus the region base).
    public var offset: UInt64
    public var length: UInt64
    public var tag: DaxTag
    /// Shared extent sequence number; must run 0..n-1 per tag in a
    /// shareable group.
    public var sequence: UInt32

    public init(offset: UInt64, length: UInt64, tag: DaxTag = .untagged, sequence: UInt32 = 0) {
        self.offset = offset
        self.length = length
        self.tag = tag
        self.sequence = sequence
    }
}

// MARK: Pins under a shared hold

extension Extent {
    /// `Region.pin` for a caller holding the model shared: other such
    /// callers may pin and unpin at the same time, nothing else runs (the
    /// C layer's `ContextLock`). Succeeds, adding the pin by
    /// compare-and-swap, exactly where `pin` would; returns false, changing
    /// nothing, where `pin` would throw or the region is gone or deleted.
    /// The caller then calls `pin` with the model held exclusively, for
    /// the error. Reads no other object's reference count, so threads
    /// pinning different extents share no cache line they write.
    public func pinShared() -> Bool { movePinShared(by: 1) }

    /// `Region.unpin` for a caller holding the model shared (see
    /// `pinShared`): drops a pin of an accepted extent by compare-and-swap.
    /// Returns false, changing nothing, for an extent without pins
    /// (`unpin`'s EINVAL), one whose region is gone or deleted, and one
    /// that is not accepted: the put that may complete a deferred release,
    /// and every error, take the model exclusively.
    public func unpinShared() -> Bool { movePinShared(by: -1) }

    /// Adds `delta` (1 or -1) to the pins of an accepted extent by
    /// compare-and-swap while the count stays within 0...Int32.max.
    private func movePinShared(by delta: Int32) -> Bool {
        guard !isGone, state == .accepted else { return false }
        var pins = storedPins.load(ordering: .relaxed)
        while delta > 0 ? pins < Int32.max : pins > 0 {
            let (done, seen) = storedPins.weakCompareExchange(
                expected: pins, desired: pins + delta, ordering: .relaxed)
            if done { return true }
            pins = seen
        }
        return false
    }
}
