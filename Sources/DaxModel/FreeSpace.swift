/// The free space of a region: what the kernel's resource tree leaves
/// between the busy children of `dax_region->res`.
///
/// Kept as the complement of the busy ranges: holes sorted by address,
/// disjoint and never adjacent (neighbours are merged). The allocator's
/// questions are then cheap: the lowest hole is the first element; whether
/// a range is free is one binary search; `total` is a running sum.
///
/// - Complexity: lookups O(log n); `take`/`give` O(log n) plus an array
///   insert or remove.
struct FreeSpace: Sendable {
    private(set) var holes: [Span] = []
    private(set) var total: UInt64 = 0

    init() {}

    init(_ span: Span) {
        holes = [span]
        total = span.length
    }

    /// The lowest-address hole, the one `dev_dax_resize` picks first.
    var lowest: Span? { holes.first }

    /// Index of the last hole whose start is <= `address`, if any.
    private func indexAtOrBefore(_ address: UInt64) -> Int? {
        let i = holes.partitionPoint { $0.start <= address }
        return i == 0 ? nil : i - 1
    }

    /// True when all of `span` is free.
    func isFree(_ span: Span) -> Bool {
        guard let i = indexAtOrBefore(span.start) else { return false }
        return holes[i].contains(span)
    }

    /// Marks `span` busy. Returns false, changing nothing, unless all of it
    /// is free (the kernel's `__request_region` conflict).
    @discardableResult
    mutating func take(_ span: Span) -> Bool {
        guard let i = indexAtOrBefore(span.start), holes[i].contains(span) else { return false }
        let hole = holes[i]
        let before = span.start > hole.start ? Span(start: hole.start, last: span.start - 1) : nil
        let after = span.last < hole.last ? Span(start: span.last + 1, last: hole.last) : nil
        switch (before, after) {
        case let (b?, a?):
            holes[i] = b
            holes.insert(a, at: i + 1)
        case let (b?, nil):
            holes[i] = b
        case let (nil, a?):
            holes[i] = a
        case (nil, nil):
            holes.remove(at: i)
        }
        total &-= span.length
        return true
    }

    /// Marks `span` free again, merging it with adjacent holes. Returns
    /// false, changing nothing, if any of it is already free (a model bug
    /// that `checkInvariants` reports; never a trap).
    @discardableResult
    mutating func give(_ span: Span) -> Bool {
        let prev = indexAtOrBefore(span.start)
        let next = (prev ?? -1) + 1
        if let p = prev, holes[p].last >= span.start { return false }
        if next < holes.count, holes[next].start <= span.last { return false }
        let mergePrev = prev.map { span.start > 0 && holes[$0].last == span.start - 1 } ?? false
        let mergeNext = next < holes.count && span.last < UInt64.max && holes[next].start == span.last + 1
        switch (mergePrev, mergeNext) {
        case (true, true):
            if let p = prev {
                holes[p].last = holes[next].last
                holes.remove(at: next)
            }
        case (true, false):
            if let p = prev { holes[p].last = span.last }
        case (false, true):
            holes[next].start = span.start
        case (false, false):
            holes.insert(span, at: next)
        }
        total &+= span.length
        return true
    }
}
