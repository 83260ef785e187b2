/// How to build a Dynamic Capacity device: its DC regions, its hosts and
/// their budgets, and the profile it imitates.
public struct DCDeviceSpec: Sendable {
    /// 1 to 8 regions in increasing DPA order, not overlapping.
    public var regions: [DCRegionSpec]
    /// Hosts (logical devices) numbered 0..hostCount-1; 1 to the profile's maximum (256).
    public var hostCount: Int
    /// Extents each LD supports, accepted and pending together (QEMU: 512).
    public var maxExtentsPerHost = 512
    /// Distinct tags each LD supports (the `qemu` profile has none: 0).
    public var maxTagsPerHost = 64
    /// Records each LD's DC event log holds (the `qemu` profile fixes
    /// QEMU's 8).
    public var eventLogDepth = 64
    public var profile = FabricProfile.spec

    public init(regions: [DCRegionSpec], hostCount: Int = 1) {
        self.regions = regions
        self.hostCount = hostCount
    }
}

/// A CXL Dynamic Capacity device shared by several hosts, and the state
/// its fabric manager drives: the DC regions and who owns each block, each
/// host's budgets, event log, pending offers and extent list, every tag,
/// and the fabric manager's own event queue.
///
/// Pure and deterministic; not thread-safe by itself (the C layer will
/// serialize calls). The fabric-manager commands are in the
/// `DCDevice+*.swift` files, one per command family; hosts talk to it only
/// through `takeEventRecords(host:)` and `answer(_:)` messages.
///
/// Invariants (`checkInvariants`): every block is in exactly one state and
/// free + reserved + owned + shared = total; a block is reachable by two
/// hosts only through one tag in a Sharable region; each host's DPA space
/// holds its accepted and pending extents without overlap; tag bitmaps
/// match the hosts' lists.
public final class DCDevice {
    public let profile: FabricProfile
    var regions: [DCRegion]
    var hosts: [HostLD]
    var tags: [DaxTag: FabricTag] = [:]
    /// Live tags by creation serial: List Tags' order.
    var tagOrder = SortedList<DaxTag>()
    var nextTagSerial: UInt64 = 0
    var nextGroupId: UInt64 = 1
    /// List Tags' generation number: changes whenever its payload would.
    public internal(set) var tagGeneration: UInt32 = 0
    var fmEvents: [DCEventRecord] = []
    var fmHead = 0
    /// Host answers the device consumed (each gave the fabric manager one
    /// record chain).
    public internal(set) var answersConsumed = 0
    /// Physical spans sanitized on release, oldest first, until a memory
    /// layer takes them (`takeSanitizedSpans()`).
    public internal(set) var sanitizedSpans: [Span] = []

    /// The spans sanitized since the last call, oldest first; forgets
    /// them (a memory layer discards their bytes once, and the list does
    /// not grow with the device's age).
    public func takeSanitizedSpans() -> [Span] {
        defer { sanitizedSpans = [] }
        return sanitizedSpans
    }
    /// Changes whenever any host's `memoryStamp(host:)` does (not saved).
    public internal(set) var memoryStamp: UInt64 = 0
    /// Physical starts of untagged or private extents a release asked to
    /// sanitize, until the host gives them back.
    var sanitizeRequested = Set<UInt64>()

