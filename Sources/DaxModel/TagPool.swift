/// The extents of one tag in one sparse region: the unit of tag-aware
/// allocation. `members` in acceptance order (accepted and releasing);
/// `open` the accepted ones with free space, in acceptance order, so first
/// fit is `open.first`; `free` their free bytes.
struct TagPool: @unchecked Sendable {
    private(set) var members = SortedList<Extent>()
    private(set) var open = SortedList<Extent>()
    private(set) var free: UInt64 = 0

    var isEmpty: Bool { members.isEmpty }

    /// The first accepted extent with free space, in acceptance order.
    var firstOpen: Extent? { open.first?.value }

    mutating func add(_ extent: Extent) {
        if !members.append(extent, key: extent.order) { members.insert(extent, key: extent.order) }
        refresh(extent, oldFree: 0, wasCounted: false)
    }

    mutating func remove(_ extent: Extent, wasCounted: Bool) {
        members.remove(extent.order) { $0 === extent }
        open.remove(extent.order) { $0 === extent }
        if wasCounted { free &-= extent.free.total }
    }

    /// Re-files `extent` after its free space or state changed. `oldFree`
    /// is what `free` counted for it before; `wasCounted` whether it did.
    mutating func refresh(_ extent: Extent, oldFree: UInt64, wasCounted: Bool) {
        if wasCounted { free &-= oldFree }
        let counted = extent.state == .accepted
        if counted { free &+= extent.free.total }
        let shouldBeOpen = counted && extent.free.total > 0
        let at = open.find(extent.order) { $0 === extent }
        if shouldBeOpen, at == nil { open.insert(extent, key: extent.order) }
        if !shouldBeOpen, let at { open.remove(at: at) }
    }
}

/// The sparse half of a region: extents, tag pools, the open group.
struct SparseState: @unchecked Sendable {
    /// Accepted and releasing extents in acceptance order.
    var byOrder = SortedList<Extent>()
    /// The same, by start address.
    var byAddress = SortedList<Extent>()
    /// The same, by id. A dictionary, not a dense table: a loaded state
    /// may hold any id up to 2^31 - 1.
    var byId: [Int: Extent] = [:]
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

    var count: Int { byOrder.count }

    /// Files an extent in every index but its tag pool.
    mutating func file(_ extent: Extent) {
        if !byOrder.append(extent, key: extent.order) { byOrder.insert(extent, key: extent.order) }
        byAddress.insert(extent, key: extent.start)
        byId[extent.id] = extent
    }

    /// Takes an extent out of every index but its tag pool.
    mutating func unfile(_ extent: Extent) {
        byOrder.remove(extent.order) { $0 === extent }
        byAddress.remove(extent.start) { $0 === extent }
        if byId[extent.id] === extent { byId[extent.id] = nil }
    }

    func extent(id: Int) -> Extent? { byId[id] }

    /// The extent after `extent` in acceptance order.
    func extent(after extent: Extent) -> Extent? {
        guard let p = byOrder.find(extent.order, where: { $0 === extent }), let q = byOrder.position(after: p) else {
            return nil
        }
        return byOrder[q].value
    }

    /// Extents overlapping `span`, in address order.
    func touching(_ span: Span) -> [Extent] {
        var p = byAddress.lowerBound(span.start)
        if let before = byAddress.lastBefore(span.start), byAddress[before].value.span.last >= span.start {
            p = before
        }
        var found: [Extent] = []
        while let q = p, byAddress[q].value.start <= span.last {
            let e = byAddress[q].value
            if e.span.last >= span.start { found.append(e) }
            p = byAddress.position(after: q)
        }
        return found
    }
}
