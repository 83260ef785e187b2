/// The removal policies of Initiate Dynamic Capacity Release (bits 3:0).
public enum RemovalPolicy: UInt8, Sendable, CaseIterable {
    /// Every extent of the tag on that host.
    case tagBased = 0
    /// The request lists the extents.
    case prescriptive = 1
}

/// Initiate Dynamic Capacity Release (5605h), with libcxlmi's field meanings.
public struct DCReleaseRequest: Hashable, Sendable {
    public var hostId: UInt16
    /// Bits 3:0 removal policy, bit 4 Forced Removal, bit 5 Sanitize on Release.
    public var flags: UInt8
    /// Tag-based: 0 (everything of the tag) or the host's whole capacity of
    /// the tag; reserved for Prescriptive.
    public var length: UInt64
    /// Tag-based only.
    public var tag: DaxTag
    /// Prescriptive only: DPA and length (tag and sequence are ignored,
    /// except under `qemu`, which copies the list into the host's Release
    /// Capacity records as written).
    public var extents: [DCExtentRecord]

    public init(hostId: UInt16, policy: RemovalPolicy, forced: Bool = false, sanitize: Bool = false,
                length: UInt64 = 0, tag: DaxTag = .untagged, extents: [DCExtentRecord] = []) {
        self.hostId = hostId
        self.flags = policy.rawValue | (forced ? 1 << 4 : 0) | (sanitize ? 1 << 5 : 0)
        self.length = length
        self.tag = tag
        self.extents = extents
    }

    public var forced: Bool { flags & 1 << 4 != 0 }
    public var sanitize: Bool { flags & 1 << 5 != 0 }
}

extension DCDevice {
    /// Initiate Dynamic Capacity Release (5605h). Unforced, it only asks:
    /// Release Capacity records go to the host's log and nothing changes
    /// until the host's Release Dynamic Capacity answer. Forced, the device
    /// acts at once: accepted capacity is revoked (Forced Capacity Release
    /// records are posted, dropped and counted if the log is full: forced
    /// removal never answers Retry Required), and a pending offer it
    /// touches is marked dead (no record; the offer's Add Capacity records
    /// stay in the log). A profile without `forcedRemoval` (qemu) treats a
    /// forced request as an unforced one; one without `sanitizeOnRelease`
    /// ignores the Sanitize flag; one that ignores the Host ID acts on
    /// host 0.
    ///
    /// Checks, in order (the first failure changes nothing):
    /// 1. Invalid Input: no such host; a removal policy the profile lacks;
    ///    Tag-based with a null tag or a tag the host holds no capacity of,
    ///    a Length other than 0 that is smaller than that capacity.
    /// 2. Resources Exhausted: Tag-based Length over that capacity.
    /// 3. Invalid Extent List (Prescriptive): count 0 or over the host's
    ///    extent budget; an extent empty, not block aligned or outside one
    ///    DC region (outside every region: the profile's `outsideRegionsCode`).
    /// 4. Invalid Physical Address: a DPA neither accessible nor pending
    ///    to the host; pending capacity when not forced.
    /// 5. Invalid Input: the list covers only part of the host's extents of
    ///    a tag in a Sharable region; forced, only part of an accepted
    ///    extent (the model does not split extents); sanitize asked on a
    ///    region that cannot sanitize.
    /// 6. Retry Required (unforced): the host's log lacks room (a profile
    ///    without it drops what does not fit instead).
    public func initiateRelease(_ request: DCReleaseRequest) throws(FabricError) {
        let h = try commandHost(request.hostId)
        let forced = request.forced && profile.forcedRemoval
        let sanitize = request.sanitize && profile.sanitizeOnRelease
        guard let policy = RemovalPolicy(rawValue: request.flags & 0xF),
              profile.releasePolicyMask & (1 << UInt16(policy.rawValue)) != 0 else {
            throw FabricError(.invalidInput, "removal policy \(request.flags & 0xF) is not supported")
        }
        var accepted: [HostExtent] = []
        var pending: [HostExtent] = []
        var pieces: [(HostExtent, Span)] = []
        switch policy {
        case .tagBased:
            guard !request.tag.isUntagged, let t = tags[request.tag], let list = t.lists[UInt16(h)], !list.isEmpty else {
                throw FabricError(.invalidInput, "host \(h) holds no capacity of tag \(request.tag)")
            }
            for r in list {
                if let p = hosts[h].accepted.find(r.dpa, where: { $0.record.tag == request.tag }) {
                    let e = hosts[h].accepted.value(at: p)
                    accepted.append(e)
                    if let s = e.span { pieces.append((e, s)) }
                } else if let p = hosts[h].pending.find(r.dpa, where: { $0.record.tag == request.tag }) {
                    pending.append(hosts[h].pending.value(at: p))
                }
            }
            let held = (accepted + pending).reduce(0) { $0 &+ $1.record.length }
            if request.length > held {
                throw FabricError(.resourcesExhausted, "length \(request.length) is over host \(h)'s \(held) bytes of tag \(request.tag)")
            }
            if request.length != 0, request.length < held {
                throw FabricError(.invalidInput, "length \(request.length) is part of host \(h)'s \(held) bytes of tag \(request.tag); the model releases a tag whole")
            }
            if !pending.isEmpty, !forced {
                throw FabricError(.invalidPhysicalAddress, "tag \(request.tag) is still pending to host \(h)")
            }
        case .prescriptive:
            guard !request.extents.isEmpty, request.extents.count <= hosts[h].maxExtents else {
                throw FabricError(.invalidExtentList, "extent count \(request.extents.count) is not 1...\(hosts[h].maxExtents)")
            }
            var spans: [Span] = []
            for (i, e) in request.extents.enumerated() {
                spans.append(try listedRegion(e, index: i).1)
            }
            try collectTargets(spans, host: h, forced: forced, &accepted, &pending, &pieces)
            try requireWholeSharedTags(accepted, pieces, host: h, forced: forced)
        }
        if sanitize {
            let touched = Set((accepted + pending).map(\.home))
            if let r = touched.first(where: { !regions[$0].spec.sanitizeConfigurable && !regions[$0].spec.sanitizeOnRelease }) {
                throw FabricError(.invalidInput, "region \(r) cannot sanitize on release")
            }
        }
        if !forced {
            let records: [(DCEventType, Int, DCExtentRecord)] = profile.releaseRecordsAsRequested
                ? request.extents.map { (.releaseCapacity, $0.span.flatMap(regionIndex(holding:)) ?? 0, $0) }
                : pieces.map { e, s in
                    (.releaseCapacity, e.region, DCExtentRecord(dpa: s.start, length: s.length, tag: e.record.tag, sequence: e.record.sequence))
                }
            guard records.count <= hosts[h].logRoom || !profile.retryWhenLogFull else {
                throw FabricError(.retryRequired, "host \(h)'s event log has room for \(hosts[h].logRoom) records, the release needs \(records.count)")
            }
            if sanitize { markSanitize(accepted) }
            post(records, to: h)
            return
        }
        forceRelease(accepted: accepted, pending: pending, host: h, sanitize: sanitize)
    }