    /// Builds the device.
    /// - Throws: Invalid Input (no region or more than 8, a base or decode
    ///   length not a multiple of 256 MiB, a bad block size, regions out of
    ///   order or overlapping, a host count out of 1...profile.maxHosts, a
    ///   budget below 1, a Sharable region where the profile has no
    ///   sharing, a region that sanitizes on release where the profile has
    ///   no sanitize).
    public init(_ spec: DCDeviceSpec) throws(FabricError) {
        guard (1...8).contains(spec.regions.count) else {
            throw FabricError(.invalidInput, "a device has 1 to 8 DC regions, not \(spec.regions.count)")
        }
        guard (1...spec.profile.maxHosts).contains(spec.hostCount) else {
            throw FabricError(.invalidInput, "profile \(spec.profile) has 1 to \(spec.profile.maxHosts) hosts, not \(spec.hostCount)")
        }
        guard spec.maxExtentsPerHost >= 1, spec.maxExtentsPerHost <= RegionSpec.groupLimit,
              spec.maxTagsPerHost >= 0, spec.eventLogDepth >= 1 else {
            throw FabricError(.invalidInput, "host budgets: extents 1...\(RegionSpec.groupLimit), tags >= 0, event log depth >= 1")
        }
        var built: [DCRegion] = []
        for (i, r) in spec.regions.enumerated() {
            guard r.base % DCRegionSpec.unit == 0, r.decodeLength > 0, r.decodeLength % DCRegionSpec.unit == 0,
                  let span = Span(start: r.base, length: r.decodeLength) else {
                throw FabricError(.invalidInput, "region \(i): base and decode length must be multiples of 256 MiB, non-empty, below 2^64")
            }
            guard r.blockSizeMask & 0x3F == 0, r.blockSizeMask >> 52 == 0,
                  DCRegionSpec.validBlockSize(r.blockSize, mask: r.blockSizeMask) else {
                throw FabricError(.invalidInput, "region \(i): block size \(r.blockSize) is not a supported power of two from 64 bytes to 2^51")
            }
            if let prev = built.last, prev.span.last >= span.start {
                throw FabricError(.invalidInput, "region \(i) must start above region \(i - 1)")
            }
            if r.sharable, !spec.profile.sharing {
                throw FabricError(.invalidInput, "region \(i): profile \(spec.profile) has no Sharable regions")
            }
            if r.sanitizeOnRelease, !spec.profile.sanitizeOnRelease {
                throw FabricError(.invalidInput, "region \(i): profile \(spec.profile) has no sanitize on release")
            }
            built.append(DCRegion(index: i, spec: r, span: span))
        }
        profile = spec.profile
        regions = built
        let maxTags = spec.profile.fixedTagBudget ?? spec.maxTagsPerHost
        let logDepth = spec.profile.fixedEventLogDepth ?? spec.eventLogDepth
        hosts = (0..<spec.hostCount).map {
            HostLD(id: UInt16($0), maxExtents: spec.maxExtentsPerHost, maxTags: maxTags, logDepth: logDepth)
        }
    }

    public var hostCount: Int { hosts.count }
    public var regionCount: Int { regions.count }

    /// The configuration of region `index`, nil when out of range.
    public func regionSpec(_ index: Int) -> DCRegionSpec? { regions.indices.contains(index) ? regions[index].spec : nil }

    /// The DPA range from the lowest region base to the highest region end:
    /// what a host's sparse region spans.
    public var dpaSpan: Span {
        Span(start: regions[0].span.start, last: regions[regions.count - 1].span.last) ?? regions[0].span
    }

    // MARK: helpers shared by the commands

    /// The index of host `id`, or Invalid Input.
    func hostIndex(_ id: UInt16) throws(FabricError) -> Int {
        guard Int(id) < hosts.count else { throw FabricError(.invalidInput, "no host \(id): the device has \(hosts.count)") }
        return Int(id)
    }

    /// The host a fabric-manager command's Host ID field names: as
    /// `hostIndex`, or host 0 whatever it says where the profile does not
    /// read the field (qemu).
    func commandHost(_ id: UInt16) throws(FabricError) -> Int {
        profile.readsHostId ? try hostIndex(id) : 0
    }

    /// Region `r` can change Sanitize on Release (and a release may ask
    /// for it): the region allows it and the profile has sanitize.
    func sanitizeConfigurable(_ r: Int) -> Bool {
        profile.sanitizeOnRelease && regions[r].spec.sanitizeConfigurable
    }

    /// Host `h`'s accepted list changed: its generation number moves
    /// (unless the profile never moves it).
    func listChanged(_ h: Int) {
        if profile.countsListGeneration { hosts[h].bumpGeneration() }
    }

    /// The region holding all of `span`, if one does. O(log regions).
    func regionIndex(holding span: Span) -> Int? {
        let i = regions.partitionPoint { $0.span.last < span.start }
        guard i < regions.count, regions[i].span.contains(span) else { return nil }
        return i
    }

    /// The free DPA space of host `h` in region `r`.
    func dpaFree(_ h: Int, _ r: Int) -> FreeSpace { hosts[h].dpaFree[r] ?? FreeSpace(regions[r].span) }

    /// Takes `span` from host `h`'s free DPA space in region `r`, changing
    /// the stored holes in place: a copy taken out and stored back would
    /// copy every hole of the host (copy on write) on each call.
    func takeDPA(_ h: Int, _ r: Int, _ span: Span) -> Bool {
        let full = regions[r].span
        let taken = hosts[h].dpaFree[r, default: FreeSpace(full)].take(span)
        if !taken, hosts[h].dpaFree[r]?.total == full.length { hosts[h].dpaFree[r] = nil }
        return taken
    }

