/// How a sorted list stores an entry: the key beside the value
/// (`KeyedLayout`, for values that do not carry their key), or the value
/// alone when the key can be read from it (an extent's acceptance order or
/// start address: half the bytes per index entry).
protocol SortedListLayout {
    associatedtype Value
    associatedtype Stored
    static func key(of stored: Stored) -> UInt64
    static func value(of stored: Stored) -> Value
    /// `key` is the value's key; layouts that read it from the value
    /// ignore it.
    static func store(_ value: Value, key: UInt64) -> Stored
}

/// Entries stored as (key, value) pairs.
enum KeyedLayout<Value>: SortedListLayout {
    struct Stored {
        var key: UInt64
        var value: Value
    }

    static func key(of stored: Stored) -> UInt64 { stored.key }
    static func value(of stored: Stored) -> Value { stored.value }
    static func store(_ value: Value, key: UInt64) -> Stored { Stored(key: key, value: value) }
}

/// An ordered multiset of (key, value) entries with explicit keys.
typealias SortedList<Value> = SortedBlocks<KeyedLayout<Value>>

/// An ordered multiset of (key, value) entries, kept as a list of sorted
/// blocks of at most `blockCapacity` entries (the layout of Python's
/// sortedcontainers): the one ordered container every index of the model
/// uses (extents by acceptance order and by address, large tag pools, free
/// ids). `Layout` says whether an entry stores its key or reads it from
/// its value.
///
/// Finding a key is two binary searches (over the blocks' last keys, kept
/// in one contiguous array, then inside one block); inserting or removing
/// moves at most one block's entries and, when a block splits or empties,
/// the block list itself (n / capacity references). For the model's sizes
/// (up to 2^20 extents) that is a few hundred word moves at most:
/// logarithmic search, bounded moves, no rebalancing. An entry that goes
/// after every other one is appended (to a new block when the last is
/// full), so ascending input fills blocks completely.
///
/// Entries with equal keys keep their insertion order. Positions are valid
/// until the next mutation.
struct SortedBlocks<Layout: SortedListLayout>: Sequence {
    typealias Value = Layout.Value

    struct Entry {
        var key: UInt64
        var value: Value
    }

    /// A place in the list: block and offset inside it.
    struct Position: Equatable {
        var block: Int
        var offset: Int
    }

    /// 512 entries, or fewer for entries over 16 bytes, so that an insert
    /// or removal moves at most about 8 KiB (a fabric host's extents are
    /// ~90 bytes each: 91 per block).
    static var blockCapacity: Int { Swift.max(64, Swift.min(512, 8192 / Swift.max(1, MemoryLayout<Layout.Stored>.stride))) }

    /// Every block non-empty and sorted; each block's first key is >= the
    /// previous block's last key.
    private(set) var blocks: [[Layout.Stored]] = []
    /// The last key of each block (`blocks[i].last`'s key).
    private var lastKeys: [UInt64] = []
    private(set) var count = 0

    init() {}

    var isEmpty: Bool { count == 0 }

    private static func entry(_ stored: Layout.Stored) -> Entry {
        Entry(key: Layout.key(of: stored), value: Layout.value(of: stored))
    }

    var first: Entry? {
        guard let stored = blocks.first?.first else { return nil }
        return Self.entry(stored)
    }

    var last: Entry? {
        guard let stored = blocks.last?.last else { return nil }
        return Self.entry(stored)
    }

    /// The first block whose last key is >= `key` (so the first entry
    /// >= `key`, if any, is in it), or `blocks.count`.
    private func blockIndex(atOrAfter key: UInt64) -> Int { lastKeys.partitionPoint { $0 < key } }

    /// The first block whose last key is > `key`, or `blocks.count`.
    private func blockIndex(after key: UInt64) -> Int { lastKeys.partitionPoint { $0 <= key } }

    /// The position of the first entry whose key is >= `key`, or nil.
    func lowerBound(_ key: UInt64) -> Position? {
        let b = blockIndex(atOrAfter: key)
        guard b < blocks.count else { return nil }
        return Position(block: b, offset: blocks[b].partitionPoint { Layout.key(of: $0) < key })
    }

