/// The host side of the wire: Add Dynamic Capacity Response (4802h) and
/// Release Dynamic Capacity (4803h), each reported to the fabric manager.
extension DCDevice {
    /// Takes one host answer. Every answer the device consumes gives the
    /// fabric manager one chain of records carrying the host id: Add
    /// Capacity Response (one record per accepted extent, or one of
    /// length 0 when nothing was accepted or the offer was dead), or
    /// Capacity Released (one per extent given back). A refused answer
    /// changes nothing and reports nothing, except the answer to a dead
    /// offer, which consumes it. Where the profile does not report to the
    /// manager (qemu), consumed answers are only counted
    /// (`answersConsumed`); where it drops tags on accept, accepted extents
    /// are filed with a null tag and sequence 0.
    ///
    /// Add response checks: no such host (Invalid Input); no pending offer
    /// (Invalid Physical Address); the offer is dead (Invalid Physical
    /// Address, offer consumed); an entry that is not exactly one offered
    /// extent, or named twice (Invalid Physical Address: the model's hosts
    /// answer with whole extents, so a sub-range is refused); part of a
    /// tag's extents (Invalid Input: a tag is accepted whole or not at
    /// all, the model's choice for tagged capacity, which Linux follows).
    ///
    /// Release checks: no such host or an empty list (Invalid Input); an
    /// entry that is not exactly one accepted extent of that host, or named
    /// twice (Invalid Physical Address).
    /// - Returns: the return code the host's mailbox command gets.
    @discardableResult
    public func answer(_ message: HostAnswer) -> CXLReturnCode {
        do {
            switch message {
            case .addResponse(let host, let accepted): try addResponse(host: host, accepted: accepted)
            case .release(let host, let extents): try releaseResponse(host: host, extents: extents)
            }
            return .success
        } catch {
            return error.code
        }
    }

    private func addResponse(host: UInt16, accepted: [DCRange]) throws(FabricError) {
        let h = try hostIndex(host)
        guard let group = hosts[h].oldestGroup else {
            throw FabricError(.invalidPhysicalAddress, "host \(h) has no pending offer")
        }
        if group.dead {
            hosts[h].popGroup()
            answersConsumed += 1
            postFM(.addCapacityResponse, host: h, [(0, DCExtentRecord(dpa: 0, length: 0))])
            throw FabricError(.invalidPhysicalAddress, "host \(h) answered an offer that was force-released")
        }
        var chosen = Set<Int>()
        for range in accepted {
            guard let i = group.extents.firstIndex(where: { $0.record.dpa == range.dpa && $0.record.length == range.length }),
                  chosen.insert(i).inserted else {
                throw FabricError(.invalidPhysicalAddress, "host \(h): 0x\(String(range.dpa, radix: 16)) is not an offered extent")
            }
        }
        var tagWhole: [DaxTag: Bool] = [:]
        for (i, e) in group.extents.enumerated() where !e.record.tag.isUntagged {
            let taken = chosen.contains(i)
            if let was = tagWhole[e.record.tag], was != taken {
                throw FabricError(.invalidInput, "host \(h) accepted part of tag \(e.record.tag)")
            }
            tagWhole[e.record.tag] = taken
        }
        hosts[h].popGroup()
        answersConsumed += 1
        var report: [(Int, DCExtentRecord)] = []
        var edits = TagEdits()
        for (i, e) in group.extents.enumerated() {
            if chosen.contains(i) {
                acceptPending(e, host: h, sharedAccess: group.sharedAccess)
                report.append((e.region, e.record))
            } else {
                dropPending(e, host: h, sharedAccess: group.sharedAccess, &edits)
            }
        }
        apply(edits, host: h)
        if !chosen.isEmpty { listChanged(h) }
        settleTags(Set(group.extents.map(\.record.tag)), host: h)
        postFM(.addCapacityResponse, host: h, report.isEmpty ? [(0, DCExtentRecord(dpa: 0, length: 0))] : report)
    }

    private func releaseResponse(host: UInt16, extents: [DCRange]) throws(FabricError) {
        let h = try hostIndex(host)
        guard !extents.isEmpty else { throw FabricError(.invalidInput, "host \(h) released no extent") }
        var found: [HostExtent] = []
        var named = Set<UInt64>()
        for range in extents {
            guard named.insert(range.dpa).inserted,
                  let p = hosts[h].accepted.find(range.dpa, where: { $0.record.length == range.length }) else {
                throw FabricError(.invalidPhysicalAddress, "host \(h): 0x\(String(range.dpa, radix: 16)) is not one of its extents")
            }
            found.append(hosts[h].accepted.value(at: p))
        }
        answersConsumed += 1
        var edits = TagEdits()
        for e in found { dropAccepted(e, host: h, sanitize: false, &edits) }
        apply(edits, host: h)
        listChanged(h)
        settleTags(Set(found.map(\.record.tag)), host: h)
        postFM(.capacityReleased, host: h, found.map { ($0.region, $0.record) })
    }

    // MARK: moving one extent

