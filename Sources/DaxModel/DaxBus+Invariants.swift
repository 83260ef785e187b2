/// Whole-model invariants, the `_checkInvariants` of swift-collections'
/// shape: tests call `checkInvariants()` after every step (it also lists
/// the postconditions a verb broke, DaxBus+Promises.swift); debug builds
/// (`DAXMODEL_INTERNAL_CHECKS`) also run it after every C ABI call and
/// keep what failed in `invariantViolations` — a bug is recorded and
/// reported, never turned into a trap in the host program.
extension DaxBus {
    /// Every violated invariant, as a sentence naming the object; empty
    /// when the model is consistent.
    public func checkInvariants() -> [String] {
        var problems = brokenPromises.map { "broken promise: \($0)" }
        for region in regions {
            problems += region.checkInvariants()
            if region.model !== self { problems.append("\(region.name): model back-pointer is wrong") }
        }
        return problems
    }

    /// Runs `checkInvariants` when built with DAXMODEL_INTERNAL_CHECKS and
    /// returns the new violations (also kept in `invariantViolations`);
    /// returns nothing in other builds.
    public func verifyAfterCall(_ what: @autoclosure () -> String) -> [String] {
        #if DAXMODEL_INTERNAL_CHECKS
        let problems = checkInvariants().map { "internal invariant broken after \(what()): \($0)" }
        brokenPromises = []
        invariantViolations.append(contentsOf: problems)
        return problems
        #else
        return []
        #endif
    }
}

extension Region {
    func checkInvariants() -> [String] {
        if kind == .sparse { return checkSparseInvariants() }
        var problems: [String] = []
        // Ranges and holes tile the region exactly: sorted, disjoint, covering.
        var pieces: [(span: Span, owner: String)] = free.holes.map { ($0, "hole") }
        var holeTotal: UInt64 = 0
        for (i, hole) in free.holes.enumerated() {
            holeTotal &+= hole.length
            if i > 0, free.holes[i - 1].last &+ 1 >= hole.start {
                problems.append("\(name): holes \(free.holes[i - 1]) and \(hole) are unsorted, overlapping or adjacent")
            }
        }
        if holeTotal != free.total { problems.append("\(name): free total \(free.total) != sum of holes \(holeTotal)") }
        var used: UInt64 = 0
        for device in devices {
            problems += device.checkInvariants(in: self)
            used &+= device.size
            pieces += device.ranges.map { ($0.span, device.name) }
        }
        pieces.sort { $0.span.start < $1.span.start }
        var expected = span.start
        for piece in pieces {
            if piece.span.start != expected {
                problems.append("\(name): \(piece.owner) \(piece.span) does not start at 0x\(String(expected, radix: 16))")
            }
            expected = piece.span.last &+ 1
        }
        if !pieces.isEmpty, expected != span.last &+ 1 {
            problems.append("\(name): ranges and holes end at 0x\(String(expected, radix: 16)), not at the region end")
        }
        if kind != .staticRegion, used &+ availableSize != size {
            problems.append("\(name): available \(availableSize) + used \(used) != size \(size)")
        }
        problems += checkSeedInvariants()
        return problems
    }

    private func checkSeedInvariants() -> [String] {
        var problems: [String] = []
        for (label, d) in [("seed", seed), ("youngest", youngest)] {
            if let d, d.isDeleted || device(id: d.id) !== d {
                problems.append("\(name): \(label) \(d.name) is not a live device of this region")
            }
        }
        if seed?.isBound == true { problems.append("\(name): seed \(seed?.name ?? "") is bound") }
        return problems
    }
}

extension Device {
    func checkInvariants(in owner: Region) -> [String] {
        var problems: [String] = []
        if region !== owner { problems.append("\(name): region back-pointer is wrong") }
        if isDeleted { problems.append("\(name): deleted device still listed") }
        var total: UInt64 = 0
        for (i, range) in ranges.enumerated() {
            if range.index != i { problems.append("\(name): mapping\(range.index) sits at position \(i)") }
            if range.pageOffset != total / DeviceRange.pageSize {
                problems.append("\(name): mapping\(i) page_offset 0x\(String(range.pageOffset, radix: 16)) is not the running sum")
            }
            if range.device !== self || range.isDeleted { problems.append("\(name): mapping\(i) is detached") }
            if !owner.span.contains(range.span) { problems.append("\(name): mapping\(i) \(range.span) leaves \(owner.name)") }
            total &+= range.length
        }
        if total != size { problems.append("\(name): size \(size) != sum of ranges \(total)") }
        if isBound, size == 0 { problems.append("\(name): bound at size 0") }
        return problems
    }
}

