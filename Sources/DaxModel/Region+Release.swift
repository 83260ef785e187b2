/// Release requests, pins and writable tags on a sparse region's extents.
extension Region {
    /// A release request from the device, carrying a range and the tag of
    /// the capacity (CXL release records carry it): every extent the range
    /// touches is released whole, and a tagged extent takes its whole tag
    /// group along. Unreferenced extents go at once: one `released` event
    /// lists them all (as a Release Dynamic Capacity response lists its
    /// extents). Referenced ones become `releasing` (one `releaseDeferred`
    /// event listing them) and go when their last reference drops: one
    /// `released` event per request for the extents a call gives back. A request that finds no extent is
    /// acknowledged at once with a `released` event for the range.
    ///
    /// `forced`: logged and ignored (`forcedReleaseIgnored`), unless the
    /// region revokes, in which case the extents go at once, device ranges
    /// inside them are dropped and each device that lost memory is reported.
    /// - Throws: EOPNOTSUPP (not sparse), EINVAL (length 0, wraps, or the
    ///   range touches an extent of another tag: nothing is released).
    @discardableResult
    public func requestRelease(offset: UInt64, length: UInt64, tag: DaxTag = .untagged,
                               forced: Bool = false) throws(DaxError) -> [DaxEvent] {
        guard kind == .sparse, !isDeleted else { throw DaxError(.notSupported, "\(name): releasing extents needs a sparse region") }
        guard length > 0, let span = Span(start: start &+ offset, length: length), offset <= UInt64.max - start else {
            throw DaxError(.invalidArgument, "\(name): release range offset 0x\(String(offset, radix: 16)) length 0x\(String(length, radix: 16)) is empty or wraps")
        }
        var targets = sparse.touching(span)
        if let other = targets.first(where: { $0.tag != tag }) {
            throw DaxError(.invalidArgument,
                           "\(name): release tag \(tag) does not match \(other.name)'s tag \(other.tag); nothing released")
        }
        if !tag.isUntagged, !targets.isEmpty {
            // The whole tag group goes, in acceptance order.
            targets = sparse.pools[tag]?.members ?? targets
        } else {
            targets.sort { $0.order < $1.order }
        }
        let request = model?.newRequestId() ?? 0
        var posted: [DaxEvent] = []
        func post(_ e: DaxEvent) { model?.post(e); posted.append(e) }
        if targets.isEmpty {
            let offer = ExtentOffer(offset: offset, length: length, tag: tag)
            post(DaxEvent(kind: .released, regionId: id, requestId: request,
                          records: [ExtentRecord(offer, reason: "no extent in this range; acknowledged")]))
            return posted
        }
        if forced, !sparse.revoke {
            post(DaxEvent(kind: .forcedReleaseIgnored, regionId: id, requestId: request, records: targets.map(record)))
            return posted
        }
        if forced {
            let lost = revoke(targets)
            post(DaxEvent(kind: .forcedReleaseApplied, regionId: id, requestId: request, records: targets.map(record)))
            for (device, records) in lost {
                post(DaxEvent(kind: .deviceLostMemory, regionId: id, requestId: request, records: records, device: device))
            }
            if let done = complete(targets.filter { $0.state != .released }, requestId: request, kind: .released) {
                posted.append(done)
            }
            return posted
        }
        defer {
            model?.promise(!sparse.touching(span).contains { $0.state == .accepted },
                           "\(self.name): release of \(span) left an accepted extent in its range")
        }
        var now: [Extent] = [], deferred: [Extent] = []
        for extent in targets where extent.state == .accepted {
            if extent.refcount == 0 { now.append(extent) } else { deferred.append(extent) }
        }
        for extent in deferred {
            markReleasing(extent)
            extent.releaseRequest = request
        }
        if !deferred.isEmpty {
            post(DaxEvent(kind: .releaseDeferred, regionId: id, requestId: request, records: deferred.map(record)))
        }
        if let done = complete(now, requestId: request, kind: .released) { posted.append(done) }
        return posted
    }

    private func markReleasing(_ extent: Extent) {
        sparse.available &-= extent.free.total
        let before = extent.free.total
        extent.state = .releasing
        extent.pool.refresh(extent, oldFree: before, wasCounted: true)
    }

