/// One host (logical device) as the device sees it: its budgets, its DC
/// event log, its pending offers and its accepted extent list.
struct HostLD: Sendable {
    let id: UInt16
    /// Extents the LD supports (accepted + pending count against it).
    var maxExtents: Int
    /// Distinct non-null tags the LD supports (accepted or pending).
    var maxTags: Int
    /// Records the DC event log holds before it would overflow.
    var logDepth: Int
    /// Accepted extents, by DPA: Get DC Region Extent Lists pages in this order.
    var accepted = SortedList<HostExtent>()
    /// Extents of live pending offers, by DPA.
    var pending = SortedList<HostExtent>()
    /// Offers in the order sent; answers take the oldest.
    var groups: [ExtentGroup] = []
    var groupHead = 0
    /// The DC event log: records not yet taken by the host.
    var log: [DCEventRecord] = []
    /// Records dropped for lack of room (forced releases; any record under
    /// a profile without Retry Required).
    var overflowed = 0
    /// DPA space per DC region not accessible nor pending to this LD.
    var dpaFree: [Int: FreeSpace] = [:]
    /// Non-null tags held (accepted or pending) and their extent counts.
    var tags: [DaxTag: Int] = [:]
    /// Extent List Generation Number: changes whenever `accepted` does.
    var generation: UInt32 = 0
    /// Changes whenever `accepted` does, in every profile (qemu's
    /// generation never moves): a memory layer's cue to decode again
    /// (`DCDevice.decoding(host:)`). Not saved.
    var memoryStamp: UInt64 = 0
    /// What the host reaches (`DCDevice.decoding(host:)`), kept up to date
    /// as extents come and go, except the Sharable tags in `redecode`,
    /// whose pieces are recomputed when it is next read. Not saved.
    var decoding = HostDecoding()
    var redecode: Set<DaxTag> = []

    var extentsUsed: Int { accepted.count + pending.count }
    var availableExtents: Int { max(0, maxExtents - extentsUsed) }
    var availableTags: Int { max(0, maxTags - tags.count) }
    var logRoom: Int { max(0, logDepth - log.count) }

    var oldestGroup: ExtentGroup? { groupHead < groups.count ? groups[groupHead] : nil }

    mutating func popGroup() {
        groupHead += 1
        if groupHead > 32, groupHead * 2 > groups.count {
            groups.removeFirst(groupHead)
            groupHead = 0
        }
    }

    var liveGroups: ArraySlice<ExtentGroup> { groups[groupHead...] }

    /// Entries of `list` touching `span`, ascending (entries never overlap).
    static func touching(_ list: SortedList<HostExtent>, _ span: Span) -> [HostExtent] {
        var out: [HostExtent] = []
        var p = list.lastBefore(span.start &+ 1) ?? list.firstPosition
        while let q = p {
            let e = list.value(at: q)
            if e.record.dpa > span.last { break }
            if let s = e.span, s.last >= span.start { out.append(e) }
            p = list.position(after: q)
        }
        return out
    }

    mutating func bumpGeneration() { generation &+= 1 }

    mutating func countTag(_ tag: DaxTag, _ delta: Int) {
        guard !tag.isUntagged else { return }
        let n = (tags[tag] ?? 0) + delta
        tags[tag] = n > 0 ? n : nil
    }
}
