/// The device allocator: `dev_dax_resize` and its helpers in
/// drivers/dax/bus.c, as named verbs. Each validates first and then
/// mutates, so a refused call leaves no partial state.
extension Device {
    private func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    /// `dev_dax_resize` (the `size` store after parsing): grow or shrink to
    /// `newSize`.
    /// - Throws: EINVAL (not a multiple of `granularity`), EBUSY (bound,
    ///   even for the current size), ENOSPC (growth beyond available_size),
    ///   EACCES (static region).
    /// Promise (checked in debug builds): on success the size is exactly
    /// `newSize`; a refusal changes nothing.
    public func resize(to newSize: UInt64) throws(DaxError) {
        try keepingPromises("resize to \(hex(newSize))", { () throws(DaxError) in try resizeUnchecked(to: newSize) },
                            promised: Device.resizePromise(newSize))
    }

    private func resizeUnchecked(to newSize: UInt64) throws(DaxError) {
        guard let region, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        guard region.kind != .staticRegion else {
            throw DaxError(.permissionDenied, "\(name): size is read-only on static region \(region.name)")
        }
        guard isAligned(newSize) else {
            throw DaxError(.invalidArgument,
                           "\(name): size \(hex(newSize)) is not a multiple of \(hex(granularity)) (max(align, 2 MiB))")
        }
        guard !isBound else {
            throw DaxError(.busy, "\(name): device is enabled; disable it before resizing")
        }
        guard views == 0 else { throw DaxError(.busy, "\(name): device is mapped; unmap its views before resizing") }
        if newSize == size { return }
        if newSize < size {
            shrink(to: newSize)
            return
        }
        let toAlloc = newSize - size
        if region.kind == .sparse {
            try growSparse(by: toAlloc, in: region)
            return
        }
        guard toAlloc <= region.availableSize else {
            throw DaxError(.noSpace,
                           "\(name): growing by \(hex(toAlloc)) needs more than \(region.name)'s available \(hex(region.availableSize))")
        }
        grow(by: toAlloc, in: region)
    }

    /// Tag-aware growth on a sparse region: only extents of the device's
    /// tag, first fit in acceptance order, lowest hole first inside each
    /// extent; the last range grows in place when the hole directly follows
    /// it inside the same extent.
    /// - Throws: EOPNOTSUPP (no tag selected: old clients fail loudly),
    ///   ENOSPC (the tag's free space is short, whatever other tags have).
    func growSparse(by toAlloc: UInt64, in region: Region) throws(DaxError) {
        guard let tag else {
            throw DaxError(.notSupported,
                           "\(name): sparse region \(region.name) allocates by tag; select one first (write a UUID or \"untagged\" to \(name)/tag)")
        }
        let free = region.sparse.pools[tag]?.free ?? 0
        guard toAlloc <= free else {
            throw DaxError(.noSpace, "\(name): growing by \(hex(toAlloc)) needs more than the \(hex(free)) free in tag \(tag)")
        }
        var remaining = toAlloc
        while remaining > 0, let extent = region.sparse.pools[tag]?.firstOpen, let hole = extent.free.lowest {
            let piece = min(hole.length, remaining)
            guard let span = Span(start: hole.start, length: piece) else { return }
            if let last = ranges.last, last.extent === extent, canAdjustInPlace(before: hole) {
                adjustLastRange(by: span, in: region)
            } else {
                allocRange(span, in: region, extent: extent)
            }
            remaining -= piece
        }
    }

    /// The grow loop: lowest-address hole first, split across holes; the
    /// last range is extended in place (`adjust_ok`) only when the chosen
    /// hole directly follows it. The caller checked that `toAlloc` fits.
    func grow(by toAlloc: UInt64, in region: Region) {
        var remaining = toAlloc
        while remaining > 0, let hole = region.free.lowest {
            let piece = min(hole.length, remaining)
            guard let span = Span(start: hole.start, length: piece) else { return }
            if canAdjustInPlace(before: hole) {
                adjustLastRange(by: span, in: region)
            } else {
                allocRange(span, in: region)
            }
            remaining -= piece
        }
    }

    /// `adjust_ok`: the device's last range ends right where `hole` begins.
    func canAdjustInPlace(before hole: Span) -> Bool {
        guard let last = ranges.last, last.last < UInt64.max else { return false }
        return last.last + 1 == hole.start
    }

    /// `alloc_dev_dax_range`: take `span` from the region (or from `extent`
    /// on a sparse region, holding one reference on it) and append it as a
    /// new range with page offset = the size so far. Returns false if the
    /// span is not entirely free (the kernel's ENOMEM).
    @discardableResult
    func allocRange(_ span: Span, in region: Region, extent: Extent? = nil) -> Bool {
        if let extent {
            guard region.take(span, from: extent) else { return false }
            extent.rangeRefs &+= 1
        } else {
            guard region.free.take(span) else { return false }
        }
        let range = DeviceRange(span: span, pageOffset: size / DeviceRange.pageSize, index: ranges.count,
                                device: self, extent: extent)
        ranges.append(range)
        size &+= span.length
        return true
    }

