/// One piece of what a host can reach: host DPAs `dpa ..< dpa + length`
/// decode to the device's physical capacity at `physical ..<
/// physical + length` (one run of one extent).
public struct HostMemoryPiece: Hashable, Sendable {
    public var dpa: UInt64
    public var physical: UInt64
    public var length: UInt64
    /// The host reaches it through a Read-Only DC region: no writes.
    public var readOnly: Bool

    public init(dpa: UInt64, physical: UInt64, length: UInt64, readOnly: Bool) {
        self.dpa = dpa
        self.physical = physical
        self.length = length
        self.readOnly = readOnly
    }

    /// The physical address of host DPA `dpa`, if this piece holds it.
    public func physical(of dpa: UInt64) -> UInt64? {
        dpa >= self.dpa && dpa &- self.dpa < length ? physical &+ (dpa &- self.dpa) : nil
    }
}

/// The device's address decoding for each host: what a memory layer needs
/// to let hosts that share a tag see the same bytes. Pure: the model says
/// which host DPA reaches which physical byte; a layer outside the model
/// owns the bytes (see `Sources/CDaxModel/FabricMemory.swift`).
extension DCDevice {
    /// Host `host`'s accepted extents as pieces of physical capacity, by
    /// DPA (empty for no such host). An extent the host was given directly
    /// is one piece at its own address; an Enable Shared Access extent
    /// reaches the tag's capacity at its place in the tag's logical order
    /// (the host's extents of a tag, in sequence order, follow the tag's
    /// physical spans, in the order they were allocated), so it may be
    /// several pieces, elsewhere than its DPA. Pending and dead offers
    /// reach nothing; neither does capacity the device revoked by force,
    /// whatever the host still believes.
    /// - Complexity: O(n + s) for n accepted extents and s spans of the
    ///   Sharable tags they hold.
    public func memoryMap(host: UInt16) -> [HostMemoryPiece] {
        guard Int(host) < hosts.count else { return [] }
        let h = Int(host)
        var logical: [DaxTag: [UInt64: UInt64]] = [:]
        var out: [HostMemoryPiece] = []
        for e in hosts[h].accepted {
            let readOnly = regions[e.region].spec.readOnly
            let tag = e.record.tag
            guard !tag.isUntagged, let t = tags[tag], t.sharable else {
                out.append(HostMemoryPiece(dpa: e.record.dpa, physical: e.physical, length: e.record.length, readOnly: readOnly))
                continue
            }
            if logical[tag] == nil {
                var offsets: [UInt64: UInt64] = [:]
                var at: UInt64 = 0
                for r in t.lists[host] ?? [] {
                    offsets[r.dpa] = at
                    at &+= r.length
                }
                logical[tag] = offsets
            }
            guard let start = logical[tag]?[e.record.dpa] else {
                // Not in the tag's list (cannot happen: checkInvariants);
                // the extent's own physical start is the best guess.
                out.append(HostMemoryPiece(dpa: e.record.dpa, physical: e.physical, length: e.record.length, readOnly: readOnly))
                continue
            }
            var dpa = e.record.dpa
            var skip = start
            var need = e.record.length
            for s in t.spans where need > 0 {
                if skip >= s.length {
                    skip -= s.length
                    continue
                }
                let n = min(need, s.length - skip)
                out.append(HostMemoryPiece(dpa: dpa, physical: s.start &+ skip, length: n, readOnly: readOnly))
                dpa &+= n
                need -= n
                skip = 0
            }
        }
        return out
    }

    /// Changes whenever `memoryMap(host:)` may (an extent accepted by or
    /// taken from that host); 0 for no such host.
    public func memoryStamp(host: UInt16) -> UInt64 {
        Int(host) < hosts.count ? hosts[Int(host)].memoryStamp : 0
    }
}
