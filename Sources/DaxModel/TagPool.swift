/// The extents of one tag in one sparse region: the unit of tag-aware
/// allocation. `members` in acceptance order (accepted and releasing);
/// `open` the accepted ones with free space, in acceptance order, so first
/// fit is `open.first`; `free` their free bytes.
struct TagPool: Sendable {
    private(set) var members: [Extent] = []
    private(set) var open: [Extent] = []
    private(set) var free: UInt64 = 0

    var isEmpty: Bool { members.isEmpty }

    mutating func add(_ extent: Extent) {
        members.insert(extent, at: Self.position(of: extent.order, in: members))
        refresh(extent, oldFree: 0, wasCounted: false)
    }

    mutating func remove(_ extent: Extent, wasCounted: Bool) {
        let i = Self.position(of: extent.order, in: members)
        if i < members.count, members[i] === extent { members.remove(at: i) }
        let j = Self.position(of: extent.order, in: open)
        if j < open.count, open[j] === extent { open.remove(at: j) }
        if wasCounted { free &-= extent.free.total }
    }

    /// Re-files `extent` after its free space or state changed. `oldFree`
    /// is what `free` counted for it before; `wasCounted` whether it did.
    mutating func refresh(_ extent: Extent, oldFree: UInt64, wasCounted: Bool) {
        if wasCounted { free &-= oldFree }
        let counted = extent.state == .accepted
        if counted { free &+= extent.free.total }
        let shouldBeOpen = counted && extent.free.total > 0
        let j = Self.position(of: extent.order, in: open)
        let isOpen = j < open.count && open[j] === extent
        if shouldBeOpen, !isOpen { open.insert(extent, at: j) }
        if !shouldBeOpen, isOpen { open.remove(at: j) }
    }

    /// First index whose order is >= `order`.
    private static func position(of order: UInt64, in list: [Extent]) -> Int {
        list.partitionPoint { $0.order < order }
    }
}

/// The sparse half of a region: extents, tag pools, the open group.
struct SparseState: Sendable {
    /// Accepted and releasing extents in acceptance order.
    var byOrder: [Extent] = []
    /// The same, sorted by address.
    var byAddress: [Extent] = []
    var pools: [DaxTag: TagPool] = [:]
    /// The group being offered (CXL More flag set on its records so far).
    var staged: [ExtentOffer] = []
    var stagedShareable = false
    /// Free bytes inside accepted extents: `available_size`.
    var available: UInt64 = 0
    var ids = IdAllocator()
    var nextOrder: UInt64 = 0
    var maxPerGroup = 100
    var maxExtents = 1 << 20
    /// Forced releases remove extents at once instead of being ignored.
    var revoke = false

    func indexByOrder(_ order: UInt64) -> Int { byOrder.partitionPoint { $0.order < order } }

    /// First index whose extent starts at or after `address`.
    func indexByAddress(_ address: UInt64) -> Int { byAddress.partitionPoint { $0.start < address } }

    /// Extents overlapping `span`, in address order.
    func touching(_ span: Span) -> [Extent] {
        var i = indexByAddress(span.start)
        if i > 0, byAddress[i - 1].span.last >= span.start { i -= 1 }
        var found: [Extent] = []
        while i < byAddress.count, byAddress[i].start <= span.last {
            if byAddress[i].span.last >= span.start { found.append(byAddress[i]) }
            i += 1
        }
        return found
    }
}
