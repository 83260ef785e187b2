/// The device's invariants, checked by tests after every step. Returns
/// one line per violation (empty when all hold); never traps.
extension DCDevice {
    /// Bytes per block state over all regions.
    public struct CapacityTotals: Hashable, Sendable {
        public var free: UInt64 = 0
        public var reserved: UInt64 = 0
        public var owned: UInt64 = 0
        public var shared: UInt64 = 0
        public var total: UInt64 = 0
    }

    public var capacityTotals: CapacityTotals {
        var c = CapacityTotals()
        for r in regions {
            c.free &+= r.blocks.free.total
            c.reserved &+= r.blocks.bytes(.reserved)
            c.owned &+= r.blocks.bytes(.owned)
            c.shared &+= r.blocks.bytes(.shared)
            c.total &+= r.span.length
        }
        return c
    }

    /// The owner of the block holding physical address `dpa`, nil outside every region.
    public func blockOwner(at dpa: UInt64) -> BlockOwner? {
        guard let at = Span(start: dpa, length: 1), let r = regionIndex(holding: at) else { return nil }
        return regions[r].blocks.touching(at).first?.owner ?? .free
    }

    public func checkInvariants() -> [String] {
        var bad: [String] = []
        for r in regions {
            var sum: UInt64 = 0
            var last: UInt64?
            for run in r.blocks.runs {
                sum &+= run.span.length
                if let l = last, run.span.start <= l { bad.append("region \(r.index): runs overlap at \(run.span)") }
                last = run.span.last
                if !r.span.contains(run.span) { bad.append("region \(r.index): run \(run.span) leaves the region") }
                switch run.owner {
                case .free: bad.append("region \(r.index): a run is filed free")
                case .reserved(let h):
                    if Int(h) >= hosts.count || hosts[Int(h)].pending.find(run.span.start, where: { $0.physical == run.span.start && $0.home == r.index }) == nil {
                        bad.append("region \(r.index): \(run.span) reserved for host \(h), which has no pending extent there")
                    }
                case .owned(let h):
                    if Int(h) >= hosts.count || hosts[Int(h)].accepted.find(run.span.start, where: { $0.physical == run.span.start && $0.home == r.index }) == nil {
                        bad.append("region \(r.index): \(run.span) owned by host \(h), which has no extent there")
                    }
                case .shared(let tag):
                    if tags[tag]?.spans.contains(run.span) != true { bad.append("region \(r.index): \(run.span) shared by \(tag), which does not list it") }
                }
            }
            if sum &+ r.blocks.free.total != r.span.length {
                bad.append("region \(r.index): free \(r.blocks.free.total) + allocated \(sum) != \(r.span.length)")
            }
            let counted = r.blocks.bytes(.reserved) &+ r.blocks.bytes(.owned) &+ r.blocks.bytes(.shared)
            if counted != sum { bad.append("region \(r.index): state totals \(counted) != runs \(sum)") }
        }
        for h in hosts.indices where decodingAsRead(host: h) != decodingRebuilt(host: h) {
            bad.append("host \(h): its kept decoding \(decodingAsRead(host: h).pieces) differs from one built from its extents \(decodingRebuilt(host: h).pieces)")
        }
        for (h, ld) in hosts.enumerated() {
            var used: [Int: UInt64] = [:]
            var tagCounts: [DaxTag: Int] = [:]
            for (list, isPending) in [(ld.accepted, false), (ld.pending, true)] {
                for e in list {
                    used[e.region, default: 0] &+= e.record.length
                    let tag = e.record.tag
                    if !isPending, profile.acceptedRecord(e.record) != e.record {
                        bad.append("host \(h): accepted \(e.record) not filed as the profile files accepted extents")
                    }
                    // A profile without tag bookkeeping passes tags through untracked.
                    guard profile.tracksTags else { continue }
                    if !tag.isUntagged { tagCounts[tag, default: 0] += 1 }
                    if !tag.isUntagged, let t = tags[tag] {
                        if t.lists[UInt16(h)]?.contains(e.record) != true { bad.append("host \(h): \(e.record) missing from its tag's list") }
                        if isPending != t.pending.contains(UInt16(h)) && isPending { bad.append("host \(h): \(tag) pending bit wrong") }
                        if !isPending && !t.accepted.contains(UInt16(h)) { bad.append("host \(h): \(tag) accepted bit missing") }
                    } else if !tag.isUntagged {
                        bad.append("host \(h): extent of unknown tag \(tag)")
                    }
                }
            }
            for (r, region) in regions.enumerated() {
                let free = ld.dpaFree[r]?.total ?? region.span.length
                if free &+ (used[r] ?? 0) != region.span.length {
                    bad.append("host \(h) region \(r): free DPA \(free) + used \(used[r] ?? 0) != \(region.span.length)")
                }
            }
            if tagCounts != ld.tags { bad.append("host \(h): tag counts \(ld.tags) != extents \(tagCounts)") }
            if ld.extentsUsed > ld.maxExtents || ld.tags.count > ld.maxTags { bad.append("host \(h): budget exceeded") }
            if ld.log.count > ld.logDepth { bad.append("host \(h): event log over its depth") }
            if !profile.countsListGeneration, ld.generation != 0 { bad.append("host \(h): generation moved under \(profile)") }
        }
        for (tag, t) in tags {
            for (h, list) in t.lists {
                if list.isEmpty { bad.append("tag \(tag): empty list kept for host \(h)") }
                // A Sharable tag is offered whole (sequence numbers 0..n-1),
                // but a host may give back part of it (a Linux host gives
                // back a tag group's unmapped extents at once and defers the
                // mapped ones): what it still holds keeps its numbers, in
                // order, and is at most the tag. Other tags leave whole.
                let whole = !t.sharable || t.pending.contains(h)
                let seqs = list.map(\.sequence)
                if t.sharable, whole ? seqs != (0..<list.count).map({ UInt16(truncatingIfNeeded: $0) })
                                     : zip(seqs, seqs.dropFirst()).contains(where: { $0 >= $1 }) {
                    bad.append("tag \(tag) host \(h): sequence numbers \(seqs) are not \(whole ? "0..n-1" : "increasing")")
                }
                let sum = list.reduce(UInt64(0)) { $0 &+ $1.length }
                if whole ? sum != t.length : sum > t.length { bad.append("tag \(tag) host \(h): holds \(sum) of \(t.length) bytes") }
            }
            for h in t.accepted.hosts where t.lists[h] == nil { bad.append("tag \(tag): accepted by \(h) without a list") }
            for h in t.pending.hosts where t.lists[h] == nil { bad.append("tag \(tag): pending to \(h) without a list") }
            if t.unheld { bad.append("tag \(tag): kept although nothing holds it") }
        }
        if tagOrder.count != tags.count { bad.append("tag order holds \(tagOrder.count), tags \(tags.count)") }
        if !profile.tracksTags, !tags.isEmpty { bad.append("profile \(profile) keeps no tags, yet \(tags.count) exist") }
        if !profile.reportsToManager, !fmEvents.isEmpty { bad.append("profile \(profile) reports nothing to the manager") }
        return bad
    }
}
