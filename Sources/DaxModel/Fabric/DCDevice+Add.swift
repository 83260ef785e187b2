/// The selection policies of Initiate Dynamic Capacity Add (bits 3:0).
public enum AddSelectionPolicy: UInt8, Sendable, CaseIterable {
    /// The device picks blocks, not necessarily contiguous.
    case free = 0
    /// The device picks one contiguous run.
    case contiguous = 1
    /// The request lists the extents.
    case prescriptive = 2
    /// Give another host access to an existing tag's capacity.
    case enableSharedAccess = 3
}

/// Initiate Dynamic Capacity Add (5604h), with libcxlmi's field meanings.
public struct DCAddRequest: Hashable, Sendable {
    public var hostId: UInt16
    /// Bits 3:0: an `AddSelectionPolicy` raw value; other values are refused.
    public var selectionPolicy: UInt8
    /// DC region; reserved (ignored) for Prescriptive.
    public var regionNumber: UInt8
    /// Bytes; reserved for Prescriptive and Enable Shared Access.
    public var length: UInt64
    /// Reserved for Prescriptive (each extent carries its own tag).
    public var tag: DaxTag
    /// Prescriptive only. Sequence numbers given here are ignored: the
    /// device numbers each tag's extents 0..n-1 in list order (except
    /// under `qemu`, which passes tag and sequence number on as written).
    public var extents: [DCExtentRecord]

    public init(hostId: UInt16, policy: AddSelectionPolicy, region: UInt8 = 0, length: UInt64 = 0,
                tag: DaxTag = .untagged, extents: [DCExtentRecord] = []) {
        self.hostId = hostId
        self.selectionPolicy = policy.rawValue
        self.regionNumber = region
        self.length = length
        self.tag = tag
        self.extents = extents
    }
}

extension DCDevice {
    /// Initiate Dynamic Capacity Add (5604h): offers capacity to one host.
    /// Success means the offer started (records are in that host's log and
    /// the blocks are reserved), not that the host accepted it; the
    /// fabric manager learns that from its Add Capacity Response record.
    ///
    /// Checks, in order (the first failure changes nothing):
    /// 1. Invalid Input: no such host (a profile that ignores the Host ID
    ///    offers to host 0); a selection policy the profile does not offer;
    ///    for Free/Contiguous a bad region number, a length of 0 or not a
    ///    block multiple; a non-null tag that already exists (model choice:
    ///    a new allocation needs a new tag; Enable Shared Access reaches an
    ///    existing one; not checked by a profile without tags); for Enable
    ///    Shared Access the checks of `planSharedAccess`.
    /// 2. Invalid Extent List (Prescriptive): see `planPrescriptive`.
    /// 3. Resources Exhausted: too few free blocks (no contiguous run for
    ///    Contiguous), or the host's extent or tag budget would be exceeded.
    /// 4. Retry Required: the host's event log lacks room for the records
    ///    (a profile without it drops what does not fit instead).
    /// - Returns: the extent records offered, in log order.
    @discardableResult
    public func initiateAdd(_ request: DCAddRequest) throws(FabricError) -> [DCExtentRecord] {
        let h = try commandHost(request.hostId)
        guard let policy = AddSelectionPolicy(rawValue: request.selectionPolicy & 0xF),
              policy == .enableSharedAccess ? profile.sharing : profile.addPolicyMask & (1 << UInt16(policy.rawValue)) != 0 else {
            throw FabricError(.invalidInput, "selection policy \(request.selectionPolicy & 0xF) is not supported")
        }
        let plan: [HostExtent]
        switch policy {
        case .free, .contiguous: plan = try planDeviceChosen(request, host: h, contiguous: policy == .contiguous)
        case .prescriptive: plan = try planPrescriptive(request, host: h)
        case .enableSharedAccess: plan = try planSharedAccess(request, host: h)
        }
        let newTags = profile.tracksTags ? Set(plan.map(\.record.tag).filter { !$0.isUntagged && hosts[h].tags[$0] == nil }) : []
        guard plan.count <= hosts[h].availableExtents, newTags.count <= hosts[h].availableTags else {
            throw FabricError(.resourcesExhausted, "host \(h): the offer needs \(plan.count) extents and \(newTags.count) tags; \(hosts[h].availableExtents) and \(hosts[h].availableTags) are available")
        }
        guard plan.count <= hosts[h].logRoom || !profile.retryWhenLogFull else {
            throw FabricError(.retryRequired, "host \(h)'s event log has room for \(hosts[h].logRoom) records, the offer needs \(plan.count)")
        }
        commitOffer(plan, host: h, sharedAccess: policy == .enableSharedAccess)
        return plan.map(\.record)
    }

