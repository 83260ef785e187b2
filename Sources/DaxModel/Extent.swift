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
/// Memory: one 96-byte allocation per extent (issue 9). The tag and the
/// region are reached through the tag pool (`pool`); ids, pins and range
/// references are 32-bit (the state format and the C ABI bound them to
/// Int32); the free space is a flag while the extent is wholly free or
/// wholly used, and the holes and a release request live in a side object
/// (`ExtentCold`) made only when needed.
public final class Extent: @unchecked Sendable {
    /// Absolute physical range.
    public let span: Span
    /// Acceptance order within the region; first fit follows it.
    public let order: UInt64
    /// The tag pool this extent files in (or filed in, once released):
    /// holds the tag and the region.
    var pool: PoolCore
    /// References taken by embedders on the handle (`daxm_extent_ref`).
    public let externalRefs = Atomic<Int>(0)
    /// The holes of a fragmented extent and the release request, when any.
    private var cold: ExtentCold?
    private let storedId: Int32
    /// Shared-extent sequence number (orders a tag group).
    public let sequence: UInt32
    private var storedRangeRefs: Int32 = 0
    private var storedPins: Int32 = 0
    public internal(set) var state: ExtentState = .accepted
    /// The group was shareable: `sequence` orders the tag group. Otherwise
    /// the field is reserved and acceptance order lays the group out.
    public let sequenced: Bool
    /// The embedder handed this object's address out: once deleted (or
    /// released) it is kept until the model is torn down.
    public var handedOut = false
    private var freeKind = FreeKind.whole
    /// The teardown cleared the region link (`region` is then nil).
    private var detached = false

    private enum FreeKind: UInt8 {
        /// No hole: device ranges cover the extent.
        case none
        /// One hole, the whole span.
        case whole
        /// Holes in `cold.holes`.
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
        self.pool = region.sparse.pools[tag]?.core ?? PoolCore(tag: tag, region: region)
    }

    /// K of `extentK`: the lowest id free in the region when accepted.
    public var id: Int { Int(storedId) }

    public internal(set) var tag: DaxTag {
        get { pool.tag }
        set {
            // Re-tagging: the caller files the extent in the new tag's pool.
            if newValue != pool.tag { pool = PoolCore(tag: newValue, region: pool.region) }
        }
    }

    /// Caller pins (`daxm_extent_get`); at most Int32.max.
    public internal(set) var pins: Int {
        get { Int(storedPins) }
        set { storedPins = Int32(clamping: newValue) }
    }

    /// Device ranges inside this extent, one reference each.
    public internal(set) var rangeRefs: Int {
        get { Int(storedRangeRefs) }
        set { storedRangeRefs = Int32(clamping: newValue) }
    }

    /// The release request a releasing extent answers when it completes.
    public internal(set) var releaseRequest: UInt64 {
        get { cold?.releaseRequest ?? 0 }
        set {
            if let cold {
                cold.releaseRequest = newValue
            } else if newValue != 0 {
                let c = ExtentCold()
                c.releaseRequest = newValue
                cold = c
            }
        }
    }

    /// Strong: a released extent leaves its region's lists, and the
    /// teardown clears the link.
    public internal(set) var region: Region? {
        get { detached ? nil : pool.region }
        set {
            if let newValue, newValue !== pool.region { pool = PoolCore(tag: pool.tag, region: newValue) }
            detached = newValue == nil
        }
    }

    /// The bus's anchor (see `ModelAnchor`), held through the region.
    public var anchor: ModelAnchor { pool.region.anchor }

    public var refcount: Int { rangeRefs + pins }
    public var start: UInt64 { span.start }
    public var length: UInt64 { span.length }
    /// Region-relative offset (`extentK/offset`).
    public var offset: UInt64 { span.start &- (region?.start ?? 0) }
    /// Bytes not used by any device range.
    public var freeBytes: UInt64 { free.total }
    public var name: String { "extent\(id)" }

    /// Free space inside the extent.
    var free: ExtentFree {
        switch freeKind {
        case .none: ExtentFree(total: 0, lowest: nil, partial: nil)
        case .whole: ExtentFree(total: span.length, lowest: span, partial: nil)
        case .partial: ExtentFree(total: cold?.holes.total ?? 0, lowest: cold?.holes.lowest, partial: cold?.holes)
        }
    }

    /// The free space as holes, for an operation that changes it.
    private var holes: FreeSpace {
        switch freeKind {
        case .none: FreeSpace()
        case .whole: FreeSpace(span)
        case .partial: cold?.holes ?? FreeSpace()
        }
    }

    /// Stores `holes` back in the cheapest form.
    private func setHoles(_ holes: FreeSpace) {
        if holes.holes.isEmpty {
            freeKind = .none
            cold?.holes = FreeSpace()
        } else if holes.holes.count == 1, holes.holes[0] == span {
            freeKind = .whole
            cold?.holes = FreeSpace()
        } else {
            freeKind = .partial
            if let cold { cold.holes = holes } else {
                let c = ExtentCold()
                c.holes = holes
                cold = c
            }
        }
    }

    /// Marks `span` busy (FreeSpace.take). Returns false, changing
    /// nothing, unless all of it is free.
    func takeFree(_ part: Span) -> Bool {
        if freeKind == .whole, part == span {
            freeKind = .none
            return true
        }
        if freeKind == .partial, let cold {
            // In place: the holes array stays uniquely referenced.
            guard cold.holes.take(part) else { return false }
            if cold.holes.holes.isEmpty { setHoles(FreeSpace()) }
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
        if freeKind == .partial, let cold {
            guard cold.holes.give(part) else { return false }
            if cold.holes.holes.count == 1, cold.holes.holes[0] == span { setHoles(cold.holes) }
            return true
        }
        var h = holes
        guard h.give(part) else { return false }
        setHoles(h)
        return true
    }
}

/// The rarely needed part of an extent: made when it is first fragmented
/// or given a release request, then kept.
final class ExtentCold: @unchecked Sendable {
    var holes = FreeSpace()
    var releaseRequest: UInt64 = 0
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
