/// Tag-aware allocation on sparse regions: choosing a tag before sizing,
/// and claiming a whole tag group in one step (the kernel v11 `uuid`
/// attribute).
extension Device {
    /// Selects the tag this device allocates from (`daxR.N/tag`); nil
    /// clears the selection.
    /// - Throws: EOPNOTSUPP (not a sparse region), EBUSY (the device has
    ///   size: its ranges belong to the old tag).
    public func selectTag(_ newTag: DaxTag?) throws(DaxError) {
        try keepingPromises("select tag", { () throws(DaxError) in try selectTagUnchecked(newTag) }) { b, a in
            a.tag == newTag && a.spans == b.spans ? nil : "tag not selected, or ranges changed"
        }
    }

    private func selectTagUnchecked(_ newTag: DaxTag?) throws(DaxError) {
        guard let region, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        guard region.kind == .sparse else {
            throw DaxError(.notSupported, "\(name): tags exist only on sparse regions")
        }
        if newTag == tag { return }
        guard views == 0 else { throw DaxError(.busy, "\(name): device is mapped; unmap its views first") }
        guard size == 0 else {
            throw DaxError(.busy, "\(name): the tag cannot change while the device has size; resize it to 0 first")
        }
        tag = newTag
    }

    /// Sizes the device to a whole tag group (`daxR.N/uuid`): every extent
    /// of `claimed`, one range each, laid out in sequence order (arrival
    /// order for groups that were not shareable). For the
    /// untagged "tag" it takes one wholly free untagged extent, the first
    /// accepted, as v11's `uuid` = 0 does.
    /// - Throws: EOPNOTSUPP (not sparse), EBUSY (the device has size or is
    ///   bound; or some of the tag's capacity is used, pinned or releasing),
    ///   ENOENT (no accepted extent has that tag).
    /// Promise: the device then holds the tag's whole group (one extent
    /// for "untagged"), one range per extent.
    public func claimTag(_ claimed: DaxTag) throws(DaxError) {
        let members = region?.sparse.pools[claimed]?.members ?? []
        let whole = members.reduce(UInt64(0)) { $0 &+ $1.length }
        try keepingPromises("claim tag \(claimed)", { () throws(DaxError) in try claimTagUnchecked(claimed) }) { _, a in
            guard a.tag == claimed, !a.spans.isEmpty else { return "tag not claimed, or no range" }
            if claimed.isUntagged {
                return a.spans.count == 1 && members.contains { $0.span == a.spans[0] } ? nil : "not one whole untagged extent"
            }
            return a.size == whole && a.spans.count == members.count ? nil : "not the whole group of \(members.count) extents"
        }
    }

    private func claimTagUnchecked(_ claimed: DaxTag) throws(DaxError) {
        guard let region, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        guard region.kind == .sparse else {
            throw DaxError(.notSupported, "\(name): claiming a tag needs a sparse region")
        }
        guard size == 0, !isBound, views == 0 else {
            throw DaxError(.busy, "\(name): only an unbound device of size 0 can claim a tag")
        }
        let members = region.sparse.pools[claimed]?.members ?? []
        guard !members.isEmpty else {
            throw DaxError(.noEntry, "\(region.name): no extent has tag \(claimed)")
        }
        let chosen: [Extent]
        if claimed.isUntagged {
            guard let free = members.first(where: { $0.state == .accepted && $0.refcount == 0 }) else {
                throw DaxError(.busy, "\(region.name): every untagged extent is in use")
            }
            chosen = [free]
        } else {
            if let used = members.first(where: { $0.state != .accepted || $0.refcount > 0 }) {
                throw DaxError(.busy, "\(region.name)/\(used.name): tag \(claimed) is partly in use (refcount \(used.refcount), \(used.state.name))")
            }
            // Shareable groups are laid out by sequence number, others in
            // arrival (acceptance) order, as Linux v11 does.
            chosen = members.allSatisfy(\.sequenced)
                ? members.sorted { ($0.sequence, $0.order) < ($1.sequence, $1.order) }
                : members
        }
        tag = claimed
        for extent in chosen { allocRange(extent.span, in: region, extent: extent) }
    }
}