    /// `adjust_dev_dax_range` growing: extend the last range over `span`,
    /// which directly follows it (inside the same extent, if any). No new
    /// reference: the range already holds one (the DCD v1..v9 leak, fixed).
    func adjustLastRange(by span: Span, in region: Region) {
        guard let last = ranges.last else { return }
        if let extent = last.extent {
            guard region.take(span, from: extent) else { return }
        } else {
            guard region.free.take(span) else { return }
        }
        last.span.last = span.last
        size &+= span.length
    }

    /// Returns `span` to wherever `range` took it from.
    private func giveBack(_ span: Span, of range: DeviceRange, in region: Region) {
        if let extent = range.extent { region.give(span, to: extent) } else { region.free.give(span) }
    }

    /// `dev_dax_shrink`: drop whole ranges from the end, then trim the new
    /// last one.
    func shrink(to newSize: UInt64) {
        guard let region else { return }
        var toShrink = size - newSize
        while toShrink > 0, let last = ranges.last {
            if toShrink >= last.length {
                trimLastRange(in: region)
                toShrink -= last.length
            } else {
                let keep = last.length - toShrink
                if let tail = Span(start: last.start + keep, last: last.last) {
                    giveBack(tail, of: last, in: region)
                    last.span.last = tail.start - 1
                    size &-= tail.length
                }
                toShrink = 0
            }
        }
    }

    /// `trim_dev_dax_range`: release the last range and its mapping, and
    /// the range's reference on its extent.
    func trimLastRange(in region: Region) {
        guard let last = ranges.popLast() else { return }
        region.model?.retire(last, handedOut: last.handedOut)
        giveBack(last.span, of: last, in: region)
        size &-= last.length
        last.isDeleted = true
        if let extent = last.extent {
            extent.rangeRefs &-= 1
            region.dropReference(extent)
        }
    }

    /// Revoke mode: drops every range lying in one of `extents`, renumbers
    /// the rest (page offsets become the running sum again) and records
    /// the loss. Returns what was lost.
    func revokeRanges(in extents: Set<ObjectIdentifier>) -> [ExtentRecord] {
        guard let region else { return [] }
        var lost: [ExtentRecord] = []
        var kept: [DeviceRange] = []
        for range in ranges {
            if let extent = range.extent, extents.contains(ObjectIdentifier(extent)) {
                region.give(range.span, to: extent)
                extent.rangeRefs &-= 1
                range.isDeleted = true
                region.model?.retire(range, handedOut: range.handedOut)
                lostBytes &+= range.length
                region.model?.needUpkeep()
                lost.append(ExtentRecord(ExtentOffer(offset: range.start &- region.start, length: range.length,
                                                     tag: extent.tag, sequence: extent.sequence),
                                         reason: "\(name) lost mapping\(range.index)"))
            } else {
                kept.append(range)
            }
        }
        guard !lost.isEmpty else { return [] }
        var offset: UInt64 = 0
        for (i, range) in kept.enumerated() {
            range.index = i
            range.pageOffset = offset / DeviceRange.pageSize
            offset &+= range.length
        }
        ranges = kept
        size = offset
        if size == 0 { isBound = false }
        return lost
    }

    /// The `mapping` store: append exactly `[start, last]` (inclusive).
    ///
    /// Length is computed with wrapping arithmetic as the kernel does, so
    /// `last < start` gives a huge length that either fails the alignment
    /// test or the region test.
    /// - Throws: ENXIO (6.1 profile, length not a multiple of
    ///   `granularity`), EBUSY (a 0 length on a device with ranges),
    ///   ENOMEM (not free or not inside the region), EACCES (static),
    ///   EOPNOTSUPP (sparse).
    /// Promise: on success exactly `[start, last]` is appended, or nothing
    /// changes (a 0-byte range, or 6.12's silent unaligned length).
    public func addMapping(start: UInt64, last: UInt64) throws(DaxError) {
        let length = last &- start &+ 1
        try keepingPromises("mapping \(hex(start))-\(hex(last))",
                            { () throws(DaxError) in try addMappingUnchecked(start: start, last: last) }) { b, a in
            if length == 0 || !isAligned(length) { return a == b ? nil : "a no-op mapping changed the device" }
            guard let span = Span(start: start, last: last), a.spans == b.spans + [span], a.size == b.size &+ length else {
                return "the range was not appended as asked"
            }
            return nil
        }
    }