    /// The host's accepted and pending extents under `spans`, and the
    /// accepted pieces to ask for. Invalid PA for a DPA under neither, or
    /// for pending capacity unless forced.
    private func collectTargets(_ spans: [Span], host h: Int, forced: Bool, _ accepted: inout [HostExtent],
                                _ pending: inout [HostExtent], _ pieces: inout [(HostExtent, Span)]) throws(FabricError) {
        var seenA = Set<UInt64>(), seenP = Set<UInt64>()
        for s in spans {
            let a = HostLD.touching(hosts[h].accepted, s)
            let p = HostLD.touching(hosts[h].pending, s)
            if !p.isEmpty, !forced {
                throw FabricError(.invalidPhysicalAddress, "\(s) is pending to host \(h)")
            }
            let covered = (a + p).reduce(UInt64(0)) { sum, e in
                guard let es = e.span, let both = Span(start: max(es.start, s.start), last: min(es.last, s.last)) else { return sum }
                return sum &+ both.length
            }
            guard covered == s.length else {
                throw FabricError(.invalidPhysicalAddress, "\(s) is not all accessible to host \(h)")
            }
            for e in a {
                guard let es = e.span, let both = Span(start: max(es.start, s.start), last: min(es.last, s.last)) else { continue }
                pieces.append((e, both))
                if seenA.insert(e.record.dpa).inserted { accepted.append(e) }
            }
            for e in p where seenP.insert(e.record.dpa).inserted { pending.append(e) }
        }
    }

