/// Lowest-free-id allocation, the kernel's `ida_alloc` as the dax bus uses
/// it for device ids: a freed id is handed out again before any higher one.
///
/// - Complexity: O(log n) search plus an array insert/remove for freed ids;
///   O(1) when ids are only ever taken.
struct IdAllocator: Sendable {
    /// Ids below `next` that are free, sorted ascending.
    private var freed: [Int] = []
    /// Every id >= next is free.
    private var next = 0

    /// Takes the lowest free id.
    mutating func allocate() -> Int {
        if !freed.isEmpty { return freed.removeFirst() }
        defer { next += 1 }
        return next
    }

    /// Takes a specific id; false if it is in use or negative.
    mutating func claim(_ id: Int) -> Bool {
        guard id >= 0 else { return false }
        if id >= next {
            // Only a static region claims an id, for its one device, so the
            // ids below it are never asked for; keep them free all the same.
            freed.append(contentsOf: next..<min(id, next + 4096))
            next = id + 1
            return true
        }
        guard let i = position(of: id) else { return false }
        freed.remove(at: i)
        return true
    }

    /// Returns `id` to the pool.
    mutating func release(_ id: Int) {
        guard id >= 0, id < next, position(of: id) == nil else { return }
        var lo = 0, hi = freed.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if freed[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        freed.insert(id, at: lo)
        while let last = freed.last, last == next - 1 {
            freed.removeLast()
            next -= 1
        }
    }

    private func position(of id: Int) -> Int? {
        var lo = 0, hi = freed.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if freed[mid] < id { lo = mid + 1 } else { hi = mid }
        }
        return lo < freed.count && freed[lo] == id ? lo : nil
    }
}
