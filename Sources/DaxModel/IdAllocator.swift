/// Lowest-free-id allocation, the kernel's `ida_alloc` as the dax bus uses
/// it for device ids: a freed id is handed out again before any higher one.
///
/// - Complexity: `allocate` O(1); `release` and `claim` O(log n) search
///   plus an array insert over the freed ids only.
struct IdAllocator: Sendable {
    /// Free ids below `next`, sorted DEscending so the lowest is last.
    private var freed: [Int] = []
    /// Every id >= next is free.
    private var next = 0

    /// Takes the lowest free id.
    mutating func allocate() -> Int {
        if let lowest = freed.popLast() { return lowest }
        defer { next += 1 }
        return next
    }

    /// Takes a specific id; false if it is in use or negative. Only a static
    /// region claims an id, for its one device; the ids below it stay free.
    mutating func claim(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        if id >= next {
            let gaps = next..<min(id, next + 4096)
            freed.insert(contentsOf: gaps.reversed(), at: 0)
            next = id + 1
            return true
        }
        let i = insertionIndex(of: id)
        guard i < freed.count, freed[i] == id else { return false }
        freed.remove(at: i)
        return true
    }

    /// Returns `id` to the pool; ignores ids that are already free.
    mutating func release(_ id: Int) {
        guard id >= 0, id < next else { return }
        let i = insertionIndex(of: id)
        guard i == freed.count || freed[i] != id else { return }
        freed.insert(id, at: i)
    }

    /// True when `id` is taken (for postcondition checks).
    func isUsed(_ id: Int) -> Bool {
        guard id >= 0, id < next else { return false }
        let i = insertionIndex(of: id)
        return i == freed.count || freed[i] != id
    }

    /// First index whose id is <= `id` (the array is descending).
    private func insertionIndex(of id: Int) -> Int { freed.partitionPoint { $0 > id } }
}
