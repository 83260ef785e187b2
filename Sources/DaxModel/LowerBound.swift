extension RandomAccessCollection where Index == Int {
    /// Binary search over a collection partitioned by `isBefore` (all
    /// elements for which it holds come first): the index of the first
    /// element for which it does not hold, or `endIndex`.
    /// - Complexity: O(log n).
    func partitionPoint(_ isBefore: (Element) -> Bool) -> Int {
        var lo = startIndex, hi = endIndex
        while lo < hi {
            let mid = lo + (hi - lo) / 2
            if isBefore(self[mid]) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}
