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
public final class Extent: @unchecked Sendable {
    /// K of `extentK`: the lowest id free in the region when accepted.
    public let id: Int
    /// Absolute physical range.
    public let span: Span
    public internal(set) var tag: DaxTag
    /// Shared-extent sequence number (orders a tag group).
    public let sequence: UInt32
    /// The group was shareable: `sequence` orders the tag group. Otherwise
    /// the field is reserved and acceptance order lays the group out.
    public let sequenced: Bool
    /// Acceptance order within the region; first fit follows it.
    public let order: UInt64
    public internal(set) var state: ExtentState = .accepted
    /// Caller pins (`daxm_extent_get`).
    public internal(set) var pins = 0
    /// The release request a releasing extent answers when it completes.
    public internal(set) var releaseRequest: UInt64 = 0
    /// Device ranges inside this extent, one reference each.
    public internal(set) var rangeRefs = 0
    /// Strong: a released extent leaves its region's lists, and the
    /// teardown clears the link.
    public internal(set) var region: Region?
    /// The bus's anchor (see `ModelAnchor`).
    public let anchor: ModelAnchor
    /// The embedder handed this object's address out: once deleted (or
    /// released) it is kept until the model is torn down.
    public var handedOut = false
    /// References taken by embedders on the handle (`daxm_extent_ref`).
    public let externalRefs = Atomic<Int>(0)
    /// Free space inside the extent.
    var free: FreeSpace

    init(id: Int, span: Span, tag: DaxTag, sequence: UInt32, sequenced: Bool, order: UInt64, region: Region) {
        self.id = id
        self.span = span
        self.tag = tag
        self.sequence = sequence
        self.sequenced = sequenced
        self.order = order
        self.region = region
        self.anchor = region.anchor
        self.free = FreeSpace(span)
    }

    public var refcount: Int { rangeRefs + pins }
    public var start: UInt64 { span.start }
    public var length: UInt64 { span.length }
    /// Region-relative offset (`extentK/offset`).
    public var offset: UInt64 { span.start &- (region?.start ?? 0) }
    /// Bytes not used by any device range.
    public var freeBytes: UInt64 { free.total }
    public var name: String { "extent\(id)" }
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