    /// The position of the first entry whose key is > `key`, or nil.
    func upperBound(_ key: UInt64) -> Position? {
        let b = blockIndex(after: key)
        guard b < blocks.count else { return nil }
        return Position(block: b, offset: blocks[b].partitionPoint { Layout.key(of: $0) <= key })
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

    subscript(position: Position) -> Entry { Self.entry(blocks[position.block][position.offset]) }

    /// The value at `position`, without building an entry.
    func value(at position: Position) -> Value { Layout.value(of: blocks[position.block][position.offset]) }

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
        guard let lastKey = lastKeys.last, key < lastKey else {
            appendUnchecked(value, key: key)
            return
        }
        count += 1
        // The block holding the first entry > key (one exists: the last
        // key is greater); the entry goes inside it, so its last key stays.
        let b = blockIndex(after: key)
        let at = blocks[b].partitionPoint { Layout.key(of: $0) <= key }
        reserveRoom(inBlock: b)
        blocks[b].insert(Layout.store(value, key: key), at: at)
        if blocks[b].count > Self.blockCapacity { split(b) }
    }

    /// Appends an entry whose key is >= every key held (O(1) amortized).
    /// Returns false, inserting nothing, if the key is smaller.
    @discardableResult
    mutating func append(_ value: Value, key: UInt64) -> Bool {
        if let lastKey = lastKeys.last, key < lastKey { return false }
        appendUnchecked(value, key: key)
        return true
    }

    private mutating func appendUnchecked(_ value: Value, key: UInt64) {
        count += 1
        let stored = Layout.store(value, key: key)
        if blocks.isEmpty || blocks[blocks.count - 1].count >= Self.blockCapacity {
            // No reserved capacity: most lists (a tag's extents) stay small.
            blocks.append([stored])
            lastKeys.append(key)
        } else {
            reserveRoom(inBlock: blocks.count - 1)
            blocks[blocks.count - 1].append(stored)
            lastKeys[lastKeys.count - 1] = key
        }
    }

    /// Makes room for one more entry in block `b`, growing it by doubling
    /// but never past one entry over `blockCapacity` (the array's own
    /// growth would double a full block to twice the size it can hold).
    private mutating func reserveRoom(inBlock b: Int) {
        let capacity = blocks[b].capacity
        guard blocks[b].count >= capacity else { return }
        blocks[b].reserveCapacity(Swift.min(2 * capacity + 1, Self.blockCapacity + 1))
    }

    /// Splits an overfull block into two fresh arrays of exact capacity
    /// (the overfull one has twice the capacity it needs).
    private mutating func split(_ b: Int) {
        let half = blocks[b].count / 2
        let tail = Array(blocks[b][half...])
        let head = Array(blocks[b][..<half])
        blocks[b] = head
        blocks.insert(tail, at: b + 1)
        lastKeys.insert(lastKeys[b], at: b + 1)
        if let h = head.last { lastKeys[b] = Layout.key(of: h) }
    }

    /// Removes the entry at `p` and returns it.
    @discardableResult
    mutating func remove(at p: Position) -> Entry {
        count -= 1
        let stored = blocks[p.block].remove(at: p.offset)
        if blocks[p.block].isEmpty {
            blocks.remove(at: p.block)
            lastKeys.remove(at: p.block)
        } else if p.offset == blocks[p.block].count, let l = blocks[p.block].last {
            lastKeys[p.block] = Layout.key(of: l)
        }
        return Self.entry(stored)
    }

    /// The position of the first entry with `key` for which `matches`
    /// holds, among the entries with that key.
    func find(_ key: UInt64, where matches: (Value) -> Bool) -> Position? {
        var p = lowerBound(key)
        while let q = p {
            let stored = blocks[q.block][q.offset]
            guard Layout.key(of: stored) == key else { return nil }
            if matches(Layout.value(of: stored)) { return q }
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
        lastKeys = []
        count = 0
    }

    /// The values in key order.
    struct Iterator: IteratorProtocol {
        var list: SortedBlocks
        var position: Position?
        mutating func next() -> Value? {
            guard let p = position else { return nil }
            position = list.position(after: p)
            return list.value(at: p)
        }
    }

    func makeIterator() -> Iterator { Iterator(list: self, position: firstPosition) }

    var values: [Value] {
        var out: [Value] = []
        out.reserveCapacity(count)
        for block in blocks { for stored in block { out.append(Layout.value(of: stored)) } }
        return out
    }
}

extension SortedBlocks: Sendable where Layout.Stored: Sendable {}
extension SortedBlocks.Entry: Sendable where Layout.Value: Sendable {}
extension SortedBlocks.Position: Sendable {}
extension KeyedLayout.Stored: Sendable where Value: Sendable {}