    /// Free and Contiguous: lowest-address first fit over blocks that are
    /// free on the device and whose DPAs are unused by the host; Free may
    /// split across holes (one extent per piece). Deterministic.
    private func planDeviceChosen(_ req: DCAddRequest, host h: Int, contiguous: Bool) throws(FabricError) -> [HostExtent] {
        let r = Int(req.regionNumber)
        guard regions.indices.contains(r) else { throw FabricError(.invalidInput, "no DC region \(r)") }
        let block = regions[r].spec.blockSize
        guard req.length > 0, req.length % block == 0 else {
            throw FabricError(.invalidInput, "length \(req.length) is not a non-zero multiple of block size \(block)")
        }
        try requireNewTag(req.tag)
        var pieces: [Span] = []
        var need = req.length
        let hostFree = dpaFree(h, r)
        outer: for hole in regions[r].blocks.free.holes {
            var i = hostFree.holes.partitionPoint { $0.last < hole.start }
            while i < hostFree.holes.count, hostFree.holes[i].start <= hole.last {
                let other = hostFree.holes[i]
                i += 1
                guard let both = Span(start: max(hole.start, other.start), last: min(hole.last, other.last)) else { continue }
                if contiguous {
                    if both.length >= need, let s = Span(start: both.start, length: need) {
                        pieces = [s]
                        need = 0
                        break outer
                    }
                } else if let s = Span(start: both.start, length: min(need, both.length)) {
                    pieces.append(s)
                    need -= s.length
                    if need == 0 { break outer }
                }
            }
        }
        guard need == 0 else {
            throw FabricError(.resourcesExhausted, "region \(r) has no \(contiguous ? "contiguous run" : "free capacity") of \(req.length) bytes for host \(h)")
        }
        return pieces.enumerated().map { i, s in
            HostExtent(record: DCExtentRecord(dpa: s.start, length: s.length, tag: req.tag,
                                              sequence: req.tag.isUntagged ? 0 : UInt16(truncatingIfNeeded: i)),
                       region: r, home: r, physical: s.start, group: 0)
        }
    }

    private func requireNewTag(_ tag: DaxTag) throws(FabricError) {
        if profile.tracksTags, !tag.isUntagged, tags[tag] != nil {
            throw FabricError(.invalidInput, "tag \(tag) already names capacity; use Enable Shared Access to reach it")
        }
    }

    /// Prescriptive: every extent non-empty, block aligned, inside one DC
    /// region, all in the same region (model choice: one offer, one
    /// region), not overlapping each other, not accessible or pending to
    /// the same host (the spec's Invalid Extent List), and on free blocks.
    /// Blocks reserved or owned for another host, or shared by a tag, also
    /// give Invalid Extent List: fabric.md leaves that code unconfirmed;
    /// the model treats the list as naming capacity it cannot assign.
    /// Profile differences: an extent outside every region gets
    /// `outsideRegionsCode`; `offerMaySpanRegions` lifts the one-region
    /// rule; without `tracksTags` each extent keeps its sequence number.
    private func planPrescriptive(_ req: DCAddRequest, host h: Int) throws(FabricError) -> [HostExtent] {
        for e in req.extents { try requireNewTag(e.tag) }
        guard !req.extents.isEmpty, req.extents.count <= hosts[h].maxExtents else {
            throw FabricError(.invalidExtentList, "extent count \(req.extents.count) is not 1...\(hosts[h].maxExtents)")
        }
        var region: Int?
        var seen = FreeSpace(dpaSpan)
        var seq: [DaxTag: UInt16] = [:]
        var plan: [HostExtent] = []
        for (i, e) in req.extents.enumerated() {
            let (r, s) = try listedRegion(e, index: i)
            guard region == nil || region == r || profile.offerMaySpanRegions else {
                throw FabricError(.invalidExtentList, "extent \(i) is in region \(r); one offer stays in one region")
            }
            region = r
            guard seen.take(s) else { throw FabricError(.invalidExtentList, "extent \(i) overlaps an earlier one") }
            guard dpaFree(h, r).isFree(s) else {
                throw FabricError(.invalidExtentList, "extent \(i): DPAs already accessible or pending to host \(h)")
            }
            guard regions[r].blocks.free.isFree(s) else {
                throw FabricError(.invalidExtentList, "extent \(i): blocks are allocated to another host or tag")
            }
            let n = seq[e.tag, default: 0]
            seq[e.tag] = n &+ 1
            let sequence = !profile.tracksTags ? e.sequence : e.tag.isUntagged ? 0 : n
            plan.append(HostExtent(record: DCExtentRecord(dpa: s.start, length: s.length, tag: e.tag, sequence: sequence),
                                   region: r, home: r, physical: s.start, group: 0))
        }
        return plan
    }