    /// Gives `span` back to host `h`'s free DPA space in region `r` (in
    /// place); a region wholly free again keeps no holes.
    func giveDPA(_ h: Int, _ r: Int, _ span: Span) {
        guard hosts[h].dpaFree[r]?.give(span) != nil else { return }
        if hosts[h].dpaFree[r]?.total == regions[r].span.length { hosts[h].dpaFree[r] = nil }
    }

    /// Appends a chain to host `h`'s DC event log (`more` on all but the
    /// last). Records past the log's depth are dropped and counted: the
    /// caller checked the room first unless dropping is the behaviour (a
    /// forced release; a profile without Retry Required). Add and release
    /// records carry region 0 where the profile does not name regions.
    func post(_ records: [(DCEventType, Int, DCExtentRecord)], to h: Int) {
        for (i, (type, region, extent)) in records.enumerated() {
            guard hosts[h].log.count < hosts[h].logDepth else {
                hosts[h].overflowed += 1
                continue
            }
            let named = type == .regionConfigurationUpdated || profile.recordsNameRegion ? region : 0
            hosts[h].log.append(DCEventRecord(
                type: type, regionIndex: UInt8(truncatingIfNeeded: named), more: i + 1 < records.count, extent: extent,
                availableExtents: UInt32(clamping: hosts[h].availableExtents), availableTags: UInt32(clamping: hosts[h].availableTags)))
        }
    }

    /// Appends a chain of fabric-manager records for host `h` (none where
    /// the profile does not report to the manager).
    func postFM(_ type: DCEventType, host h: Int, _ items: [(Int, DCExtentRecord)]) {
        guard profile.reportsToManager else { return }
        for (i, (region, extent)) in items.enumerated() {
            fmEvents.append(DCEventRecord(
                type: type, hostId: UInt16(h), regionIndex: UInt8(truncatingIfNeeded: region), more: i + 1 < items.count,
                extent: extent, availableExtents: UInt32(clamping: hosts[h].availableExtents),
                availableTags: UInt32(clamping: hosts[h].availableTags)))
        }
    }

    /// Frees the physical run starting at `start` in region `r`, sanitizing it when asked or configured.
    func freeBlocks(_ r: Int, _ span: Span, sanitize: Bool) {
        _ = regions[r].blocks.setOwner(at: span.start, .free)
        if sanitize || regions[r].spec.sanitizeOnRelease { sanitizedSpans.append(span) }
    }

    /// Drops tag `tag` once nothing holds it: its blocks go back (sanitized
    /// if asked) and List Tags no longer shows it.
    func freeTagIfUnheld(_ tag: DaxTag) {
        guard let t = tags[tag], t.unheld else { return }
        for span in t.spans where regions[t.home].blocks.run(at: span.start) != nil {
            freeBlocks(t.home, span, sanitize: t.sanitize)
        }
        tags[tag] = nil
        tagOrder.remove(t.serial) { $0 == tag }
        tagsChanged()
    }

    func tagsChanged() { tagGeneration &+= 1 }

    // MARK: the fabric manager's event queue

    /// Removes and returns the oldest fabric-manager record, or nil.
    public func nextFMEvent() -> DCEventRecord? {
        guard fmHead < fmEvents.count else { return nil }
        defer {
            fmHead += 1
            if fmHead > 64, fmHead * 2 > fmEvents.count {
                fmEvents.removeFirst(fmHead)
                fmHead = 0
            }
        }
        return fmEvents[fmHead]
    }

    /// Fabric-manager records not yet taken.
    public var pendingFMEventCount: Int { fmEvents.count - fmHead }

    // MARK: the host side of the wire

    /// Takes (reads and clears) every record in host `host`'s DC event
    /// log, oldest first: Get Event Records then Clear Event Records.
    /// - Throws: Invalid Input (no such host).
    public func takeEventRecords(host: UInt16) throws(FabricError) -> [DCEventRecord] {
        let h = try hostIndex(host)
        defer { hosts[h].log = [] }
        return hosts[h].log
    }

    /// Records waiting in host `host`'s log (0 for no such host).
    public func eventLogCount(host: UInt16) -> Int { Int(host) < hosts.count ? hosts[Int(host)].log.count : 0 }

    /// Records dropped from host `host`'s full log: Forced Capacity Release
    /// records, and under a profile without Retry Required (qemu) any record.
    public func eventLogOverflows(host: UInt16) -> Int { Int(host) < hosts.count ? hosts[Int(host)].overflowed : 0 }
}