    /// A pending extent the host accepted, filed as the profile files
    /// accepted extents (qemu: null tag, sequence 0).
    func acceptPending(_ e: HostExtent, host h: Int, sharedAccess: Bool) {
        hosts[h].pending.remove(e.record.dpa) { $0.group == e.group }
        var filed = e
        filed.record = profile.acceptedRecord(e.record)
        hosts[h].accepted.insert(filed, key: e.record.dpa)
        mapChanged(h)
        decodeAccepted(filed, host: h)
        if !sharedAccess {
            let tag = e.record.tag
            let owner: BlockOwner = !tag.isUntagged && (tags[tag]?.sharable ?? false) ? .shared(tag: tag) : .owned(host: UInt16(h))
            _ = regions[e.home].blocks.setOwner(at: e.physical, owner)
        }
        if !e.record.tag.isUntagged {
            tags[e.record.tag]?.accepted.insert(UInt16(h))
            tags[e.record.tag]?.established = true
        }
    }

    /// A pending extent refused by the host, or of a dead offer: its DPAs
    /// and budget go back, and its blocks unless it only shared a tag's.
    func dropPending(_ e: HostExtent, host h: Int, sharedAccess: Bool, _ edits: inout TagEdits) {
        hosts[h].pending.remove(e.record.dpa) { $0.group == e.group }
        if let s = e.span { giveDPA(h, e.region, s) }
        if profile.tracksTags { hosts[h].countTag(e.record.tag, -1) }
        if !e.record.tag.isUntagged {
            edits.records[e.record.tag, default: []].insert(e.record)
        }
        if !sharedAccess, let s = e.span {
            // Never reached the host's memory: no sanitize needed.
            _ = regions[e.home].blocks.setOwner(at: s.start, .free)
            if !e.record.tag.isUntagged { edits.spans[e.record.tag, default: []].insert(s) }
        }
    }

    /// Removals from tags' per-host lists and spans that a batch of
    /// `dropPending`/`dropAccepted` calls asks for, applied by `apply` in
    /// one pass per tag (one removal per extent would be quadratic in a
    /// tag's extents). Nothing reads those lists or spans in between.
    struct TagEdits {
        var records: [DaxTag: Set<DCExtentRecord>] = [:]
        var spans: [DaxTag: Set<Span>] = [:]
    }

    /// Applies `edits` to host `h`'s lists and the tags' spans.
    func apply(_ edits: TagEdits, host h: Int) {
        for (tag, gone) in edits.records {
            tags[tag]?.lists[UInt16(h)]?.removeAll { gone.contains($0) }
        }
        for (tag, gone) in edits.spans {
            tags[tag]?.spans.removeAll { gone.contains($0) }
        }
    }

    /// An accepted extent leaving the host (released or revoked). Its
    /// blocks go back unless they are a tag's shared capacity, which goes
    /// with the tag.
    func dropAccepted(_ e: HostExtent, host h: Int, sanitize asked: Bool, _ edits: inout TagEdits) {
        let sanitize = sanitizeRequested.remove(e.physical) != nil || asked
        hosts[h].accepted.remove(e.record.dpa) { $0.group == e.group }
        mapChanged(h)
        decodeDropped(e, host: h)
        if let s = e.span { giveDPA(h, e.region, s) }
        hosts[h].countTag(e.record.tag, -1)
        let tag = e.record.tag
        if !tag.isUntagged {
            edits.records[tag, default: []].insert(e.record)
            if sanitize { tags[tag]?.sanitize = true }
        }
        let sharedBlocks = !tag.isUntagged && (tags[tag]?.sharable ?? false)
        if !sharedBlocks, let s = e.span {
            freeBlocks(e.home, s, sanitize: sanitize)
            if !tag.isUntagged { edits.spans[tag, default: []].insert(s) }
        }
    }

    /// Host `h`'s accepted list changed: what it can reach may have too.
    func mapChanged(_ h: Int) {
        hosts[h].memoryStamp &+= 1
        memoryStamp &+= 1
    }

    /// After a host's extents of `touched` tags moved (its offer answered
    /// or dead, or extents released): update the tags' bitmaps, free those
    /// nothing holds, and bump List Tags' generation if its payload
    /// changed. A host holds a tag through at most one offer (a new
    /// allocation needs a new tag; Enable Shared Access refuses a host
    /// that holds it), so after any of these the host's pending bit clears.
    func settleTags(_ touched: Set<DaxTag>, host h: Int) {
        var changed = false
        for tag in touched where !tag.isUntagged {
            // In place: a copy stored back would copy the tag's lists.
            guard let before = tags[tag].map({ ($0.accepted, $0.pending) }) else { continue }
            let accepted = hostAccepted(tag, h)
            tags[tag]?.pending.remove(UInt16(h))
            if !accepted { tags[tag]?.accepted.remove(UInt16(h)) }
            if tags[tag]?.lists[UInt16(h)]?.isEmpty == true { tags[tag]?.lists[UInt16(h)] = nil }
            if let t = tags[tag], before != (t.accepted, t.pending) { changed = true }
            freeTagIfUnheld(tag)
        }
        if changed { tagsChanged() }
    }

    /// True when host `h` has an accepted extent of `tag`.
    private func hostAccepted(_ tag: DaxTag, _ h: Int) -> Bool {
        (tags[tag]?.lists[UInt16(h)] ?? []).contains { r in
            hosts[h].accepted.find(r.dpa, where: { $0.record.tag == tag }) != nil
        }
    }
}
