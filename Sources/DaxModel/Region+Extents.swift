/// The device / fabric-manager side of a sparse region: offering extents
/// in groups, accepting or rejecting them, releasing them (deferred while
/// referenced), pins and writable tags. Follows the DCD series' host rules
/// (reference kernel-dax.md §3.7, dcd-spec.md), with the review's
/// deferred release and tag uniqueness.
extension Region {
    private func requireSparse(_ what: String) throws(DaxError) {
        guard !isDeleted else { throw DaxError(.noDevice, "\(name): region was removed") }
        guard kind == .sparse else { throw DaxError(.notSupported, "\(name): \(what) needs a sparse region") }
    }

    /// Extents in acceptance order (accepted and releasing).
    public var extents: [Extent] { sparse.byOrder.values }

    /// The first extent in acceptance order. O(1).
    public var firstExtent: Extent? { sparse.byOrder.first?.value }

    /// The extent after `extent` in acceptance order. O(log n).
    public func extent(after extent: Extent) -> Extent? { sparse.extent(after: extent) }

    /// The accepted or releasing extent `extentK`. O(1).
    public func extent(id: Int) -> Extent? { sparse.extent(id: id) }

    /// The accepted or releasing extent holding the byte at region offset
    /// `offset`, if any. O(log n).
    public func extent(atOffset offset: UInt64) -> Extent? {
        guard offset < size, let at = Span(start: start &+ offset, length: 1) else { return nil }
        return sparse.touching(at).first
    }

    /// Offers extents; with `more` the group stays open (the CXL More flag),
    /// otherwise it closes and is answered. `shareable` marks the group as
    /// carrying sequence numbers that must run 0..n-1 per tag.
    /// - Throws: EOPNOTSUPP (not sparse), E2BIG (the group would exceed the
    ///   per-group limit; nothing of this call is staged), EINVAL (an empty
    ///   call that neither closes a group).
    /// - Returns: the answer event when the group closed.
    @discardableResult
    public func offerExtents(_ offers: [ExtentOffer], more: Bool, shareable: Bool = false) throws(DaxError) -> DaxEvent? {
        try requireSparse("offering extents")
        guard sparse.staged.count + offers.count <= sparse.maxPerGroup else {
            throw DaxError(.argumentListTooLong,
                           "\(name): a group holds at most \(sparse.maxPerGroup) extents (\(sparse.staged.count) staged, \(offers.count) offered)")
        }
        if sparse.staged.isEmpty { sparse.stagedShareable = shareable } else if shareable { sparse.stagedShareable = true }
        sparse.staged += offers
        return more ? nil : closeGroup()
    }

    /// Closes the open group (as a record without More would) and answers
    /// it; an empty group is answered with no records.
    @discardableResult
    public func closeGroup() -> DaxEvent {
        let offers = sparse.staged
        let shareable = sparse.stagedShareable
        sparse.staged = []
        sparse.stagedShareable = false
        var results = offers.map { validate($0) }
        checkOverlapsWithinGroup(offers, &results)
        if shareable { checkSequences(offers, &results) }
        rejectIncompleteTagGroups(offers, &results)
        rejectOverLimit(offers, &results)
        var records: [ExtentRecord] = []
        for (offer, result) in zip(offers, results) {
            switch result {
            case .accept:
                defer {
                    let found = records.last?.result == nil ? sparse.touching(Span(start: start &+ offer.offset, length: offer.length) ?? span) : []
                    model?.promise(records.last?.result != nil
                                   || (found.count == 1 && found[0].offset == offer.offset && found[0].length == offer.length && found[0].tag == offer.tag),
                                   "\(name): an accepted offer at 0x\(String(offer.offset, radix: 16)) is not filed as one extent of its tag")
                }
                if sparse.count >= sparse.maxExtents {
                    records.append(ExtentRecord(offer, result: .noSpace, reason: "region holds its maximum of \(sparse.maxExtents) extents"))
                } else if let id = sparse.ids.allocate() {
                    accept(offer, id: id, sequenced: shareable)
                    records.append(ExtentRecord(offer))
                } else {
                    records.append(ExtentRecord(offer, result: .noSpace, reason: "every extent id up to \(IdAllocator.maxId) is in use"))
                }
            case .acceptAgain:
                records.append(ExtentRecord(offer, reason: "contained in an accepted extent; accepted again"))
            case .reject(let e, let why):
                records.append(ExtentRecord(offer, result: e, reason: why))
            }
        }
        let event = DaxEvent(kind: .groupAnswered, regionId: id, requestId: model?.newRequestId() ?? 0, records: records)
        model?.post(event)
        return event
    }

