/// The device half of a fabric's saved state (`Fabric+State.swift`).
///
/// Saved: the profile, each region's current configuration, every LD's
/// budgets, DC event log, accepted extents and unanswered offers (dead
/// ones too: the host's answer still consumes them), every tag with its
/// per-host lists and bitmaps, the counters and the fabric manager's
/// queue. Derived on load, then checked: who owns each block (reserved
/// for a live offer, owned by a host, shared by a Sharable tag), each
/// LD's free DPA space, pending list and tag counts, List Tags' order.
/// Deriving the block map, rather than storing it, leaves nothing to
/// disagree: a document whose extents and tags claim the same block twice
/// cannot build one and is refused.
extension DCDevice {
    /// Counters a document may set: 2^62 leaves room to count for ages
    /// without an Int overflow (and 2^63 for the id counters, as extent
    /// orders on a host bus).
    static let countLimit = 1 << 62
    static let serialLimit: UInt64 = 1 << 63

    static func name(of profile: FabricProfile) -> String {
        switch profile {
        case .spec: "spec"
        case .qemu: "qemu"
        case .mhsld: "mhsld"
        }
    }

    // MARK: saving

    func stateDocument() -> JSONValue {
        .object([
            ("profile", .string(Self.name(of: profile))),
            ("regions", .array(regions.map { Self.document(of: $0.spec) })),
            ("next_tag_serial", .uint(nextTagSerial)),
            ("next_group_id", .uint(nextGroupId)),
            ("tag_generation", .uint(UInt64(tagGeneration))),
            ("answers_consumed", .int(Int64(answersConsumed))),
            ("lds", .array(hosts.map(Self.document(of:)))),
            ("tags", .array(tagOrder.values.compactMap { tags[$0].map(Self.document(of:)) })),
            ("fm_events", .array(fmEvents[fmHead...].map(Self.document(of:)))),
            ("sanitized_spans", .array(sanitizedSpans.map(Self.document(of:)))),
            ("sanitize_requested", .array(sanitizeRequested.sorted().map { .uint($0) })),
        ])
    }

    static func document(of r: DCRegionSpec) -> JSONValue {
        .object([
            ("base", .uint(r.base)), ("decode_length", .uint(r.decodeLength)), ("block_size", .uint(r.blockSize)),
            ("supported_block_sizes", .uint(r.supportedBlockSizes)), ("sharable", .bool(r.sharable)),
            ("read_only", .bool(r.readOnly)), ("sanitize_on_release", .bool(r.sanitizeOnRelease)),
            ("sanitize_configurable", .bool(r.sanitizeConfigurable)),
        ])
    }

    static func document(of ld: HostLD) -> JSONValue {
        .object([
            ("id", .uint(UInt64(ld.id))), ("max_extents", .int(Int64(ld.maxExtents))), ("max_tags", .int(Int64(ld.maxTags))),
            ("log_depth", .int(Int64(ld.logDepth))), ("generation", .uint(UInt64(ld.generation))),
            ("overflowed", .int(Int64(ld.overflowed))),
            ("log", .array(ld.log.map(document(of:)))),
            ("accepted", .array(ld.accepted.map { document(of: $0, group: true) })),
            ("offers", .array(ld.liveGroups.map { g in
                .object([("id", .uint(g.id)), ("shared_access", .bool(g.sharedAccess)), ("dead", .bool(g.dead)),
                         ("extents", .array(g.extents.map { document(of: $0, group: false) }))])
            })),
        ])
    }

    static func document(of t: FabricTag) -> JSONValue {
        .object([
            ("tag", document(of: t.tag)), ("serial", .uint(t.serial)), ("home", .int(Int64(t.home))),
            ("spans", .array(t.spans.map(document(of:)))),
            ("lists", .array(t.lists.keys.sorted().map { h in
                .object([("host", .uint(UInt64(h))), ("extents", .array((t.lists[h] ?? []).map(document(of:))))])
            })),
            ("accepted", .array(t.accepted.hosts.map { .uint(UInt64($0)) })),
            ("pending", .array(t.pending.hosts.map { .uint(UInt64($0)) })),
            ("fm_reference", .bool(t.fmReference)), ("sanitize", .bool(t.sanitize)), ("established", .bool(t.established)),
        ])
    }

