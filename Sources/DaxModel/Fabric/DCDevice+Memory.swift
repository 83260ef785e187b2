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
///
/// An extent a host was given directly is one piece at its own address;
/// an extent of a Sharable tag (Enable Shared Access or not) reaches the
/// tag's capacity at its place in the tag's logical order (the host's
/// extents of the tag, in list order, follow the tag's physical spans in
/// the order they were allocated), so it may be several pieces, elsewhere
/// than its DPA. Pending and dead offers reach nothing; neither does
/// capacity the device revoked by force, whatever the host still believes.
extension DCDevice {
    /// Host `host`'s decoding (empty for no such host). Kept as extents
    /// are accepted and taken; the Sharable tags the host's share of
    /// changed since the last read are decoded again here, so this read
    /// updates the device: call it under the same exclusion as commands
    /// (the C layer holds the fabric lock).
    /// - Complexity: O(1) when nothing changed; otherwise O((k + s) log n)
    ///   for the k extents and s spans of the tags that changed.
    public func decoding(host: UInt16) -> HostDecoding {
        guard Int(host) < hosts.count else { return HostDecoding() }
        let h = Int(host)
        if !hosts[h].redecode.isEmpty {
            var d = hosts[h].decoding
            hosts[h].decoding = HostDecoding()  // `d` unshared here, unless a memory layer holds a copy
            for tag in hosts[h].redecode { redecodeShared(tag, host: h, into: &d) }
            hosts[h].decoding = d
            hosts[h].redecode = []
        }
        return hosts[h].decoding
    }

    /// `decoding(host:)` without storing what it decodes again (for the
    /// invariant check, which must not change the device).
    func decodingAsRead(host h: Int) -> HostDecoding {
        var d = hosts[h].decoding
        for tag in hosts[h].redecode { redecodeShared(tag, host: h, into: &d) }
        return d
    }

    /// `decoding(host:)`'s pieces, ascending. O(n).
    public func memoryMap(host: UInt16) -> [HostMemoryPiece] { decoding(host: host).pieces }

    /// Changes whenever `decoding(host:)` may (an extent accepted by or
    /// taken from that host); 0 for no such host.
    public func memoryStamp(host: UInt16) -> UInt64 {
        Int(host) < hosts.count ? hosts[Int(host)].memoryStamp : 0
    }

    /// Accepted extent `e` of host `h` now decodes (`acceptPending`).
    func decodeAccepted(_ e: HostExtent, host h: Int) {
        let tag = e.record.tag
        if !tag.isUntagged, tags[tag]?.sharable == true {
            hosts[h].redecode.insert(tag)
        } else {
            hosts[h].decoding.insert(HostMemoryPiece(dpa: e.record.dpa, physical: e.physical, length: e.record.length,
                                                     readOnly: regions[e.region].spec.readOnly))
        }
    }

    /// Accepted extent `e` of host `h` no longer decodes (`dropAccepted`):
    /// its pieces go now; the rest of a Sharable tag's share is decoded
    /// again (its logical order moved).
    func decodeDropped(_ e: HostExtent, host h: Int) {
        if let span = e.span { hosts[h].decoding.remove(startingIn: span) }
        let tag = e.record.tag
        if !tag.isUntagged, tags[tag]?.sharable == true { hosts[h].redecode.insert(tag) }
    }

    /// Host `h`'s extents of Sharable tag `tag`, decoded again.
    private func redecodeShared(_ tag: DaxTag, host h: Int, into d: inout HostDecoding) {
        guard let t = tags[tag], let list = t.lists[UInt16(h)] else { return }
        for r in list where hosts[h].accepted.find(r.dpa, where: { $0.record.tag == tag }) != nil {
            if let span = r.span { d.remove(startingIn: span) }
        }
        for piece in sharedPieces(t, list: list, host: h) { d.insert(piece) }
    }