extension Region {
    /// Sparse regions: extents tile into device ranges and holes; counts,
    /// pools and available_size agree; every range lies in an extent of its
    /// device's tag.
    func checkSparseInvariants() -> [String] {
        var problems: [String] = []
        if free.total != 0 { problems.append("\(name): a sparse region has region-level free space") }
        var rangesIn: [ObjectIdentifier: [Span]] = [:]
        for device in devices {
            problems += device.checkInvariants(in: self)
            for range in device.ranges {
                guard let extent = range.extent else {
                    problems.append("\(device.name): mapping\(range.index) lies in no extent")
                    continue
                }
                if extent.region !== self || extent.state == .released || extent.state == .staged {
                    problems.append("\(device.name): mapping\(range.index) lies in \(extent.name), which is \(extent.state.name)")
                }
                if device.tag != extent.tag {
                    problems.append("\(device.name): mapping\(range.index) lies in \(extent.name) of tag \(extent.tag), not the device's \(device.tag.map { "\($0)" } ?? "none")")
                }
                rangesIn[ObjectIdentifier(extent), default: []].append(range.span)
            }
        }
        var available: UInt64 = 0
        var poolFree: [DaxTag: UInt64] = [:]
        let byOrder = sparse.byOrder.values
        for (i, extent) in byOrder.enumerated() {
            let label = "\(name)/\(extent.name)"
            if i > 0, byOrder[i - 1].order >= extent.order { problems.append("\(label): acceptance order is not ascending") }
            if sparse.extent(id: extent.id) !== extent { problems.append("\(label): missing from the id table") }
            if extent.region !== self { problems.append("\(label): region back-pointer is wrong") }
            if extent.state != .accepted, extent.state != .releasing { problems.append("\(label): listed while \(extent.state.name)") }
            let spans = rangesIn[ObjectIdentifier(extent)] ?? []
            if spans.count != extent.rangeRefs {
                problems.append("\(label): rangeRefs \(extent.rangeRefs) but \(spans.count) device ranges lie in it")
            }
            if extent.pins < 0 { problems.append("\(label): negative pins") }
            if extent.state == .releasing, extent.refcount == 0 { problems.append("\(label): releasing with no reference left") }
            var pieces = spans + extent.free.holes
            pieces.sort { $0.start < $1.start }
            var expected = extent.start
            for piece in pieces {
                if piece.start != expected { problems.append("\(label): ranges and holes do not tile it at \(piece)") }
                expected = piece.last &+ 1
            }
            if expected != extent.span.last &+ 1 { problems.append("\(label): ranges and holes do not reach its end") }
            if extent.state == .accepted {
                available += extent.free.total
                poolFree[extent.tag, default: 0] += extent.free.total
            }
            guard let pool = sparse.pools[extent.tag], pool.contains(extent), extent.pool === pool.core else {
                problems.append("\(label): missing from the pool of tag \(extent.tag)")
                continue
            }
            let shouldBeOpen = extent.state == .accepted && extent.free.total > 0
            if pool.isOpen(extent) != shouldBeOpen {
                problems.append("\(label): open-list membership is wrong (free \(extent.free.total), \(extent.state.name))")
            }
        }
        if available != sparse.available { problems.append("\(name): available \(sparse.available) != free in accepted extents \(available)") }
        for (tag, pool) in sparse.pools where pool.free != (poolFree[tag] ?? 0) {
            problems.append("\(name): pool \(tag) counts \(pool.free) free, extents hold \(poolFree[tag] ?? 0)")
        }
        let byAddress = sparse.byAddress.values
        if byAddress.count != byOrder.count { problems.append("\(name): address index has \(byAddress.count) extents, order list \(byOrder.count)") }
        if sparse.byId.count != byOrder.count { problems.append("\(name): the id table holds another number of extents") }
        for i in byAddress.indices.dropFirst() where byAddress[i - 1].span.last >= byAddress[i].start {
            problems.append("\(name): \(byAddress[i - 1].name) and \(byAddress[i].name) overlap or are unsorted")
        }
        problems += checkSeedInvariants()
        return problems
    }
}
