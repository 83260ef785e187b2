/// What one host can reach through the device's decoding: its accepted
/// extents as pieces of physical capacity (`HostMemoryPiece`), ordered by
/// host DPA, never overlapping. The device keeps one per host up to date as
/// extents are accepted and taken (`DCDevice.decoding(host:)`), so a change
/// costs what it touches, not the host's whole list. It is a value: a
/// memory layer keeps a copy in O(1), and the two share their storage
/// until one of them changes (then the changed side copies one block of
/// entries and the block list).
public struct HostDecoding: Sendable, Equatable {
    private var list = SortedList<HostMemoryPiece>()

    public init() {}

    /// Pieces, ascending.
    public var count: Int { list.count }

    /// Every piece, ascending by DPA. O(n).
    public var pieces: [HostMemoryPiece] { Array(list) }

    /// The pieces under host DPAs `start ..< start + length`, clipped to
    /// that range. O(log n + k). Ranges are compared by their last bytes,
    /// so a piece ending at the top of the address space is found.
    public func pieces(in start: UInt64, length: UInt64) -> [HostMemoryPiece] {
        guard length > 0 else { return [] }
        var out: [HostMemoryPiece] = []
        let last = start &+ (length - 1)
        var at = firstEnding(after: start)
        while let p = at {
            let piece = list.value(at: p)
            guard piece.dpa <= last else { break }
            let lo = max(piece.dpa, start), hi = min(piece.dpa &+ (piece.length - 1), last)
            if hi >= lo {
                out.append(HostMemoryPiece(dpa: lo, physical: piece.physical &+ (lo &- piece.dpa), length: hi - lo + 1,
                                           readOnly: piece.readOnly))
            }
            at = list.position(after: p)
        }
        return out
    }

    /// True when every byte of `piece` still decodes to the same physical
    /// byte with the same access. O(log n + k).
    public func holds(_ piece: HostMemoryPiece) -> Bool {
        var dpa = piece.dpa, left = piece.length
        var at = firstEnding(after: dpa)
        while left > 0 {
            guard let p = at else { return false }
            let q = list.value(at: p)
            guard let phys = q.physical(of: dpa), phys == piece.physical &+ (dpa &- piece.dpa),
                  q.readOnly == piece.readOnly else { return false }
            let n = min(left, q.length - (dpa - q.dpa))  // bytes of q from dpa on: no wrap
            left -= n
            dpa &+= n
            at = list.position(after: p)
        }
        return true
    }

    /// Adds `piece` (it overlaps no piece held).
    mutating func insert(_ piece: HostMemoryPiece) {
        guard piece.length > 0 else { return }
        list.insert(piece, key: piece.dpa)
    }

    /// Removes every piece that starts inside `span` (an extent's range:
    /// pieces never straddle extents). O(log n + k).
    mutating func remove(startingIn span: Span) {
        while let p = list.lowerBound(span.start), list.value(at: p).dpa <= span.last {
            _ = list.remove(at: p)
        }
    }

    /// The first piece whose last byte is at or after `dpa`, if any.
    private func firstEnding(after dpa: UInt64) -> SortedList<HostMemoryPiece>.Position? {
        if let p = dpa == UInt64.max ? list.lastPosition : list.lastBefore(dpa &+ 1) {
            let q = list.value(at: p)
            if q.dpa &+ (q.length - 1) >= dpa { return p }  // pieces are never empty
            return list.position(after: p)
        }
        return list.firstPosition
    }

    public static func == (a: HostDecoding, b: HostDecoding) -> Bool { a.list.elementsEqual(b.list) }
}