    private enum Verdict { case accept, acceptAgain, reject(DaxErrno, String) }

    /// Per-extent checks against the region and the host.
    private func validate(_ offer: ExtentOffer) -> Verdict {
        guard offer.length > 0, offer.offset % Region.compatAlign == 0, offer.length % Region.compatAlign == 0 else {
            return .reject(.invalidArgument, "offset and length must be non-zero multiples of 2 MiB")
        }
        guard offer.offset < size, offer.length <= size - offer.offset,
              let span = Span(start: start &+ offer.offset, length: offer.length) else {
            return .reject(.outOfRange, "extent leaves the region")
        }
        let touching = sparse.touching(span)
        if let container = touching.first, touching.count == 1, container.span.contains(span) {
            guard container.tag == offer.tag, container.state == .accepted else {
                return .reject(.busy, "contained in \(container.name), which has another tag or is being released")
            }
            return .acceptAgain
        }
        if let other = touching.first {
            return .reject(.busy, "overlaps \(other.name) at \(other.span)")
        }
        if let model, model.tagExists(offer.tag) {
            return .reject(.exists, "tag \(offer.tag.uuidString) already exists on the host; a later group cannot add to it")
        }
        return .accept
    }

    /// Two extents of one group may not overlap each other: the earlier
    /// one (in group order) wins. Free space of the region span answers
    /// "is all of this still untaken" in O(log n).
    private func checkOverlapsWithinGroup(_ offers: [ExtentOffer], _ results: inout [Verdict]) {
        var untaken = FreeSpace(span)
        for (i, offer) in offers.enumerated() {
            guard case .accept = results[i], let s = Span(start: start &+ offer.offset, length: offer.length) else { continue }
            if !untaken.take(s) { results[i] = .reject(.busy, "overlaps an earlier extent of the same group") }
        }
    }

    /// In a shareable group the sequence numbers of each tag run 0..n-1.
    private func checkSequences(_ offers: [ExtentOffer], _ results: inout [Verdict]) {
        var byTag: [DaxTag: [UInt32]] = [:]
        for offer in offers where !offer.tag.isUntagged { byTag[offer.tag, default: []].append(offer.sequence) }
        let dense = byTag.mapValues { seqs in seqs.sorted().enumerated().allSatisfy { UInt32(clamping: $0.offset) == $0.element } }
        for (i, offer) in offers.enumerated() where !offer.tag.isUntagged && dense[offer.tag] == false {
            let n = byTag[offer.tag]?.count ?? 0
            results[i] = .reject(.invalidArgument, "sequence numbers of tag \(offer.tag.uuidString) are not 0..\(max(n, 1) - 1)")
        }
    }

    /// A tag group is accepted whole or not at all.
    private func rejectIncompleteTagGroups(_ offers: [ExtentOffer], _ results: inout [Verdict]) {
        var bad: Set<DaxTag> = []
        for (i, offer) in offers.enumerated() where !offer.tag.isUntagged {
            if case .reject = results[i] { bad.insert(offer.tag) }
        }
        for (i, offer) in offers.enumerated() where bad.contains(offer.tag) {
            if case .reject = results[i] { continue }
            results[i] = .reject(.canceled, "another extent of tag \(offer.tag.uuidString) in this group was rejected")
        }
    }

    /// The region's extent limit, in group order: an untagged extent takes
    /// one place, a tag group all of its places at its first extent, or
    /// none (every extent of the tag rejected): a tag group the region
    /// cannot hold whole is not accepted in part.
    private func rejectOverLimit(_ offers: [ExtentOffer], _ results: inout [Verdict]) {
        var room = max(0, sparse.maxExtents - sparse.count)
        var needs: [DaxTag: Int] = [:]
        for (i, offer) in offers.enumerated() where !offer.tag.isUntagged {
            if case .accept = results[i] { needs[offer.tag, default: 0] += 1 }
        }
        var fits: [DaxTag: Bool] = [:]
        for (i, offer) in offers.enumerated() {
            guard case .accept = results[i] else { continue }
            let ok: Bool
            if offer.tag.isUntagged {
                ok = room > 0
                if ok { room -= 1 }
            } else if let known = fits[offer.tag] {
                ok = known
            } else {
                let n = needs[offer.tag] ?? 1
                ok = n <= room
                if ok { room -= n }
                fits[offer.tag] = ok
            }
            if !ok {
                results[i] = .reject(.noSpace, "region holds its maximum of \(sparse.maxExtents) extents"
                                     + (offer.tag.isUntagged ? "" : "; tag \(offer.tag.uuidString)'s group does not fit whole"))
            }
        }
    }