    /// A release may not cover part of a host's share of a Sharable tag,
    /// nor (forced) part of an accepted extent. What a list covers of an
    /// extent is the union of its pieces: a range named twice, or two
    /// overlapping ranges, cover their bytes once.
    private func requireWholeSharedTags(_ accepted: [HostExtent], _ pieces: [(HostExtent, Span)], host h: Int, forced: Bool) throws(FabricError) {
        var byExtent: [UInt64: [Span]] = [:]
        for (e, s) in pieces { byExtent[e.record.dpa, default: []].append(s) }
        var coveredBytes: [UInt64: UInt64] = [:]
        for (dpa, spans) in byExtent { coveredBytes[dpa] = Self.unionLength(spans) }
        for e in accepted {
            let whole = coveredBytes[e.record.dpa] == e.record.length
            let tag = e.record.tag
            if !tag.isUntagged, let t = tags[tag], t.sharable {
                let mine = t.lists[UInt16(h)] ?? []
                let all = mine.allSatisfy { r in accepted.contains { $0.record.dpa == r.dpa } && coveredBytes[r.dpa] == r.length }
                guard all else { throw FabricError(.invalidInput, "the list covers only part of host \(h)'s capacity of Sharable tag \(tag)") }
            }
            if forced, !whole {
                throw FabricError(.invalidInput, "a forced release covers part of extent \(e.record); the model does not split extents")
            }
        }
    }

    /// Bytes covered by `spans` (which may overlap or repeat).
    static func unionLength(_ spans: [Span]) -> UInt64 {
        var total: UInt64 = 0
        var reach: UInt64?  // last byte counted so far
        for s in spans.sorted(by: { $0.start < $1.start }) {
            if let r = reach, s.last <= r { continue }
            let from = reach.map { max(s.start, $0 &+ 1) } ?? s.start
            total &+= s.last - from + 1
            reach = s.last
        }
        return total
    }

    private func markSanitize(_ extents: [HostExtent]) {
        for e in extents {
            if e.record.tag.isUntagged || tags[e.record.tag]?.sharable != true { sanitizeRequested.insert(e.physical) } else { tags[e.record.tag]?.sanitize = true }
        }
    }

    /// Forced removal: revoke accepted capacity now, kill touched offers.
    private func forceRelease(accepted: [HostExtent], pending: [HostExtent], host h: Int, sanitize: Bool) {
        var touched = Set<DaxTag>()
        var edits = TagEdits()
        let deadGroups = Set(pending.map(\.group))
        for i in hosts[h].groups.indices where i >= hosts[h].groupHead && deadGroups.contains(hosts[h].groups[i].id) {
            hosts[h].groups[i].dead = true
            let g = hosts[h].groups[i]
            for e in g.extents {
                dropPending(e, host: h, sharedAccess: g.sharedAccess, &edits)
                touched.insert(e.record.tag)
            }
        }
        for e in accepted {
            dropAccepted(e, host: h, sanitize: sanitize, &edits)
            touched.insert(e.record.tag)
        }
        apply(edits, host: h)
        if !accepted.isEmpty { listChanged(h) }
        settleTags(touched, host: h)
        post(accepted.map { (.forcedCapacityRelease, $0.region, $0.record) }, to: h)
    }

    /// Dynamic Capacity Add Reference (5606h): the fabric manager keeps a
    /// Sharable tag's capacity even when no host holds it. Idempotent.
    /// - Throws: Unsupported (profile), Invalid Input (no such Sharable tag).
    public func addReference(tag: DaxTag) throws(FabricError) {
        let t = try sharableTag(tag)
        guard !t.fmReference else { return }
        tags[tag]?.fmReference = true
        tagsChanged()
    }

    /// Dynamic Capacity Remove Reference (5607h): drops the fabric
    /// manager's reference; with no host holding or offered the tag, its
    /// capacity is freed (and sanitized if asked). Removing a reference not
    /// held succeeds and changes nothing (model choice, mirroring Add).
    /// - Throws: Unsupported (profile), Invalid Input (no such Sharable tag).
    public func removeReference(tag: DaxTag) throws(FabricError) {
        let t = try sharableTag(tag)
        guard t.fmReference else { return }
        tags[tag]?.fmReference = false
        tagsChanged()
        freeTagIfUnheld(tag)
    }

    private func sharableTag(_ tag: DaxTag) throws(FabricError) -> FabricTag {
        guard profile.tagCommands else { throw FabricError(.unsupported, "profile \(profile) has no tag references") }
        guard let t = tags[tag], t.sharable else { throw FabricError(.invalidInput, "tag \(tag) names no Sharable capacity") }
        return t
    }
}
