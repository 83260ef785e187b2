/// Lowest-free-id allocation, the kernel's `ida_alloc` as the dax bus uses
/// it for device ids: ids run from 0 to INT_MAX, a freed id is handed out
/// again before any higher one, and when none is left the allocation fails
/// (the kernel's -ENOSPC).
///
/// Free ids below `next` are kept as runs, so claiming a high id (a loaded
/// or imported `dax0.5000`) frees everything below it in one entry.
///
/// - Complexity: O(log n) in the number of free runs per call, plus a
///   bounded block move (SortedList).
struct IdAllocator: Sendable {
    /// The highest id the kernel's ida hands out (INT_MAX).
    static let maxId = Int(Int32.max)

    /// The highest id this allocator hands out (`maxId` but in tests).
    let limit: Int

    init(limit: Int = IdAllocator.maxId) { self.limit = limit }

    /// Free runs below `next`: key = first free id, value = one past the
    /// last. Runs are disjoint and never adjacent; `next - 1` is always in
    /// use, so every run ends below it.
    private var freed = SortedList<Int>()
    /// Every id >= next is free; every id below is used unless in a run.
    private var next = 0

    /// Takes the lowest free id, or nil when all of 0...limit are used.
    mutating func allocate() -> Int? {
        if let p = freed.firstPosition {
            let run = freed.remove(at: p)
            let id = Int(run.key)
            if id + 1 < run.value { freed.insert(run.value, key: UInt64(id + 1)) }
            return id
        }
        guard next <= limit else { return nil }
        defer { next += 1 }
        return next
    }

    /// Takes a specific id; false if it is in use or outside 0...limit.
    /// Claims come from loading and importing (ids chosen by a file or a
    /// real kernel) and from a static region's one device.
    mutating func claim(_ id: Int) -> Bool {
        guard id >= 0, id <= limit else { return false }
        if id >= next {
            if id > next { addRun(from: next, to: id) }
            next = id + 1
            return true
        }
        guard let p = freed.lastBefore(UInt64(id) + 1) else { return false }
        let run = freed[p]
        let first = Int(run.key)
        guard id < run.value else { return false }
        freed.remove(at: p)
        if first < id { freed.insert(id, key: run.key) }
        if id + 1 < run.value { freed.insert(run.value, key: UInt64(id + 1)) }
        return true
    }

    /// Returns `id` to the pool; ignores ids that are not in use.
    mutating func release(_ id: Int) {
        guard isUsed(id) else { return }
        if id == next - 1 {
            // The highest used id: `next` moves down, over a run that ends here.
            next = id
            if let p = freed.lastPosition, freed[p].value == next {
                next = Int(freed.remove(at: p).key)
            }
            return
        }
        addRun(from: id, to: id + 1)
    }

    /// True when `id` is taken (for postcondition checks).
    func isUsed(_ id: Int) -> Bool {
        guard id >= 0, id < next else { return false }
        guard let p = freed.lastBefore(UInt64(id) + 1) else { return true }
        return id >= freed[p].value
    }

    /// Frees [from, to), all of it used before: merged with the runs
    /// ending at `from` and starting at `to`.
    private mutating func addRun(from: Int, to: Int) {
        var start = from, end = to
        if let p = freed.lastBefore(UInt64(from)), freed[p].value == from {
            start = Int(freed.remove(at: p).key)
        }
        if let p = freed.lowerBound(UInt64(to)), freed[p].key == UInt64(to) {
            end = freed.remove(at: p).value
        }
        freed.insert(end, key: UInt64(start))
    }
}
