/// The extents of one tag in one sparse region: the unit of tag-aware
/// allocation. `members` in acceptance order (accepted and releasing);
/// the open ones (accepted, with free space) in acceptance order, so first
/// fit is `firstOpen`; `free` their free bytes.
///
/// A value type over one `PoolCore` object, which the member extents also
/// point to (it holds the tag for them). A pool of up to 64
/// members (every tag group of the default group limit) keeps them in one
/// array with a bit mask of the open ones; a larger one (the untagged
/// pool, typically) in two sorted lists.
struct TagPool: @unchecked Sendable {
    private(set) var core: PoolCore?

    var isEmpty: Bool { core?.isEmpty ?? true }
    var free: UInt64 { core?.free ?? 0 }

    /// The first accepted extent with free space, in acceptance order.
    var firstOpen: Extent? { core?.firstOpen }

    /// Members in acceptance order.
    var members: [Extent] { core?.members ?? [] }

    mutating func add(_ extent: Extent) {
        if let core {
            if extent.pool !== core { extent.pool = core }
        } else {
            core = extent.pool
        }
        core?.add(extent)
    }

    mutating func remove(_ extent: Extent, wasCounted: Bool) {
        core?.remove(extent, wasCounted: wasCounted)
    }

    /// Re-files `extent` after its free space or state changed. `oldFree`
    /// is what `free` counted for it before; `wasCounted` whether it did.
    mutating func refresh(_ extent: Extent, oldFree: UInt64, wasCounted: Bool) {
        core?.refresh(extent, oldFree: oldFree, wasCounted: wasCounted)
    }

    func contains(_ extent: Extent) -> Bool { core?.contains(extent) ?? false }
    func isOpen(_ extent: Extent) -> Bool { core?.isOpen(extent) ?? false }
}

/// Extents keyed by acceptance order (the key is read from the extent).
enum ByOrder: SortedListLayout {
    static func key(of stored: Extent) -> UInt64 { stored.order }
    static func value(of stored: Extent) -> Extent { stored }
    static func store(_ value: Extent, key: UInt64) -> Extent { value }
}

/// Extents keyed by start address (the key is read from the extent).
enum ByStart: SortedListLayout {
    static func key(of stored: Extent) -> UInt64 { stored.span.start }
    static func value(of stored: Extent) -> Extent { stored }
    static func store(_ value: Extent, key: UInt64) -> Extent { value }
}

/// The shared part of a tag pool (see `TagPool`).
final class PoolCore: @unchecked Sendable {
    let tag: DaxTag
    private(set) var free: UInt64 = 0
    /// Members in acceptance order while there are at most `smallLimit`.
    private var small: [Extent] = []
    /// Bit i set: `small[i]` is open.
    private var openMask: UInt64 = 0
    /// Members and open extents once the pool outgrew `small`.
    private var big: BigPool?

    static let smallLimit = 64

    final class BigPool {
        var members = SortedBlocks<ByOrder>()
        var open = SortedBlocks<ByOrder>()
    }

    init(tag: DaxTag) {
        self.tag = tag
    }

    var isEmpty: Bool { big.map { $0.members.isEmpty } ?? small.isEmpty }

    var firstOpen: Extent? {
        if let big { return big.open.first?.value }
        return openMask == 0 ? nil : small[openMask.trailingZeroBitCount]
    }

    var members: [Extent] { big?.members.values ?? small }

    /// Drops every member (teardown).
    func removeAll() {
        small = []
        openMask = 0
        big = nil
        free = 0
    }

    /// The index of `extent` in `small`, if there.
    private func smallIndex(_ extent: Extent) -> Int? {
        var i = small.partitionPoint { $0.order < extent.order }
        while i < small.count, small[i].order == extent.order {
            if small[i] === extent { return i }
            i += 1
        }
        return nil
    }

    func contains(_ extent: Extent) -> Bool {
        if let big { return big.members.find(extent.order) { $0 === extent } != nil }
        return smallIndex(extent) != nil
    }

    func isOpen(_ extent: Extent) -> Bool {
        if let big { return big.open.find(extent.order) { $0 === extent } != nil }
        guard let i = smallIndex(extent) else { return false }
        return openMask & (1 << UInt64(i)) != 0
    }

