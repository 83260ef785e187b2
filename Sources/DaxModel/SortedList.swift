/// An ordered multiset of (key, value) entries, kept as a list of sorted
/// blocks of at most `blockCapacity` entries (the layout of Python's
/// sortedcontainers): the one ordered container every index of the model
/// uses (extents by acceptance order and by address, tag pools, free ids).
///
/// Finding a key is two binary searches (over the blocks' last keys, then
/// inside one block); inserting or removing moves at most one block's
/// entries and, when a block splits or empties, the block list itself
/// (n / capacity references). For the model's sizes (up to 2^20 extents)
/// that is a few hundred word moves at most: logarithmic search, bounded
/// moves, no rebalancing.
///
/// Entries with equal keys keep their insertion order. Positions are valid
/// until the next mutation.
struct SortedList<Value>: Sequence {
    struct Entry {
        var key: UInt64
        var value: Value
    }

    /// A place in the list: block and offset inside it.
    struct Position: Equatable {
        var block: Int
        var offset: Int
    }

    static var blockCapacity: Int { 512 }

    /// Every block non-empty and sorted; each block's first key is >= the
    /// previous block's last key.
    private(set) var blocks: [[Entry]] = []
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    var first: Entry? { blocks.first?.first }
    var last: Entry? { blocks.last?.last }

    /// The first block whose last key is >= `key` (so the first entry
    /// >= `key`, if any, is in it), or `blocks.count`.
    private func blockIndex(atOrAfter key: UInt64) -> Int {
        var lo = 0, hi = blocks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if let lastKey = blocks[mid].last?.key, lastKey < key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The first block whose last key is > `key`, or `blocks.count`.
    private func blockIndex(after key: UInt64) -> Int {
        var lo = 0, hi = blocks.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if let lastKey = blocks[mid].last?.key, lastKey <= key { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// The position of the first entry whose key is >= `key`, or nil.
    func lowerBound(_ key: UInt64) -> Position? {
        let b = blockIndex(atOrAfter: key)
        guard b < blocks.count else { return nil }
        return Position(block: b, offset: blocks[b].partitionPoint { $0.key < key })
    }

    /// The position of the first entry whose key is > `key`, or nil.
    func upperBound(_ key: UInt64) -> Position? {
        let b = blockIndex(after: key)
        guard b < blocks.count else { return nil }
        return Position(block: b, offset: blocks[b].partitionPoint { $0.key <= key })
    }

    /// The position of the last entry whose key is < `key`, or nil.
    func lastBefore(_ key: UInt64) -> Position? {
        if let p = lowerBound(key) { return position(before: p) }
        return lastPosition
    }

    var firstPosition: Position? { blocks.isEmpty ? nil : Position(block: 0, offset: 0) }

    var lastPosition: Position? {
        guard let lastBlock = blocks.last, !lastBlock.isEmpty else { return nil }
        return Position(block: blocks.count - 1, offset: lastBlock.count - 1)
    }

    subscript(position: Position) -> Entry { blocks[position.block][position.offset] }

    func position(after p: Position) -> Position? {
        if p.offset + 1 < blocks[p.block].count { return Position(block: p.block, offset: p.offset + 1) }
        return p.block + 1 < blocks.count ? Position(block: p.block + 1, offset: 0) : nil
    }

    func position(before p: Position) -> Position? {
        if p.offset > 0 { return Position(block: p.block, offset: p.offset - 1) }
        guard p.block > 0 else { return nil }
        return Position(block: p.block - 1, offset: blocks[p.block - 1].count - 1)
    }

    /// Inserts after every entry with the same key.
    mutating func insert(_ value: Value, key: UInt64) {
        count += 1
        guard !blocks.isEmpty else {
            blocks.append([Entry(key: key, value: value)])
            return
        }
        // The block holding the first entry > key, or the last block.
        let b = Swift.min(blockIndex(after: key), blocks.count - 1)
        let at = blocks[b].partitionPoint { $0.key <= key }
        blocks[b].insert(Entry(key: key, value: value), at: at)
        if blocks[b].count > Self.blockCapacity { split(b) }
    }

    /// Appends an entry whose key is >= every key held (O(1) amortized).
    /// Returns false, inserting nothing, if the key is smaller.
    @discardableResult
    mutating func append(_ value: Value, key: UInt64) -> Bool {
        if let lastKey = last?.key, key < lastKey { return false }
        count += 1
        if blocks.isEmpty || blocks[blocks.count - 1].count >= Self.blockCapacity {
            // No reserved capacity: most lists (a tag's extents) stay small.
            blocks.append([Entry(key: key, value: value)])
        } else {
            blocks[blocks.count - 1].append(Entry(key: key, value: value))
        }
        return true
    }

    private mutating func split(_ b: Int) {
        let half = blocks[b].count / 2
        let tail = Array(blocks[b][half...])
        blocks[b].removeSubrange(half...)
        blocks.insert(tail, at: b + 1)
    }

    /// Removes the entry at `p` and returns it.
    @discardableResult
    mutating func remove(at p: Position) -> Entry {
        count -= 1
        let entry = blocks[p.block].remove(at: p.offset)
        if blocks[p.block].isEmpty { blocks.remove(at: p.block) }
        return entry
    }

    /// The position of the first entry with `key` for which `matches`
    /// holds, among the entries with that key.
    func find(_ key: UInt64, where matches: (Value) -> Bool) -> Position? {
        var p = lowerBound(key)
        while let q = p, self[q].key == key {
            if matches(self[q].value) { return q }
            p = position(after: q)
        }
        return nil
    }

    /// Removes the first entry with `key` for which `matches` holds;
    /// returns whether one was found.
    @discardableResult
    mutating func remove(_ key: UInt64, where matches: (Value) -> Bool) -> Bool {
        guard let p = find(key, where: matches) else { return false }
        remove(at: p)
        return true
    }

    mutating func removeAll() {
        blocks = []
        count = 0
    }

    /// The values in key order.
    struct Iterator: IteratorProtocol {
        var list: SortedList
        var position: Position?
        mutating func next() -> Value? {
            guard let p = position else { return nil }
            position = list.position(after: p)
            return list[p].value
        }
    }

    func makeIterator() -> Iterator { Iterator(list: self, position: firstPosition) }

    var values: [Value] { map { $0 } }
}

extension SortedList: Sendable where Value: Sendable {}
extension SortedList.Entry: Sendable where Value: Sendable {}
extension SortedList.Position: Sendable {}