    /// Revoke mode: drops every device range inside `targets` and clears
    /// pins. Returns the records lost per device name.
    private func revoke(_ targets: [Extent]) -> [(String, [ExtentRecord])] {
        var lost: [(String, [ExtentRecord])] = []
        let revoked = Set(targets.map(ObjectIdentifier.init))
        for device in devices {
            let dropped = device.revokeRanges(in: revoked)
            if !dropped.isEmpty { lost.append((device.name, dropped)) }
        }
        for extent in targets {
            extent.pins = 0
            if extent.state == .accepted { markReleasing(extent) }
        }
        return lost
    }

    /// Pins `extent` (`daxm_extent_get`).
    /// - Throws: EBUSY (releasing), ENODEV (released), ERANGE (Int32.max
    ///   pins already).
    public func pin(_ extent: Extent) throws(DaxError) {
        switch extent.state {
        case .accepted:
            // Pins are 32-bit, as the state format and daxm_extent_get_refcount bound them.
            guard extent.pins < Int(Int32.max) else {
                throw DaxError(.outOfRange, "\(name)/\(extent.name): the pin count is at its limit")
            }
            extent.pins += 1
        case .releasing: throw DaxError(.busy, "\(name)/\(extent.name): a release is pending; it cannot be pinned")
        case .released, .staged: throw DaxError(.noDevice, "\(name)/\(extent.name): extent was released")
        }
    }

    /// Unpins `extent` (`daxm_extent_put`); the last reference of a
    /// releasing extent completes its release.
    /// - Throws: EINVAL (no pin to drop), ENODEV (released).
    public func unpin(_ extent: Extent) throws(DaxError) {
        guard extent.state != .released else { throw DaxError(.noDevice, "\(name)/\(extent.name): extent was released") }
        guard extent.pins > 0 else { throw DaxError(.invalidArgument, "\(name)/\(extent.name): no pin to drop") }
        let pinsBefore = extent.pins
        extent.pins -= 1
        dropReference(extent)
        model?.promise(extent.pins == pinsBefore - 1, "\(name)/\(extent.name): put did not drop one pin")
        model?.promise(extent.state != .releasing || extent.refcount > 0,
                       "\(name)/\(extent.name): the last reference went and the release did not complete")
    }

    /// Re-tags one extent, or with `wholeGroup` every extent of its tag.
    /// - Throws: EBUSY (an extent is referenced or releasing), EEXIST (the
    ///   new non-null tag already exists on the host), ENODEV (released),
    ///   EPERM (a fabric host's region: `boundToFabric`).
    public func retag(_ extent: Extent, to newTag: DaxTag, wholeGroup: Bool) throws(DaxError) {
        guard extent.state != .released else { throw DaxError(.noDevice, "\(name)/\(extent.name): extent was released") }
        guard !boundToFabric else {
            throw DaxError(.notPermitted, "\(name)/\(extent.name): the tags of a fabric host's capacity are the device's; the fabric manager releases and offers the capacity again under another tag")
        }
        let members = wholeGroup && !extent.tag.isUntagged ? (sparse.pools[extent.tag]?.members ?? [extent]) : [extent]
        if let busy = members.first(where: { $0.refcount > 0 || $0.state != .accepted }) {
            throw DaxError(.busy, "\(name)/\(busy.name): extent is in use (refcount \(busy.refcount), \(busy.state.name)); tags change only on unreferenced extents")
        }
        if newTag == extent.tag { return }
        if let model, model.tagExists(newTag) {
            throw DaxError(.exists, "\(name): tag \(newTag.uuidString) already exists on the host")
        }
        defer { model?.promise(members.allSatisfy { $0.tag == newTag }, "\(name): retag left an extent with its old tag") }
        for member in members {
            sparse.pools[member.tag]?.remove(member, wasCounted: true)
            if sparse.pools[member.tag]?.isEmpty == true { sparse.pools[member.tag] = nil }
            model?.countTag(member.tag, -1)
            member.tag = newTag
            sparse.pools[newTag, default: TagPool()].add(member)
            model?.countTag(newTag, 1)
        }
    }
}