    /// The pieces of `list` (host `h`'s extents of Sharable tag `t`, in
    /// its logical order). Each accepted extent reaches the tag's stream
    /// from its own physical start (where the stream was when it was
    /// offered): a host that gave back part of its share keeps decoding
    /// the rest where it was, skipping what went back. O(k + s).
    private func sharedPieces(_ t: FabricTag, list: [DCExtentRecord], host h: Int) -> [HostMemoryPiece] {
        var out: [HostMemoryPiece] = []
        var spanIndex = 0, skip: UInt64 = 0  // where the stream is
        for r in list {
            guard let e = hosts[h].accepted.find(r.dpa, where: { $0.record.tag == t.tag }).map({ hosts[h].accepted.value(at: $0) }) else {
                advance(t, &spanIndex, &skip, by: r.length)
                continue
            }
            seek(t, e.physical, &spanIndex, &skip)
            let readOnly = regions[e.region].spec.readOnly
            var dpa = r.dpa, need = r.length
            while need > 0, spanIndex < t.spans.count {
                let s = t.spans[spanIndex]
                let n = min(need, s.length - skip)
                out.append(HostMemoryPiece(dpa: dpa, physical: s.start &+ skip, length: n, readOnly: readOnly))
                dpa &+= n
                need -= n
                advance(t, &spanIndex, &skip, by: n)
            }
            if need > 0 {
                // Past the tag's capacity (cannot happen: checkInvariants);
                // the extent's own physical start is the best guess.
                out.append(HostMemoryPiece(dpa: dpa, physical: e.physical &+ (r.length - need), length: need, readOnly: readOnly))
            }
        }
        return out
    }

    /// Moves a stream position `by` bytes along tag `t`'s spans.
    private func advance(_ t: FabricTag, _ spanIndex: inout Int, _ skip: inout UInt64, by bytes: UInt64) {
        var left = bytes
        while left > 0, spanIndex < t.spans.count {
            let n = min(left, t.spans[spanIndex].length - skip)
            skip += n
            left -= n
            if skip == t.spans[spanIndex].length {
                spanIndex += 1
                skip = 0
            }
        }
    }

    /// Moves a stream position to physical address `physical`: forward
    /// from where it is (list order follows the stream), else from the
    /// start; unchanged if no span holds it.
    private func seek(_ t: FabricTag, _ physical: UInt64, _ spanIndex: inout Int, _ skip: inout UInt64) {
        func holds(_ i: Int) -> Bool { physical >= t.spans[i].start && physical <= t.spans[i].last }
        var i = spanIndex
        while i < t.spans.count, !(holds(i) && (i > spanIndex || physical &- t.spans[i].start >= skip)) { i += 1 }
        if i == t.spans.count { i = t.spans.indices.first(where: holds) ?? t.spans.count }
        guard i < t.spans.count else { return }
        spanIndex = i
        skip = physical &- t.spans[i].start
    }

    /// Every host's decoding computed from scratch, for the invariant
    /// check: it must equal `decoding(host:)`. O(n + s).
    func decodingRebuilt(host h: Int) -> HostDecoding {
        var d = HostDecoding()
        var done = Set<DaxTag>()
        for e in hosts[h].accepted {
            let tag = e.record.tag
            if !tag.isUntagged, let t = tags[tag], t.sharable {
                if done.insert(tag).inserted, let list = t.lists[UInt16(h)] {
                    for piece in sharedPieces(t, list: list, host: h) { d.insert(piece) }
                }
            } else {
                d.insert(HostMemoryPiece(dpa: e.record.dpa, physical: e.physical, length: e.record.length,
                                         readOnly: regions[e.region].spec.readOnly))
            }
        }
        return d
    }

    /// After a load: every host's decoding from its restored extents.
    func rebuildDecodings() {
        for h in hosts.indices {
            hosts[h].decoding = decodingRebuilt(host: h)
            hosts[h].redecode = []
        }
    }
}