    private func addMappingUnchecked(start: UInt64, last: UInt64) throws(DaxError) {
        guard let region, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        switch region.kind {
        case .staticRegion:
            throw DaxError(.permissionDenied, "\(name): static region \(region.name) has no mapping attribute")
        case .sparse:
            throw DaxError(.notSupported, "\(name): mapping is not offered on sparse regions; allocate by tag")
        case .dynamic:
            break
        }
        guard views == 0 else { throw DaxError(.busy, "\(name): device is mapped; unmap its views first") }
        let length = last &- start &+ 1
        guard isAligned(length) else {
            if region.profile.refusesUnalignedMapping {
                throw DaxError(.noDeviceOrAddress,
                               "\(name): mapping length \(hex(length)) is not a multiple of \(hex(granularity))")
            }
            return  // 6.12: the store reports success and changes nothing
        }
        guard length > 0 else {
            if ranges.isEmpty { return }
            // dev_WARN_ONCE: the message names the bound driver, or the bus.
            region.model?.warn(.allocDevDaxRange, device: self,
                               message: "\(isBound ? "device_dax" : "dax") \(name): 0-size allocation must be first")
            throw DaxError(.busy, "\(name): a 0-size allocation must be the first")
        }
        guard let span = Span(start: start, length: length), region.span.contains(span),
              allocRange(span, in: region) else {
            throw DaxError(.noMemory, "\(name): \(hex(start))-\(hex(last)) is not free inside \(region.name)")
        }
    }

    /// The `align` store after parsing.
    /// - Throws: EINVAL (not 4 KiB / 2 MiB / 1 GiB, or a range length not a
    ///   multiple of max(value, 2 MiB); the old align stays), EBUSY (bound),
    ///   EACCES (static).
    public func setAlign(_ value: UInt64) throws(DaxError) {
        try keepingPromises("align \(value)", { () throws(DaxError) in try setAlignUnchecked(value) }) { b, a in
            a.align == value && a.spans == b.spans && a.isBound == b.isBound ? nil : "align not set, or ranges changed"
        }
    }

    private func setAlignUnchecked(_ value: UInt64) throws(DaxError) {
        guard let region, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        guard region.kind != .staticRegion else {
            throw DaxError(.permissionDenied, "\(name): align is read-only on static region \(region.name)")
        }
        guard Region.validAligns.contains(value) else {
            throw DaxError(.invalidArgument, "\(name): align \(value) is not 4096, 2097152 or 1073741824")
        }
        guard !isBound else { throw DaxError(.busy, "\(name): device is enabled; disable it before changing align") }
        guard views == 0 else { throw DaxError(.busy, "\(name): device is mapped; unmap its views first") }
        let g = max(value, Region.compatAlign)
        if let bad = ranges.first(where: { $0.length % g != 0 }) {
            throw DaxError(.invalidArgument,
                           "\(name): mapping\(bad.index) length \(hex(bad.length)) is not a multiple of align \(hex(g))")
        }
        align = value
    }

    /// Binding to device_dax (`dax_bus_probe` + `dev_dax_probe`).
    /// - Throws: EBUSY (bound), ENXIO (size 0), EINVAL (a range whose start
    ///   or length is not a whole number of 2 MiB in 4 KiB pages, which
    ///   also leaves the device unable to bind until deleted; or such a
    ///   failure happened before), ENOMEM (a range's first or last page is
    ///   a page of a bound device: possible only with sub-page starts;
    ///   also poisons). See DaxBus+Warnings for the warnings on the way.
    public func enable() throws(DaxError) {
        try keepingPromises("enable", { () throws(DaxError) in try enableUnchecked() }) { b, a in
            a.isBound && a.spans == b.spans ? nil : "not bound, or ranges changed"
        }
    }

    private func enableUnchecked() throws(DaxError) {
        guard let region, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        guard !isBound else { throw DaxError(.busy, "\(name): device is already enabled") }
        guard size > 0 else { throw DaxError(.noDeviceOrAddress, "\(name): cannot enable a device of size 0") }
        guard !probeFailed else {
            throw DaxError(.invalidArgument,
                           "\(name): an earlier probe failed and left a stale page map; it cannot bind until deleted and created again")
        }
        if region.kind == .sparse {
            // Extents are 2 MiB aligned: a sparse device always maps.
            if let bad = ranges.first(where: { $0.start % Region.compatAlign != 0 || $0.length % Region.compatAlign != 0 }) {
                probeFailed = true
                throw DaxError(.invalidArgument, "\(name): mapping\(bad.index) \(bad.span) is not 2 MiB aligned")
            }
        } else if let model = region.model, let (errno, why) = model.probeRanges(of: self) {
            probeFailed = true
            throw DaxError(errno, why)
        }
        isBound = true
        if region.seed === self { region.seed = nil }
    }

    /// Unbinding from device_dax.
    /// - Throws: ENODEV (not bound).
    public func disable() throws(DaxError) {
        try keepingPromises("disable", { () throws(DaxError) in try disableUnchecked() }) { b, a in
            !a.isBound && a.spans == b.spans ? nil : "still bound, or ranges changed"
        }
    }

    private func disableUnchecked() throws(DaxError) {
        guard region != nil, !isDeleted else { throw DaxError(.noDevice, "\(name): device was deleted") }
        guard isBound else { throw DaxError(.noDevice, "\(name): device is not enabled") }
        isBound = false
    }
}
