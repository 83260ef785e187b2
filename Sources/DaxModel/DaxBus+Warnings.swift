/// The kernel warnings a write reaches (see `KernelWarning`), the boot-wide
/// state they depend on (which _ONCE sites fired; the direct map, in 1 GiB
/// and 2 MiB pages, a failed probe leaves behind), and panic_on_warn.
extension DaxBus {
    /// Reports a warning at `site` for `device`, as the kernel would print
    /// it: an _ONCE site that already fired prints nothing; after a panic
    /// nothing more is printed (the host is gone). Sparse regions never
    /// warn (this project's rule), so callers never pass their devices.
    func warn(_ site: KernelWarning.Site, device: Device, message: String = "") {
        guard panic == nil, let region = device.region, region.kind != .sparse else { return }
        if site.once {
            guard warnedOnce.insert(site).inserted else { return }
        }
        let warning = KernelWarning(site: site, profile: region.profile, regionId: region.id, device: device.name,
                                    message: message, panicked: panicOnWarn)
        if panicOnWarn { panic = warning }
        post(DaxEvent(kind: .kernelWarning, regionId: region.id, requestId: 0, records: [], device: device.name,
                      warning: warning))
        unloggedWarnings.append(warning)
        needUpkeep()
    }

    /// Warnings not yet handed to the log, oldest first (the C layer logs
    /// them after the call).
    public func takeWarnings() -> [KernelWarning] {
        defer { unloggedWarnings = [] }
        return unloggedWarnings
    }

    /// Behave like a host booted with panic_on_warn=1 (or not).
    public func setPanicOnWarn(_ on: Bool) { panicOnWarn = on }

    /// The kernel's /sys/kernel/debug/clear_warn_once.
    public func clearWarnOnce() { warnedOnce = [] }

    // MARK: the devdax probe

    /// The 2 MiB blocks (physical address >> 21) of `span`.
    private static func blocks(_ span: Span) -> ClosedRange<UInt64> { (span.start >> 21)...(span.last >> 21) }

    /// `dev_dax_probe` -> `devm_memremap_pages` for `device`, range by
    /// range, with the warnings the kernel prints: page conflicts with
    /// live page maps, the direct map's 1 GiB and 2 MiB page splits, misaligned
    /// hot-add. Returns nil when every range was added, or the probe's
    /// errno (the device is then poisoned by the caller). On failure the
    /// ranges added before the failing one are removed again (their
    /// blocks unmapped); the failing range's blocks stay mapped.
    func probeRanges(of device: Device) -> (DaxErrno, String)? {
        guard let region = device.region else { return nil }
        let ranges = device.ranges
        for (i, range) in ranges.enumerated() {
            let first = range.start >> 12, last = range.last >> 12
            if let why = pageConflict(first, in: region, device: device, before: i) {
                warn(.conflictFirstPage, device: device, message: "Conflicting mapping in same section")
                unmap(ranges[..<i].map(\.span))
                return (.noMemory, "\(device.name): mapping\(i) \(range.span) shares its first page with \(why)")
            }
            if let why = pageConflict(last, in: region, device: device, before: i) {
                warn(.conflictLastPage, device: device, message: "Conflicting mapping in same section")
                unmap(ranges[..<i].map(\.span))
                return (.noMemory, "\(device.name): mapping\(i) \(range.span) shares its last page with \(why)")
            }
            mapDirect(range.span, device: device)
            let pages = range.length >> 12
            if first % 512 != 0 || pages % 512 != 0 {
                let end = first &+ pages &- 1
                let endText = region.profile == .linux6_1 ? "#\(String(end, radix: 16))" : "0x\(String(end, radix: 16))"
                warn(.misalignedAddPages, device: device, message: "Misaligned __add_pages start: 0x\(String(first, radix: 16)) end: \(endText)")
                warn(.addPagesFailed, device: device)
                unmap(ranges[..<i].map(\.span))
                return (.invalidArgument, "\(device.name): mapping\(i) \(range.span) is not 2 MiB aligned in pages")
            }
        }
        // Bound: the blocks are the device's until unbind unmaps them, and
        // no other range can take a whole one of them meanwhile.
        unmap(ranges.map(\.span))
        return nil
    }

    /// The page map that holds `pfn`: a bound device's range (any device
    /// of the region; regions never share a page), or an earlier range of
    /// the device being probed.
    private func pageConflict(_ pfn: UInt64, in region: Region, device: Device, before index: Int) -> String? {
        for (k, r) in device.ranges.prefix(index).enumerated() where (r.start >> 12)...(r.last >> 12) ~= pfn {
            return "its own mapping\(k)"
        }
        for other in region.devices where other.isBound && other !== device {
            if let r = other.ranges.first(where: { (($0.start >> 12)...($0.last >> 12)) ~= pfn }) {
                return "\(other.name) at \(r.span)"
            }
        }
        return nil
    }

    /// `init_memory_mapping` of `span`, in address order, GiB by GiB
    /// (`phys_pud_init`): a whole GiB becomes one 1 GiB page if nothing in
    /// it is mapped, and keeps its 1 GiB page if it has one; part of a GiB
    /// that holds a 1 GiB page splits it (WARN_ON_ONCE) into a fresh table,
    /// in which nothing else is mapped. Then, in a GiB that is a table, 2
    /// MiB block by block (`phys_pmd_init`): whole blocks become one large
    /// page (if unmapped), partial ones a page table, splitting a large
    /// page a failed probe left there (WARN_ON_ONCE).
    private func mapDirect(_ span: Span, device: Device) {
        for gib in (span.start >> 30)...(span.last >> 30) {
            let gibBase = gib << 30
            let wholeGiB = gibBase >= span.start && gibBase &+ (1 << 30) &- 1 <= span.last
            if directMapGiB.contains(gib) {
                if wholeGiB { continue }
                warn(.splitGiBPage, device: device)
                directMapGiB.remove(gib)
            } else if wholeGiB && !Self.hasBlocks(inGiB: gib, directMap) {
                directMapGiB.insert(gib)
                continue
            }
            for block in (max(span.start, gibBase) >> 21)...(min(span.last, gibBase &+ (1 << 30) &- 1) >> 21) {
                let base = block << 21
                let whole = base >= span.start && base &+ (2 << 20) &- 1 <= span.last
                if whole {
                    if directMap[block] == nil { directMap[block] = .largePage }
                } else {
                    if directMap[block] == .largePage { warn(.splitLargePage, device: device) }
                    directMap[block] = .pageTable
                }
            }
        }
    }

    /// Whether `map` has a 2 MiB block in GiB `gib` (a page table there).
    static func hasBlocks(inGiB gib: UInt64, _ map: [UInt64: DirectMapBlock]) -> Bool {
        let first = gib << 9
        return (first...(first | 511)).contains { map[$0] != nil }
    }

    /// `arch_remove_memory`: the blocks of `spans` are unmapped, and a
    /// 1 GiB page a span covers whole (`remove_pud_table`; a GiB whose
    /// table empties is freed with it, which `directMap` shows as is).
    private func unmap(_ spans: [Span]) {
        for span in spans {
            for block in Self.blocks(span) { directMap[block] = nil }
            for gib in (span.start >> 30)...(span.last >> 30) {
                let gibBase = gib << 30
                if gibBase >= span.start && gibBase &+ (1 << 30) &- 1 <= span.last { directMapGiB.remove(gib) }
            }
        }
    }
}