    static func document(of tag: DaxTag) -> JSONValue { .string(tag.isUntagged ? "untagged" : tag.uuidString) }

    static func document(of s: Span) -> JSONValue { .object([("start", .uint(s.start)), ("length", .uint(s.length))]) }

    static func document(of e: DCExtentRecord) -> JSONValue {
        .object([("dpa", .uint(e.dpa)), ("length", .uint(e.length)), ("tag", document(of: e.tag)),
                 ("sequence", .uint(UInt64(e.sequence)))])
    }

    /// An extent with where its capacity lives; `group` only for accepted
    /// extents (an offer's extents carry the offer's id).
    static func document(of e: HostExtent, group: Bool) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("dpa", .uint(e.record.dpa)), ("length", .uint(e.record.length)), ("tag", document(of: e.record.tag)),
            ("sequence", .uint(UInt64(e.record.sequence))), ("home", .int(Int64(e.home))), ("physical", .uint(e.physical)),
        ]
        if group { members.append(("group", .uint(e.group))) }
        return .object(members)
    }

    static func document(of r: DCEventRecord) -> JSONValue {
        .object([
            ("type", .uint(UInt64(r.type.rawValue))), ("host", .uint(UInt64(r.hostId))), ("region", .uint(UInt64(r.regionIndex))),
            ("more", .bool(r.more)), ("extent", document(of: r.extent)),
            ("available_extents", .uint(UInt64(r.availableExtents))), ("available_tags", .uint(UInt64(r.availableTags))),
        ])
    }

    // MARK: loading

    /// Builds a device from the `device` member of a fabric state. Every
    /// field is checked; the first bad one is named in an EINVAL.
    /// - Complexity: O(n log n) in the document size.
    static func restore(_ doc: JSONValue, reader r: StateReader) throws(DaxError) -> DCDevice {
        let device = try build(doc, r)
        device.nextTagSerial = try r.uint(doc, "next_tag_serial")
        guard device.nextTagSerial < serialLimit else { throw r.bad("next_tag_serial", "is 2^63 or more") }
        device.nextGroupId = try r.uint(doc, "next_group_id")
        guard device.nextGroupId >= 1, device.nextGroupId < serialLimit else {
            throw r.bad("next_group_id", "is not in 1..<2^63")
        }
        device.tagGeneration = UInt32(truncatingIfNeeded: try r.int(doc, "tag_generation", 0...Int(UInt32.max)))
        device.answersConsumed = try r.int(doc, "answers_consumed", 0...countLimit)
        var held = Holdings()
        for (i, item) in try r.array(doc, "tags").enumerated() {
            try device.restoreTag(item, r.nested("tags[\(i)]"))
        }
        for (h, item) in try r.array(doc, "lds").enumerated() {
            try device.restoreLD(item, h, &held, r.nested("lds[\(h)]"))
        }
        for (i, item) in try r.array(doc, "tags").enumerated() {
            try device.checkTag(item, held, r.nested("tags[\(i)]"))
        }
        try device.restoreSanitizing(doc, r)
        for (i, item) in try r.array(doc, "fm_events").enumerated() {
            let sub = r.nested("fm_events[\(i)]")
            let e = try device.eventRecord(item, sub)
            guard e.type == .addCapacityResponse || e.type == .capacityReleased else {
                throw sub.bad("type", "is not 4 (Add Capacity Response) or 5 (Capacity Released)")
            }
            guard Int(e.hostId) < device.hosts.count else { throw sub.bad("host", "is not a host of the device") }
            device.fmEvents.append(e)
        }
        if device.fmEvents.last?.more == true { throw r.bad("fm_events", "ends inside a chain (its last record has more set)") }
        device.rebuildDecodings()
        guard device.fmEvents.lazy.filter({ !$0.more }).count <= device.answersConsumed else {
            throw r.bad("answers_consumed", "is below the record chains waiting in fm_events")
        }
        #if DAXMODEL_INTERNAL_CHECKS
        // The checks above cover every invariant in linear or n log n
        // time; debug builds also run the full list (quadratic in a
        // host's extents of one tag) to catch a check this file missed.
        if let first = device.checkInvariants().first { throw r.bad("", "is inconsistent: \(first)") }
        #endif
        return device
    }

    /// The device the profile, regions and LD budgets describe, through
    /// the constructor's own checks. LD 0's budgets build it; each LD's
    /// own are set when it is read.
    private static func build(_ doc: JSONValue, _ r: StateReader) throws(DaxError) -> DCDevice {
        let name = try r.string(doc, "profile")
        guard let profile = FabricProfile.allCases.first(where: { Self.name(of: $0) == name }) else {
            throw r.bad("profile", "is not spec, qemu or mhsld")
        }
        var regionSpecs: [DCRegionSpec] = []
        let regionDocs = try r.array(doc, "regions")
        guard regionDocs.count <= 8 else { throw r.bad("regions", "holds more than 8 regions") }
        for (i, item) in regionDocs.enumerated() {
            let sub = r.nested("regions[\(i)]")
            var spec = DCRegionSpec(base: try sub.uint(item, "base"), decodeLength: try sub.uint(item, "decode_length"),
                                    blockSize: try sub.uint(item, "block_size"))
            spec.supportedBlockSizes = try sub.uint(item, "supported_block_sizes")
            spec.sharable = try sub.bool(item, "sharable")
            spec.readOnly = try sub.bool(item, "read_only")
            spec.sanitizeOnRelease = try sub.bool(item, "sanitize_on_release")
            spec.sanitizeConfigurable = try sub.bool(item, "sanitize_configurable")
            regionSpecs.append(spec)
        }
        let lds = try r.array(doc, "lds")
        guard let first = lds.first else { throw r.bad("lds", "is empty: a device has at least one host") }
        var spec = DCDeviceSpec(regions: regionSpecs, hostCount: lds.count)
        spec.profile = profile
        let sub = r.nested("lds[0]")
        spec.maxExtentsPerHost = try sub.int(first, "max_extents", 1...RegionSpec.groupLimit)
        spec.maxTagsPerHost = try sub.int(first, "max_tags", 0...Int(Int32.max))
        spec.eventLogDepth = try sub.int(first, "log_depth", 1...Int(Int32.max))
        do {
            return try DCDevice(spec)
        } catch {
            throw r.bad("", "does not describe a device the model builds (\(error.code): \(error.message))")
        }
    }

    /// What the LDs' extents hold, gathered while reading them, for the
    /// tag and block checks.
    struct Holdings {
        /// Per tag, the hosts with accepted or live pending extents of it.
        var acceptedBy: [DaxTag: HostBitmap] = [:]
        var pendingBy: [DaxTag: HostBitmap] = [:]
        /// Per tag, its extents with blocks of their own: live pending
        /// extents of offers that are not Enable Shared Access, and
        /// accepted extents of a tag that is not Sharable.
        var ownBlocks: [DaxTag: Int] = [:]
        /// Offer ids seen on any LD.
        var groupIds = Set<UInt64>()
    }

    // MARK: tags

    /// Reads one tag's own fields; what it says about hosts is checked
    /// against their extents in `checkTag`.
    private func restoreTag(_ item: JSONValue, _ r: StateReader) throws(DaxError) {
        let tag = try r.tag(item, "tag")
        guard !tag.isUntagged else { throw r.bad("tag", "is the null tag, which names no capacity") }
        guard tags[tag] == nil else { throw r.bad("tag", "\(tag) is listed twice") }
        let serial = try r.uint(item, "serial")
        guard serial < nextTagSerial else { throw r.bad("serial", "is not below next_tag_serial") }
        if let last = tagOrder.last, last.key >= serial { throw r.bad("serial", "is not above the previous tag's") }
        let home = try r.int(item, "home", 0...7)
        guard home < regions.count else { throw r.bad("home", "is not a region of the device") }
        var spans: [Span] = []
        for (i, s) in try r.array(item, "spans").enumerated() {
            let sub = r.nested("spans[\(i)]")
            let span = try sub.span(s)
            guard regions[home].span.contains(span), regions[home].aligned(span) else {
                throw sub.bad("", "is not block aligned inside the tag's home region")
            }
            spans.append(span)
        }
        var t = FabricTag(tag: tag, serial: serial, home: home, spans: spans, sharable: regions[home].spec.sharable)
        for (i, l) in try r.array(item, "lists").enumerated() {
            let sub = r.nested("lists[\(i)]")
            let h = try sub.int(l, "host", 0...255)
            guard h < hosts.count else { throw sub.bad("host", "is not a host of the device") }
            let host = UInt16(truncatingIfNeeded: h)
            guard t.lists[host] == nil else { throw sub.bad("host", "has two lists") }
            var list: [DCExtentRecord] = []
            for (j, e) in try sub.array(l, "extents").enumerated() {
                let rec = try sub.nested("extents[\(j)]").record(e)
                guard rec.tag == tag else { throw sub.nested("extents[\(j)]").bad("tag", "is not the list's tag") }
                list.append(rec)
            }
            guard !list.isEmpty else { throw sub.bad("extents", "is empty") }
            t.lists[host] = list
        }
        t.accepted = try hostSet(item, "accepted", r)
        t.pending = try hostSet(item, "pending", r)
        t.fmReference = try r.bool(item, "fm_reference")
        t.sanitize = try r.bool(item, "sanitize")
        t.established = try r.bool(item, "established")
        if t.fmReference, !(t.sharable && profile.tagCommands) {
            throw r.bad("fm_reference", "is set on a tag the fabric manager cannot reference (not Sharable, or the profile has no references)")
        }
        if !t.accepted.isEmpty, !t.established { throw r.bad("established", "is false although a host accepted the tag") }
        if t.unheld { throw r.bad("", "is kept although no host holds it and the fabric manager has no reference") }
        tags[tag] = t
        tagOrder.insert(tag, key: serial)
    }

    /// A bitmap written as ascending host ids.
    private func hostSet(_ item: JSONValue, _ key: String, _ r: StateReader) throws(DaxError) -> HostBitmap {
        var set = HostBitmap()
        var last = -1
        for (i, v) in try r.array(item, key).enumerated() {
            guard let u = StateReader.unsigned(v), u < UInt64(hosts.count), Int(u) > last else {
                throw r.bad("\(key)[\(i)]", "is not a host of the device above the previous one")
            }
            last = Int(u)
            set.insert(UInt16(truncatingIfNeeded: u))
        }
        return set
    }

    /// A tag's bitmaps and lists against the LDs' extents, and its spans
    /// against the block map: each span is the blocks of one of its live
    /// offers (reserved), of one host's accepted extent (owned: a tag that
    /// is not Sharable), or its shared capacity.
    private func checkTag(_ item: JSONValue, _ held: Holdings, _ r: StateReader) throws(DaxError) {
        guard let t = tags[try r.tag(item, "tag")] else { return }
        let holders = (held.acceptedBy[t.tag]?.hosts ?? []) + (held.pendingBy[t.tag]?.hosts ?? [])
        if let h = holders.first(where: { t.lists[$0] == nil }) {
            throw r.bad("lists", "has no list for host \(h), which holds extents of the tag")
        }
        guard t.accepted == held.acceptedBy[t.tag] ?? HostBitmap() else {
            throw r.bad("accepted", "is \(t.accepted); hosts \(held.acceptedBy[t.tag] ?? HostBitmap()) accepted the tag")
        }
        guard t.pending == held.pendingBy[t.tag] ?? HostBitmap() else {
            throw r.bad("pending", "is \(t.pending); hosts \(held.pendingBy[t.tag] ?? HostBitmap()) are offered the tag")
        }
        var reserved = 0
        var starts = Set<UInt64>()
        for (i, s) in t.spans.enumerated() {
            guard starts.insert(s.start).inserted else { throw r.bad("spans[\(i)]", "is listed twice") }
            if let run = regions[t.home].blocks.run(at: s.start), run.span == s {
                let mine: (HostExtent) -> Bool = { $0.record.tag == t.tag && $0.physical == s.start && $0.home == t.home }
                switch run.owner {
                case .reserved(let h) where hosts[Int(h)].pending.find(s.start, where: mine) != nil:
                    reserved += 1
                case .owned(let h) where !t.sharable && hosts[Int(h)].accepted.find(s.start, where: mine) != nil:
                    break
                default:
                    throw r.bad("spans[\(i)]", "is the blocks of an extent of another tag or host")
                }
            } else if !t.sharable || !regions[t.home].blocks.allocate(s, to: .shared(tag: t.tag)) {
                throw r.bad("spans[\(i)]", "is not the blocks of one of the tag's extents, or overlaps blocks others hold")
            }
        }
        let own = held.ownBlocks[t.tag] ?? 0
        if t.sharable {
            guard reserved == own else { throw r.bad("spans", "reserve \(reserved) extents' blocks; the tag's live offers have \(own)") }
            guard t.established ? reserved == 0 : reserved == t.spans.count else {
                throw r.bad("established", "does not match the spans: a Sharable tag's capacity is all reserved until a first host accepts it, then all shared")
            }
        } else {
            guard t.spans.count == own else { throw r.bad("spans", "list \(t.spans.count) runs; the tag's extents hold \(own)") }
        }
        for host in t.lists.keys.sorted() {
            let h = Int(host), list = t.lists[host] ?? []
            guard list.count == hosts[h].tags[t.tag] ?? 0 else {
                throw r.bad("lists", "holds \(list.count) extents for host \(h), which has \(hosts[h].tags[t.tag] ?? 0) of the tag")
            }
            // A Sharable tag's extents on one host follow its logical
            // stream in list (sequence) order: each one's physical address
            // is where the stream is at its start. A host that gave back
            // part of its share (never one still offered it) holds a
            // subsequence: numbers increasing, the stream skipping what
            // went back, at most the tag's bytes.
            let whole = !t.sharable || t.pending.contains(host)
            var span = 0
            var into: UInt64 = 0
            var named = Set<UInt64>()
            var bytes: UInt64 = 0
            for (i, rec) in list.enumerated() {
                let match: (HostExtent) -> Bool = { $0.record == rec }
                guard named.insert(rec.dpa).inserted,
                      let p = hosts[h].accepted.find(rec.dpa, where: match).map({ hosts[h].accepted.value(at: $0) })
                        ?? hosts[h].pending.find(rec.dpa, where: match).map({ hosts[h].pending.value(at: $0) }) else {
                    throw r.bad("lists", "names \(rec), which host \(h) does not hold, or names it twice")
                }
                bytes &+= rec.length
                guard t.sharable else { continue }
                let inOrder = whole ? rec.sequence == UInt16(truncatingIfNeeded: i) : i == 0 || rec.sequence > list[i - 1].sequence
                guard inOrder else {
                    throw r.bad("lists", "numbers host \(h)'s extents of a Sharable tag other than \(whole ? "0..n-1" : "increasingly") in order")
                }
                while span < t.spans.count, into >= t.spans[span].length {
                    into -= t.spans[span].length
                    span += 1
                }
                if !whole {
                    // Skip forward to the span and offset holding its start.
                    var s = span
                    while s < t.spans.count, !(p.physical >= t.spans[s].start && p.physical <= t.spans[s].last
                                                  && (s > span || p.physical &- t.spans[s].start >= into)) {
                        s += 1
                    }
                    if s < t.spans.count { (span, into) = (s, p.physical &- t.spans[s].start) }
                }
                guard span < t.spans.count, p.home == t.home, p.physical == t.spans[span].start &+ into else {
                    throw r.bad("lists", "names \(rec) of host \(h), whose physical address is not where the tag's capacity is at that point")
                }
                into &+= rec.length
            }
            guard whole ? bytes == t.length : bytes <= t.length else {
                throw r.bad("lists", "give host \(h) \(bytes) bytes of the tag's \(t.length)")
            }
        }
    }

    // MARK: LDs

    private func restoreLD(_ item: JSONValue, _ h: Int, _ held: inout Holdings, _ r: StateReader) throws(DaxError) {
        guard try r.int(item, "id", 0...255) == h else { throw r.bad("id", "is not \(h), its place in lds") }
        hosts[h].maxExtents = try r.int(item, "max_extents", 1...RegionSpec.groupLimit)
        hosts[h].maxTags = try r.int(item, "max_tags", 0...Int(Int32.max))
        hosts[h].logDepth = try r.int(item, "log_depth", 1...Int(Int32.max))
        hosts[h].generation = UInt32(truncatingIfNeeded: try r.int(item, "generation", 0...Int(UInt32.max)))
        hosts[h].overflowed = try r.int(item, "overflowed", 0...Self.countLimit)
        let log = try r.array(item, "log")
        guard log.count <= hosts[h].logDepth else { throw r.bad("log", "holds more records than log_depth") }
        for (i, x) in log.enumerated() {
            let sub = r.nested("log[\(i)]")
            let e = try eventRecord(x, sub)
            guard e.type.rawValue <= DCEventType.regionConfigurationUpdated.rawValue else {
                throw sub.bad("type", "is a fabric manager record (4 or 5), not a host record")
            }
            guard e.hostId == 0 else { throw sub.bad("host", "is set on a host record") }
            hosts[h].log.append(e)
        }
        // The one holding (accepted, or one live offer) of each tag.
        var holding: [DaxTag: UInt64] = [:]
        for (i, x) in try r.array(item, "accepted").enumerated() {
            let sub = r.nested("accepted[\(i)]")
            var e = try hostExtent(x, sub, exact: true)
            e.group = try sub.uint(x, "group")
            guard e.group >= 1, e.group < nextGroupId else { throw sub.bad("group", "is not in 1..<next_group_id") }
            if let last = hosts[h].accepted.last, last.key >= e.record.dpa { throw sub.bad("dpa", "is not above the previous extent's") }
            try place(e, h, pending: false, sharedAccess: false, &holding, &held, sub)
            hosts[h].accepted.append(e, key: e.record.dpa)
        }
        for (g, x) in try r.array(item, "offers").enumerated() {
            let sub = r.nested("offers[\(g)]")
            let id = try sub.uint(x, "id")
            guard id >= 1, id < nextGroupId, held.groupIds.insert(id).inserted,
                  (hosts[h].groups.last?.id ?? 0) < id else {
                throw sub.bad("id", "is not a new offer id in 1..<next_group_id above the previous offer's")
            }
            var group = ExtentGroup(id: id, host: UInt16(truncatingIfNeeded: h), extents: [],
                                    sharedAccess: try sub.bool(x, "shared_access"), dead: try sub.bool(x, "dead"))
            let extents = try sub.array(x, "extents")
            guard !extents.isEmpty, extents.count <= hosts[h].maxExtents else {
                throw sub.bad("extents", "does not hold 1...max_extents extents")
            }
            for (i, y) in extents.enumerated() {
                let esub = sub.nested("extents[\(i)]")
                // A dead offer's extents hold nothing any more (and may
                // predate a block size change): only their shape is checked.
                var e = try hostExtent(y, esub, exact: !group.dead)
                e.group = id
                if !group.dead {
                    try place(e, h, pending: true, sharedAccess: group.sharedAccess, &holding, &held, esub)
                    hosts[h].pending.insert(e, key: e.record.dpa)
                }
                group.extents.append(e)
            }
            hosts[h].groups.append(group)
        }
        try checkAddRecords(h, r)
        guard hosts[h].extentsUsed <= hosts[h].maxExtents else {
            throw r.bad("max_extents", "is below the \(hosts[h].extentsUsed) accepted and pending extents the LD holds")
        }
        guard hosts[h].tags.count <= hosts[h].maxTags else {
            throw r.bad("max_tags", "is below the \(hosts[h].tags.count) tags the LD holds")
        }
    }

    /// Every Add Capacity record in LD `h`'s log is one the device posted
    /// for an offer the host has not answered (live or dead): an extent of
    /// one of its offers, as filed, naming the region the profile names.
    /// A record that differs would have the host accept what the device
    /// does not list (another tag or sequence number), a view no later
    /// load accepts. Records of an offer may be missing (dropped from a
    /// full log); none may be foreign.
    private func checkAddRecords(_ h: Int, _ r: StateReader) throws(DaxError) {
        var offered: [DCExtentRecord: Int] = [:]
        for group in hosts[h].groups {
            for e in group.extents { offered[e.record] = profile.recordsNameRegion ? e.region : 0 }
        }
        for (i, e) in hosts[h].log.enumerated() where e.type == .addCapacity {
            guard let region = offered[e.extent], Int(e.regionIndex) == region else {
                throw r.nested("log[\(i)]").bad("extent", "is not an extent of an offer to this host not answered yet, in the region its record names")
            }
        }
    }

    /// One extent as the document gives it: the host's record inside one
    /// DC region (block aligned when `exact`), a home region and a
    /// physical address.
    private func hostExtent(_ x: JSONValue, _ r: StateReader, exact: Bool) throws(DaxError) -> HostExtent {
        let rec = try r.record(x)
        guard let s = rec.span, let region = regionIndex(holding: s), !exact || regions[region].aligned(s) else {
            throw r.bad("dpa", "and length do not make a\(exact ? " block aligned" : "n") extent inside one DC region")
        }
        if profile.tracksTags, rec.tag.isUntagged, rec.sequence != 0 { throw r.bad("sequence", "is set on an untagged extent") }
        let home = try r.int(x, "home", 0...7)
        guard home < regions.count else { throw r.bad("home", "is not a region of the device") }
        return HostExtent(record: rec, region: region, home: home, physical: try r.uint(x, "physical"), group: 0)
    }

    /// Files a held extent on LD `h`: its DPAs, its tag count, its blocks
    /// (reserved for a live offer, owned once accepted, unless it is a
    /// Sharable tag's: `checkTag` settles those).
    private func place(_ e: HostExtent, _ h: Int, pending: Bool, sharedAccess: Bool, _ holding: inout [DaxTag: UInt64],
                       _ held: inout Holdings, _ r: StateReader) throws(DaxError) {
        // A device that keeps no tags (qemu) files offers with the
        // manager's tags and accepted extents untagged: neither names a
        // tag of the device, counts or holds one.
        let tag = profile.tracksTags ? e.record.tag : .untagged
        let t = tag.isUntagged ? nil : tags[tag]
        if !tag.isUntagged {
            guard let t else { throw r.bad("tag", "names no tag of the device") }
            let source = pending ? e.group : 0
            if let was = holding.updateValue(source, forKey: tag), was != source {
                throw r.bad("tag", "is held by this host through two offers, or both offered and accepted")
            }
            if pending { held.pendingBy[tag, default: HostBitmap()].insert(UInt16(truncatingIfNeeded: h)) } else {
                held.acceptedBy[tag, default: HostBitmap()].insert(UInt16(truncatingIfNeeded: h))
            }
            if t.sharable, !regions[e.region].spec.sharable {
                throw r.bad("dpa", "is in a region that is not Sharable, for a Sharable tag")
            }
        }
        guard let s = e.span, takeDPA(h, e.region, s) else { throw r.bad("dpa", "overlaps another extent of this host") }
        hosts[h].countTag(tag, 1)
        let sharedBlocks = t?.sharable == true && (!pending || sharedAccess)
        if sharedBlocks {
            // Enable Shared Access or accepted: the tag's blocks.
            guard let t, e.home == t.home else { throw r.bad("home", "is not the home region of tag \(tag)") }
            if sharedAccess, !t.established { throw r.bad("tag", "is offered by Enable Shared Access before a first host accepted it") }
            // Its physical address is checked against the tag's stream in `checkTag`.
            return
        }
        guard !sharedAccess else { throw r.bad("tag", "is not a Sharable tag, in an Enable Shared Access offer") }
        guard e.home == e.region, e.physical == e.record.dpa else {
            throw r.bad("physical", "is not the extent's own DPA, which only an extent of a Sharable tag may have")
        }
        if let t, t.home != e.region { throw r.bad("dpa", "is outside the home region of tag \(tag)") }
        if !tag.isUntagged { held.ownBlocks[tag, default: 0] += 1 }
        let owner: BlockOwner = pending ? .reserved(host: UInt16(truncatingIfNeeded: h)) : .owned(host: UInt16(truncatingIfNeeded: h))
        guard regions[e.home].blocks.allocate(s, to: owner) else {
            throw r.bad("physical", "overlaps blocks another extent or tag holds")
        }
    }

    // MARK: sanitizing and records

    /// Spans already sanitized (inside a region), and the physical starts
    /// a release asked to sanitize: each one an accepted extent's own blocks.
    private func restoreSanitizing(_ doc: JSONValue, _ r: StateReader) throws(DaxError) {
        for (i, x) in try r.array(doc, "sanitized_spans").enumerated() {
            let sub = r.nested("sanitized_spans[\(i)]")
            let s = try sub.span(x)
            guard regionIndex(holding: s) != nil else { throw sub.bad("", "is not inside one DC region") }
            sanitizedSpans.append(s)
        }
        for (i, x) in try r.array(doc, "sanitize_requested").enumerated() {
            guard let start = StateReader.unsigned(x), let at = Span(start: start, length: 1), let region = regionIndex(holding: at),
                  case .owned = regions[region].blocks.run(at: start)?.owner, sanitizeRequested.insert(start).inserted else {
                throw r.bad("sanitize_requested[\(i)]", "is not the start of an accepted extent's own blocks, named once")
            }
        }
    }

    /// A DC event record: the type, host and region fit the device, and
    /// an extent of non-zero length lies in the named region.
    func eventRecord(_ x: JSONValue, _ r: StateReader) throws(DaxError) -> DCEventRecord {
        guard let type = DCEventType(rawValue: UInt8(truncatingIfNeeded: try r.int(x, "type", 0...5))) else {
            throw r.bad("type", "is not an event type")
        }
        let host = try r.int(x, "host", 0...0xFFFF)
        let region = try r.int(x, "region", 0...7)
        guard region < regions.count else { throw r.bad("region", "is not a region of the device") }
        let extent = try r.nested("extent").record(try r.field(x, "extent"))
        if extent.length > 0 {
            // qemu writes region 0 in add and release records: the extent
            // lies in some region, not necessarily the one named.
            let named = profile.recordsNameRegion || type == .regionConfigurationUpdated
            guard let s = extent.span, named ? regions[region].span.contains(s) : regionIndex(holding: s) != nil else {
                throw r.bad("extent", named ? "is not inside region \(region)" : "is not inside one DC region")
            }
        }
        return DCEventRecord(type: type, hostId: UInt16(truncatingIfNeeded: host), regionIndex: UInt8(truncatingIfNeeded: region),
                             more: try r.bool(x, "more"), extent: extent,
                             availableExtents: UInt32(truncatingIfNeeded: try r.int(x, "available_extents", 0...Int(UInt32.max))),
                             availableTags: UInt32(truncatingIfNeeded: try r.int(x, "available_tags", 0...Int(UInt32.max))))
    }
}