    private func accept(_ offer: ExtentOffer, id: Int, sequenced: Bool) {
        guard let span = Span(start: start &+ offer.offset, length: offer.length) else {
            sparse.ids.release(id)
            return
        }
        let extent = Extent(id: id, span: span, tag: offer.tag, sequence: offer.sequence,
                            sequenced: sequenced, order: sparse.nextOrder, region: self)
        sparse.nextOrder &+= 1
        sparse.file(extent)
        sparse.pools[offer.tag, default: TagPool()].add(extent)
        sparse.available &+= span.length
        model?.countTag(offer.tag, 1)
    }

    /// Takes `span` for a device range from `extent`'s free space.
    func take(_ span: Span, from extent: Extent) -> Bool {
        let before = extent.free.total
        guard extent.takeFree(span) else { return false }
        refile(extent, oldFree: before)
        return true
    }

    /// Gives `span` back to `extent` (a device range shrank or went).
    func give(_ span: Span, to extent: Extent) {
        let before = extent.free.total
        extent.giveFree(span)
        refile(extent, oldFree: before)
    }

    private func refile(_ extent: Extent, oldFree: UInt64) {
        let counted = extent.state == .accepted
        extent.pool.refresh(extent, oldFree: oldFree, wasCounted: counted)
        if counted { sparse.available = sparse.available &- oldFree &+ extent.free.total }
    }

    /// A reference on `extent` went away: complete a pending release (at
    /// the end of the batch, if one is open).
    func dropReference(_ extent: Extent) {
        guard extent.state == .releasing, extent.refcount == 0 else { return }
        if completionBatch != nil {
            completionBatch?.append(extent)
        } else {
            complete([extent], requestId: extent.releaseRequest, kind: .released)
        }
    }

    /// Runs `body`, then completes the releases whose last reference it
    /// dropped: one `released` event per release request, listing every
    /// extent of that request given back by this call.
    func completingTogether(_ body: () -> Void) {
        guard completionBatch == nil else { return body() }
        completionBatch = []
        body()
        let done = completionBatch ?? []
        completionBatch = nil
        var requests: [UInt64] = []
        var byRequest: [UInt64: [Extent]] = [:]
        for extent in done {
            if byRequest[extent.releaseRequest] == nil { requests.append(extent.releaseRequest) }
            byRequest[extent.releaseRequest, default: []].append(extent)
        }
        for request in requests { complete(byRequest[request] ?? [], requestId: request, kind: .released) }
    }

    /// Removes released extents from the region and reports them in one
    /// event (none for an empty list).
    @discardableResult
    func complete(_ extents: [Extent], requestId: UInt64, kind: DaxEvent.Kind) -> DaxEvent? {
        guard !extents.isEmpty else { return nil }
        // Retire before the indexes let go, and keep the extents alive to
        // the end: the caller may hold only unretained pointers from C.
        for extent in extents { model?.retire(extent, handedOut: extent.handedOut) }
        return withExtendedLifetime(extents) {
            for extent in extents { completeHeld(extent) }
            let event = DaxEvent(kind: kind, regionId: id, requestId: requestId, records: extents.map(record))
            model?.post(event)
            return event
        }
    }

    private func completeHeld(_ extent: Extent) {
        let counted = extent.state == .accepted
        if counted { sparse.available &-= extent.free.total }
        sparse.pools[extent.tag]?.remove(extent, wasCounted: counted)
        if sparse.pools[extent.tag]?.isEmpty == true { sparse.pools[extent.tag] = nil }
        sparse.unfile(extent)
        sparse.ids.release(extent.id)
        extent.forgetSideEntries()
        model?.countTag(extent.tag, -1)
        extent.state = .released
        if sanitizeOnRelease {
            releasedSpans.append(extent.span)
            model?.needUpkeep()
        }
    }

    func record(_ extent: Extent) -> ExtentRecord {
        ExtentRecord(ExtentOffer(offset: extent.offset, length: extent.length, tag: extent.tag, sequence: extent.sequence))
    }
}