    func add(_ extent: Extent) {
        if big == nil, small.count >= Self.smallLimit { grow() }
        if let big {
            if !big.members.append(extent, key: extent.order) { big.members.insert(extent, key: extent.order) }
        } else {
            let i = small.partitionPoint { $0.order <= extent.order }
            small.insert(extent, at: i)
            let below: UInt64 = (1 << UInt64(i)) &- 1
            openMask = (openMask & below) | ((openMask & ~below) << 1)
        }
        refresh(extent, oldFree: 0, wasCounted: false)
    }

    /// Moves the members to the sorted lists.
    private func grow() {
        let b = BigPool()
        for (i, e) in small.enumerated() {
            b.members.append(e, key: e.order)
            if openMask & (1 << UInt64(i)) != 0 { b.open.append(e, key: e.order) }
        }
        small = []
        openMask = 0
        big = b
    }

    func remove(_ extent: Extent, wasCounted: Bool) {
        if let big {
            big.members.remove(extent.order) { $0 === extent }
            big.open.remove(extent.order) { $0 === extent }
        } else if let i = smallIndex(extent) {
            small.remove(at: i)
            let below: UInt64 = (1 << UInt64(i)) &- 1
            openMask = (openMask & below) | ((openMask >> 1) & ~below)
        }
        if wasCounted { free &-= extent.free.total }
    }

    func refresh(_ extent: Extent, oldFree: UInt64, wasCounted: Bool) {
        if wasCounted { free &-= oldFree }
        let counted = extent.state == .accepted
        let total = extent.free.total
        if counted { free &+= total }
        let shouldBeOpen = counted && total > 0
        if let big {
            let at = big.open.find(extent.order) { $0 === extent }
            if shouldBeOpen, at == nil { big.open.insert(extent, key: extent.order) }
            if !shouldBeOpen, let at { big.open.remove(at: at) }
        } else if let i = smallIndex(extent) {
            let bit: UInt64 = 1 << UInt64(i)
            if shouldBeOpen { openMask |= bit } else { openMask &= ~bit }
        }
    }
}

/// Extents by id: a dense table for the ids the region hands out (the
/// lowest free one, so they stay below the number of extents) and a
/// dictionary for the scattered ids a loaded state may hold (up to
/// 2^31 - 1). O(1) lookup.
struct ExtentIdTable: @unchecked Sendable {
    private var dense: [Extent?] = []
    private var scattered: [Int: Extent] = [:]
    private(set) var count = 0

    subscript(id: Int) -> Extent? {
        if id >= 0, id < dense.count, let e = dense[id] { return e }
        return scattered.isEmpty ? nil : scattered[id]
    }

    mutating func insert(_ extent: Extent) {
        let id = extent.id
        if id >= 0, id < dense.count {
            if dense[id] == nil { count += 1 }
            dense[id] = extent
            return
        }
        if id >= 0, id <= Swift.max(2 * count, dense.count + 1024) {
            while dense.count < id { dense.append(nil) }
            dense.append(extent)
            count += 1
            return
        }
        if scattered.updateValue(extent, forKey: id) == nil { count += 1 }
    }

    /// Removes `extent` if it is the one filed under its id.
    mutating func remove(_ extent: Extent) {
        let id = extent.id
        if id >= 0, id < dense.count, dense[id] === extent {
            dense[id] = nil
            count -= 1
        } else if scattered[id] === extent {
            scattered[id] = nil
            count -= 1
        }
    }
}

/// The sparse half of a region: extents, tag pools, the open group.
struct SparseState: @unchecked Sendable {
    /// Accepted and releasing extents in acceptance order.
    var byOrder = SortedBlocks<ByOrder>()
    /// The same, by start address.
    var byAddress = SortedBlocks<ByStart>()
    /// The same, by id.
    var byId = ExtentIdTable()
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
        byId.insert(extent)
    }

    /// Takes an extent out of every index but its tag pool.
    mutating func unfile(_ extent: Extent) {
        byOrder.remove(extent.order) { $0 === extent }
        byAddress.remove(extent.start) { $0 === extent }
        byId.remove(extent)
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