extension StateReader {
    /// A non-negative integer value, however the document spelled it.
    static func unsigned(_ v: JSONValue) -> UInt64? {
        switch v {
        case .uint(let u): u
        case .int(let i) where i >= 0: UInt64(i)
        default: nil
        }
    }

    /// A `{start, length}` span: non-empty, below 2^64.
    func span(_ x: JSONValue) throws(DaxError) -> Span {
        guard let s = Span(start: try uint(x, "start"), length: try uint(x, "length")) else {
            throw bad("length", "is 0 or the span wraps")
        }
        return s
    }

    /// A `{dpa, length}` range of a host answer: non-empty, below 2^64.
    func range(_ x: JSONValue) throws(DaxError) -> DCRange {
        let range = DCRange(dpa: try uint(x, "dpa"), length: try uint(x, "length"))
        guard Span(start: range.dpa, length: range.length) != nil else { throw bad("length", "is 0 or the range wraps") }
        return range
    }

    /// A `{dpa, length, tag, sequence}` extent record (any values the
    /// wire allows; callers check where it must lie).
    func record(_ x: JSONValue) throws(DaxError) -> DCExtentRecord {
        DCExtentRecord(dpa: try uint(x, "dpa"), length: try uint(x, "length"), tag: try tag(x, "tag"),
                       sequence: UInt16(truncatingIfNeeded: try int(x, "sequence", 0...0xFFFF)))
    }
}
