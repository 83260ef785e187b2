/// Lowest-free-id allocation, the kernel's `ida_alloc` as the dax bus uses
/// it for device ids: a freed id is handed out again before any higher one.
///
/// - Complexity: O(log n) search plus a bounded block move (SortedList).
struct IdAllocator: Sendable {
    /// Free ids below `next`, ascending: the lowest is first.
    private var freed = SortedList<Void>()
    /// Every id >= next is free.
    private var next = 0

    /// Takes the lowest free id.
    mutating func allocate() -> Int {
        if let p = freed.firstPosition { return Int(freed.remove(at: p).key) }
        defer { next += 1 }
        return next
    }

    /// Takes a specific id; false if it is in use or negative. Only a static
    /// region claims an id, for its one device; the ids below it stay free.
    mutating func claim(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        if id >= next {
            for gap in next..<min(id, next + 4096) { freed.append((), key: UInt64(gap)) }
            next = id + 1
            return true
        }
        return freed.remove(UInt64(id)) { _ in true }
    }

    /// Returns `id` to the pool; ignores ids that are already free.
    mutating func release(_ id: Int) {
        guard id >= 0, id < next, freed.find(UInt64(id), where: { _ in true }) == nil else { return }
        freed.insert((), key: UInt64(id))
    }

    /// True when `id` is taken (for postcondition checks).
    func isUsed(_ id: Int) -> Bool {
        guard id >= 0, id < next else { return false }
        return freed.find(UInt64(id), where: { _ in true }) == nil
    }
}
