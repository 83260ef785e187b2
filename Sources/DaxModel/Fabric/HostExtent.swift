/// One extent of one host as the device tracks it: what the host sees (the
/// record, in that host's DPA space) and where its capacity lives.
struct HostExtent: Sendable {
    var record: DCExtentRecord
    /// DC region of the host's DPA (`record.dpa`).
    var region: Int
    /// The physical capacity: region and start. Equal to the host's DPA
    /// except for Enable Shared Access extents placed elsewhere.
    var home: Int
    var physical: UInt64
    /// The offer (extent group) it came in.
    var group: UInt64

    var span: Span? { record.span }
}

/// An offer: the extents one Initiate Dynamic Capacity Add sent to one
/// host, pending until that host's Add Dynamic Capacity Response.
struct ExtentGroup: Sendable {
    let id: UInt64
    let host: UInt16
    var extents: [HostExtent]
    /// An Enable Shared Access offer (no physical blocks of its own).
    let sharedAccess: Bool
    /// Force-released while pending: its blocks are gone; the host's
    /// answer gets Invalid Physical Address.
    var dead = false
}

/// The capacity a non-null tag names across the device.
struct FabricTag: Sendable {
    let tag: DaxTag
    /// Creation order: List Tags pages in it.
    let serial: UInt64
    /// The DC region holding the physical capacity.
    let home: Int
    /// Physical capacity in logical (sequence) order.
    var spans: [Span]
    /// The home region is Sharable: blocks are `shared(tag)` once accepted.
    let sharable: Bool
    /// Each host's extents of this tag (accepted or pending), in sequence order.
    var lists: [UInt16: [DCExtentRecord]] = [:]
    /// Hosts that accepted it (List Tags' Reference Bitmap).
    var accepted = HostBitmap()
    /// Hosts offered it without an answer yet (Pending Reference Bitmap).
    var pending = HostBitmap()
    /// The fabric manager holds a reference (Add Reference).
    var fmReference = false
    /// A release asked for sanitizing: done when the capacity is freed.
    var sanitize = false
    /// A first host accepted it (Enable Shared Access needs this).
    var established = false

    var length: UInt64 { spans.reduce(0) { $0 &+ $1.length } }
    var unheld: Bool { accepted.isEmpty && pending.isEmpty && !fmReference }
}

/// Returns the sorted-list position of entry `index` (0-based), or nil.
/// O(n / block capacity): the lists keep no per-block counts.
extension SortedBlocks {
    func position(atIndex index: Int) -> Position? {
        guard index >= 0 else { return nil }
        var rest = index
        for (b, block) in blocks.enumerated() {
            if rest < block.count { return Position(block: b, offset: rest) }
            rest -= block.count
        }
        return nil
    }

    /// Values from entry `index` on, at most `limit` of them.
    func values(from index: Int, limit: Int) -> [Value] {
        var out: [Value] = []
        var p = position(atIndex: index)
        while let q = p, out.count < limit {
            out.append(value(at: q))
            p = position(after: q)
        }
        return out
    }
}