    /// Enable Shared Access: Invalid Input unless the tag exists with
    /// capacity a first host accepted (fabric.md leaves an ESA before
    /// that unconfirmed; the model refuses it, as the spec's recipe waits
    /// for the first Add Capacity Response), its home region is Sharable,
    /// the target region exists and is Sharable, the tag's capacity is a
    /// multiple of the target region's block size, and the host neither
    /// holds nor is offered the tag. The host's DPAs: the tag's own when
    /// the target is its home region and they are unused by the host,
    /// else lowest first fit in the target region (Resources Exhausted if
    /// the host has no room there). Sequence numbers 0..n-1 follow the
    /// tag's logical order.
    private func planSharedAccess(_ req: DCAddRequest, host h: Int) throws(FabricError) -> [HostExtent] {
        guard !req.tag.isUntagged, let t = tags[req.tag] else {
            throw FabricError(.invalidInput, "tag \(req.tag) names no capacity")
        }
        let r = Int(req.regionNumber)
        guard regions.indices.contains(r), regions[r].spec.sharable else {
            throw FabricError(.invalidInput, "region \(r) does not exist or is not Sharable")
        }
        guard t.sharable else { throw FabricError(.invalidInput, "tag \(req.tag) is mapped through a region that is not Sharable") }
        // The host's extents of the tag are blocks of the target region.
        guard t.length % regions[r].spec.blockSize == 0 else {
            throw FabricError(.invalidInput, "tag \(req.tag)'s \(t.length) bytes are not a multiple of region \(r)'s block size \(regions[r].spec.blockSize)")
        }
        guard t.established else { throw FabricError(.invalidInput, "tag \(req.tag) has not been accepted by a first host yet") }
        guard !t.accepted.contains(UInt16(h)), !t.pending.contains(UInt16(h)) else {
            throw FabricError(.invalidInput, "tag \(req.tag) is already accessible or pending to host \(h)")
        }
        var pieces: [Span] = []
        let free = dpaFree(h, r)
        if r == t.home, t.spans.allSatisfy({ free.isFree($0) }) {
            pieces = t.spans
        } else {
            var need = t.length
            for hole in free.holes where need > 0 {
                guard let s = Span(start: hole.start, length: min(need, hole.length)) else { continue }
                pieces.append(s)
                need -= s.length
            }
            guard need == 0 else { throw FabricError(.resourcesExhausted, "host \(h) has no room for \(t.length) bytes in region \(r)") }
        }
        // Each piece's physical start: walk the tag's logical stream.
        var plan: [HostExtent] = []
        var logical: UInt64 = 0
        for (i, s) in pieces.enumerated() {
            plan.append(HostExtent(record: DCExtentRecord(dpa: s.start, length: s.length, tag: req.tag, sequence: UInt16(truncatingIfNeeded: i)),
                                   region: r, home: t.home, physical: physicalAddress(of: t, at: logical), group: 0))
            logical &+= s.length
        }
        return plan
    }

    /// The physical address of byte `offset` of tag `t`'s logical stream.
    private func physicalAddress(of t: FabricTag, at offset: UInt64) -> UInt64 {
        var rest = offset
        for s in t.spans {
            if rest < s.length { return s.start &+ rest }
            rest -= s.length
        }
        return t.spans.last?.last ?? 0
    }

    /// The DC region and span of extent `i` of a Prescriptive list:
    /// non-empty, block aligned and inside one region, else Invalid Extent
    /// List (or the profile's `outsideRegionsCode` when no region holds it).
    func listedRegion(_ e: DCExtentRecord, index i: Int) throws(FabricError) -> (Int, Span) {
        let message = "extent \(i) (\(e)) is empty, outside one DC region or not block aligned"
        guard let s = e.span else { throw FabricError(.invalidExtentList, message) }
        guard let r = regionIndex(holding: s) else { throw FabricError(profile.outsideRegionsCode, message) }
        guard regions[r].aligned(s) else { throw FabricError(.invalidExtentList, message) }
        return (r, s)
    }

    /// Makes a checked plan real: blocks reserved, tags made or marked
    /// pending (where the profile tracks tags), DPAs taken, the offer
    /// queued and its records posted.
    private func commitOffer(_ plan: [HostExtent], host h: Int, sharedAccess: Bool) {
        let gid = nextGroupId
        nextGroupId &+= 1
        var group = ExtentGroup(id: gid, host: UInt16(h), extents: [], sharedAccess: sharedAccess)
        var tagsTouched = false
        for var e in plan {
            e.group = gid
            let tracked = profile.tracksTags && !e.record.tag.isUntagged
            if !sharedAccess, let s = e.span {
                _ = regions[e.home].blocks.allocate(s, to: .reserved(host: UInt16(h)))
                if tracked {
                    if tags[e.record.tag] == nil {
                        tags[e.record.tag] = FabricTag(tag: e.record.tag, serial: nextTagSerial, home: e.home, spans: [],
                                                       sharable: regions[e.home].spec.sharable)
                        tagOrder.insert(e.record.tag, key: nextTagSerial)
                        nextTagSerial &+= 1
                    }
                    tags[e.record.tag]?.spans.append(s)
                }
            }
            if tracked {
                tags[e.record.tag]?.pending.insert(UInt16(h))
                tags[e.record.tag]?.lists[UInt16(h), default: []].append(e.record)
                tagsTouched = true
            }
            if let s = e.span { _ = takeDPA(h, e.region, s) }
            hosts[h].pending.insert(e, key: e.record.dpa)
            if tracked { hosts[h].countTag(e.record.tag, 1) }
            group.extents.append(e)
        }
        hosts[h].groups.append(group)
        if tagsTouched { tagsChanged() }
        post(group.extents.map { (.addCapacity, $0.region, $0.record) }, to: h)
    }
}
