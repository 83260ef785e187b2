/// Who holds a run of a DC region's blocks. Every block is in exactly one
/// state; the device's capacity is conserved across them.
public enum BlockOwner: Hashable, Sendable {
    /// Allocatable.
    case free
    /// Offered to `host` and not answered yet (reservation at offer, as a
    /// multi-headed device must, so no other host can be offered it).
    case reserved(host: UInt16)
    /// Accepted by one host: untagged capacity, or a tag in a region that
    /// is not Sharable.
    case owned(host: UInt16)
    /// The capacity of a tag in a Sharable region, accepted by a first
    /// host: stays until no host holds or is offered it and no fabric
    /// manager reference remains.
    case shared(tag: DaxTag)
}

/// A run of blocks with one owner: one extent's physical capacity.
struct BlockRun: Sendable {
    var span: Span
    var owner: BlockOwner
}

/// The block map of one DC region: free space plus one run per allocated
/// physical extent, by start address.
///
/// - Complexity: lookups O(log n) in runs; `FreeSpace` take/give O(log n)
///   plus an array move.
struct BlockMap: Sendable {
    var free: FreeSpace
    var runs = SortedList<BlockRun>()
    private(set) var bytes: [BlockState: UInt64] = [:]

    enum BlockState: Hashable, Sendable { case reserved, owned, shared }

    init(span: Span) { free = FreeSpace(span) }

    static func state(_ owner: BlockOwner) -> BlockState? {
        switch owner {
        case .free: nil
        case .reserved: .reserved
        case .owned: .owned
        case .shared: .shared
        }
    }

    func bytes(_ state: BlockState) -> UInt64 { bytes[state] ?? 0 }

    /// Takes free `span` for `owner`. False, changing nothing, unless all
    /// of it is free.
    mutating func allocate(_ span: Span, to owner: BlockOwner) -> Bool {
        guard let state = Self.state(owner), free.take(span) else { return false }
        runs.insert(BlockRun(span: span, owner: owner), key: span.start)
        bytes[state, default: 0] &+= span.length
        return true
    }

    /// The run starting at `start`, if any.
    func run(at start: UInt64) -> BlockRun? {
        runs.find(start) { _ in true }.map { runs.value(at: $0) }
    }

    /// Changes the owner of the run starting at `start`.
    mutating func setOwner(at start: UInt64, _ owner: BlockOwner) -> Bool {
        guard let p = runs.find(start, where: { _ in true }) else { return false }
        let old = runs.remove(at: p).value
        if let s = Self.state(old.owner) { bytes[s, default: 0] &-= old.span.length }
        if case .free = owner {
            free.give(old.span)
            return true
        }
        runs.insert(BlockRun(span: old.span, owner: owner), key: start)
        if let s = Self.state(owner) { bytes[s, default: 0] &+= old.span.length }
        return true
    }

    /// Runs touching `span`, ascending. O(log n + k).
    func touching(_ span: Span) -> [BlockRun] {
        var out: [BlockRun] = []
        var p = runs.lastBefore(span.start &+ 1) ?? runs.firstPosition
        while let q = p {
            let r = runs.value(at: q)
            if r.span.start > span.last { break }
            if r.span.last >= span.start { out.append(r) }
            p = runs.position(after: q)
        }
        return out
    }
}
