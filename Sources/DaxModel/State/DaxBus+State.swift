/// The whole model as a versioned JSON document (`daxm_ctx_save` /
/// `daxm_ctx_load`): regions, extents with tags and states, devices with
/// ranges, the open group, pending events. Loading validates every field,
/// rebuilds the model through the same bookkeeping the allocator uses, and
/// then checks all invariants; a damaged or hand-edited document is
/// refused with EINVAL and a message naming the bad field.
extension DaxBus {
    public static let stateFormat = "libdaxmodel-state"
    public static let stateVersion: UInt64 = 1

    // MARK: saving

    public func stateDocument() -> JSONValue {
        .object([
            ("format", .string(Self.stateFormat)),
            ("version", .uint(Self.stateVersion)),
            ("next_request_id", .uint(nextRequestId)),
            ("driver_ids", .array(driverIds.sorted().map { .string($0) })),
            ("regions", .array(regions.map { $0.stateDocument() })),
            ("events", .array(events[eventHead...].map(Self.document(of:)))),
            ("panic_on_warn", .bool(panicOnWarn)),
            ("panic", panic.map(Self.document(of:)) ?? .null),
            ("warned_once", .array(KernelWarning.Site.allCases.filter { warnedOnce.contains($0) }.map { .string($0.rawValue) })),
            ("direct_map", .array(directMap.keys.sorted().map { block in
                .array([.uint(block << 21), .string(directMap[block]?.rawValue ?? "")])
            })),
            ("direct_map_1g", .array(directMapGiB.sorted().map { .uint($0 << 30) })),
        ])
    }

    static func document(of w: KernelWarning) -> JSONValue {
        .object([
            ("site", .string(w.site.rawValue)), ("profile", .string(w.profile == .linux6_1 ? "6.1" : "6.12")),
            ("region", .int(Int64(w.regionId))), ("device", .string(w.device)),
            ("message", .string(w.message)), ("panicked", .bool(w.panicked)),
        ])
    }

    static func document(of event: DaxEvent) -> JSONValue {
        .object([
            ("kind", .int(Int64(event.kind.rawValue))),
            ("region", .int(Int64(event.regionId))),
            ("request", .uint(event.requestId)),
            ("device", event.device.map { .string($0) } ?? .null),
            ("warning", event.warning.map(document(of:)) ?? .null),
            ("records", .array(event.records.map { r in
                .object([
                    ("offset", .uint(r.offset)), ("length", .uint(r.length)),
                    ("tag", .string(r.tag.uuidString)), ("sequence", .uint(UInt64(r.sequence))),
                    ("result", .int(Int64(r.result?.rawValue ?? 0))), ("reason", .string(r.reason)),
                ])
            })),
        ])
    }

    // MARK: loading

    /// Builds a model from a state document, anchored to `anchor` (see
    /// `DaxBus.init(anchor:)`).
    /// - Throws: EINVAL naming the first bad field.
    public static func restore(from doc: JSONValue, anchor: ModelAnchor? = nil) throws(DaxError) -> DaxBus {
        let r = StateReader(path: "")
        guard try r.string(doc, "format") == stateFormat else { throw r.bad("format", "is not \(stateFormat)") }
        guard try r.uint(doc, "version") == stateVersion else { throw r.bad("version", "is not \(stateVersion)") }
        let bus = DaxBus(anchor: anchor)
        bus.nextRequestId = try r.uint(doc, "next_request_id")
        guard bus.nextRequestId > 0 else { throw r.bad("next_request_id", "is 0; request ids start at 1") }
        for (i, id) in try r.array(doc, "driver_ids").enumerated() {
            guard case .string(let s) = id, SysfsName.parseDevice(Substring(s)) != nil else {
                throw r.bad("driver_ids[\(i)]", "is not a device name")
            }
            bus.driverIds.insert(s)
        }
        for (i, item) in try r.array(doc, "regions").enumerated() {
            var sub = StateReader(path: "regions[\(i)]")
            try Region.restore(item, into: bus, reader: &sub)
        }
        bus.sortedIds.sort()
        try bus.checkRegionOverlaps(r)
        // A tag lives in one region: its pool is the only one for it.
        var owner: [DaxTag: Region] = [:]
        for region in bus.regions {
            for tag in region.sparse.pools.keys where !tag.isUntagged {
                if let other = owner.updateValue(region, forKey: tag) {
                    throw r.bad("regions", "tag \(tag.uuidString) appears in \(other.name) and \(region.name)")
                }
            }
        }
        for (i, item) in try r.array(doc, "events").enumerated() {
            var sub = StateReader(path: "events[\(i)]")
            bus.events.append(try sub.event(item))
        }
        try bus.restoreWarnings(doc, r)
        let problems = bus.checkInvariants()
        if let first = problems.first { throw DaxError(.invalidArgument, "state is inconsistent: \(first)") }
        return bus
    }
}

extension DaxBus {
    /// The boot-wide warning state; optional (documents written before it
    /// existed omit it).
    fileprivate func restoreWarnings(_ doc: JSONValue, _ r: StateReader) throws(DaxError) {
        if doc["panic_on_warn"] != nil { panicOnWarn = try r.bool(doc, "panic_on_warn") }
        if let p = doc["panic"], p != .null {
            panic = try r.nested("panic").warning(p)
            guard panic?.panicked == true else { throw r.bad("panic", "is a warning that did not panic") }
        }
        if doc["warned_once"] != nil {
            for (i, item) in try r.array(doc, "warned_once").enumerated() {
                guard case .string(let name) = item, let site = KernelWarning.Site(rawValue: name), site.once else {
                    throw r.bad("warned_once[\(i)]", "is not a _ONCE warning site")
                }
                warnedOnce.insert(site)
            }
        }
        if doc["direct_map"] != nil {
            for (i, item) in try r.array(doc, "direct_map").enumerated() {
                guard case .array(let pair) = item, pair.count == 2, case .uint(let address) = pair[0],
                      address % (2 << 20) == 0, case .string(let kind) = pair[1], let block = DirectMapBlock(rawValue: kind),
                      directMap.updateValue(block, forKey: address >> 21) == nil else {
                    throw r.bad("direct_map[\(i)]", "is not a new [2 MiB aligned address, \"large\" or \"table\"] pair")
                }
            }
        }
        // 1 GiB pages (optional: documents written before they were
        // modelled have none); a GiB under one has no 2 MiB entries
        if doc["direct_map_1g"] != nil {
            for (i, item) in try r.array(doc, "direct_map_1g").enumerated() {
                guard case .uint(let address) = item, address % (1 << 30) == 0,
                      directMapGiB.insert(address >> 30).inserted else {
                    throw r.bad("direct_map_1g[\(i)]", "is not a new 1 GiB aligned address")
                }
                guard !Self.hasBlocks(inGiB: address >> 30, directMap) else {
                    throw r.bad("direct_map_1g[\(i)]", "is a 1 GiB page over 2 MiB entries of direct_map")
                }
            }
        }
    }

    /// No two regions share an address: sorted by start, each region ends
    /// before the next begins. O(n log n) over all regions at once.
    fileprivate func checkRegionOverlaps(_ r: StateReader) throws(DaxError) {
        let byStart = regions.sorted { $0.span.start < $1.span.start }
        for (a, b) in zip(byStart, byStart.dropFirst()) where b.span.start <= a.span.last {
            throw r.bad("regions", "\(b.name) at \(b.span) overlaps \(a.name) at \(a.span)")
        }
    }
}

extension Region {
    func stateDocument() -> JSONValue {
        let kindName = switch kind { case .staticRegion: "static"; case .dynamic: "dynamic"; case .sparse: "sparse" }
        return .object([
            ("id", .int(Int64(id))), ("kind", .string(kindName)),
            ("profile", .string(profile == .linux6_1 ? "6.1" : "6.12")),
            ("start", .uint(start)), ("size", .uint(size)), ("align", .uint(align)),
            ("target_node", .int(Int64(targetNode))), ("numa_node", .int(Int64(numaNode))),
            ("max_extents_per_group", .uint(UInt64(sparse.maxPerGroup))), ("max_extents", .uint(UInt64(sparse.maxExtents))),
            ("revoke", .bool(sparse.revoke)), ("sanitize", .bool(sanitizeOnRelease)),
            ("seed", seed.map { .string($0.name) } ?? .null), ("youngest", youngest.map { .string($0.name) } ?? .null),
            ("extents", .array(extents.map { e in
                .object([
                    ("id", .int(Int64(e.id))), ("order", .uint(e.order)), ("offset", .uint(e.offset)),
                    ("length", .uint(e.length)), ("tag", .string(e.tag.uuidString)),
                    ("sequence", .uint(UInt64(e.sequence))), ("sequenced", .bool(e.sequenced)),
                    ("state", .string(e.state.name)), ("pins", .int(Int64(e.pins))),
                    ("release_request", .uint(e.releaseRequest)),
                ])
            })),
            ("staged", .array(sparse.staged.map { o in
                .object([("offset", .uint(o.offset)), ("length", .uint(o.length)),
                         ("tag", .string(o.tag.uuidString)), ("sequence", .uint(UInt64(o.sequence)))])
            })),
            ("staged_shareable", .bool(sparse.stagedShareable)),
            ("devices", .array(devices.map { d in
                .object([
                    ("id", .int(Int64(d.id))), ("align", .uint(d.align)), ("bound", .bool(d.isBound)),
                    ("tag", d.tag.map { .string($0.isUntagged ? "untagged" : $0.uuidString) } ?? .null),
                    ("lost_bytes", .uint(d.lostBytes)), ("path", d.path.map(Self.document(ofPath:)) ?? .null),
                    ("probe_failed", .bool(d.probeFailed)), ("serial", .uint(d.serial)),
                    ("ranges", .array(d.ranges.map { r in
                        .object([("start", .uint(r.start)), ("end", .uint(r.last)),
                                 ("extent", r.extent.map { .int(Int64($0.id)) } ?? .null)])
                    })),
                ])
            })),
        ])
    }

    static func restore(_ doc: JSONValue, into bus: DaxBus, reader r: inout StateReader) throws(DaxError) {
        var spec = RegionSpec(start: try r.uint(doc, "start"), size: try r.uint(doc, "size"))
        let id = try r.int(doc, "id", 0...Int(Int32.max))
        spec.id = id
        switch try r.string(doc, "kind") {
        case "static": spec.kind = .staticRegion
        case "dynamic": spec.kind = .dynamic
        case "sparse": spec.kind = .sparse
        default: throw r.bad("kind", "is not static, dynamic or sparse")
        }
        switch try r.string(doc, "profile") {
        case "6.1": spec.profile = .linux6_1
        case "6.12": spec.profile = .linux6_12
        default: throw r.bad("profile", "is not 6.1 or 6.12")
        }
        spec.align = try r.uint(doc, "align")
        spec.targetNode = try r.int(doc, "target_node", -1...Int(Int32.max))
        spec.numaNode = try r.int(doc, "numa_node", -1...Int(Int32.max))
        spec.maxExtentsPerGroup = try r.int(doc, "max_extents_per_group", 1...RegionSpec.groupLimit)
        spec.maxExtents = try r.int(doc, "max_extents", 1...RegionSpec.extentLimit)
        spec.revokeOnForcedRelease = try r.bool(doc, "revoke")
        spec.sanitizeOnRelease = try r.bool(doc, "sanitize")
        guard Region.validAligns.contains(spec.align) else { throw r.bad("align", "is not 4096, 2097152 or 1073741824") }
        guard spec.size > 0, spec.size % spec.align == 0, spec.start % spec.align == 0,
              let span = Span(start: spec.start, length: spec.size) else { throw r.bad("size", "and start do not make a valid region") }
        guard bus.regionsById[id] == nil else { throw r.bad("id", "\(id) is used twice") }
        // Address overlaps are checked once all regions are read
        // (`checkRegionOverlaps`), and the ids sorted then.
        let region = Region(id: id, spec: spec, span: span, model: bus)
        bus.regionsById[id] = region
        bus.sortedIds.append(id)

        var releasing: [Extent] = []
        for (i, item) in try r.array(doc, "extents").enumerated() {
            var sub = r.nested("extents[\(i)]")
            guard spec.kind == .sparse else { throw sub.bad("", "only sparse regions have extents") }
            let e = try region.restoreExtent(item, reader: &sub)
            if try sub.string(item, "state") == "releasing" { releasing.append(e) }
        }
        let staged = try r.array(doc, "staged")
        guard staged.count <= spec.maxExtentsPerGroup else {
            throw r.bad("staged", "holds \(staged.count) extents, more than max_extents_per_group \(spec.maxExtentsPerGroup)")
        }
        for (i, item) in staged.enumerated() {
            let sub = r.nested("staged[\(i)]")
            guard spec.kind == .sparse else { throw sub.bad("", "only sparse regions stage extents") }
            let offer = ExtentOffer(offset: try sub.uint(item, "offset"), length: try sub.uint(item, "length"),
                                    tag: try sub.tag(item, "tag"), sequence: UInt32(try sub.int(item, "sequence", 0...0xFFFF)))
            region.sparse.staged.append(offer)
        }
        region.sparse.stagedShareable = try r.bool(doc, "staged_shareable")
        for (i, item) in try r.array(doc, "devices").enumerated() {
            var sub = r.nested("devices[\(i)]")
            try region.restoreDevice(item, reader: &sub)
        }
        for e in releasing {
            guard e.refcount > 0 else { throw r.bad("extents", "\(e.name) is releasing with no reference left") }
            region.sparse.available &-= e.free.total
            let before = e.free.total
            e.state = .releasing
            region.sparse.pools[e.tag]?.refresh(e, oldFree: before, wasCounted: true)
        }
        for key in ["seed", "youngest"] {
            guard let v = doc[key] else { throw r.bad(key, "is missing") }
            if case .null = v { continue }
            guard case .string(let name) = v, let (rid, n) = SysfsName.parseDevice(Substring(name)), rid == id,
                  let device = region.device(id: n) else { throw r.bad(key, "does not name a device of this region") }
            if key == "seed" { region.seed = device } else { region.youngest = device }
        }
        if spec.kind == .staticRegion, region.devices.count != 1 { throw r.bad("devices", "a static region has exactly one device") }
    }

    static let orderLimit: UInt64 = 1 << 63

    /// A device path is a JSON string when its bytes are UTF-8, otherwise
    /// an array of its byte values: Linux paths are bytes, and the file
    /// must name the very same file.
    static func document(ofPath bytes: [UInt8]) -> JSONValue {
        if let text = String(validating: bytes, as: UTF8.self) { return .string(text) }
        return .array(bytes.map { .uint(UInt64($0)) })
    }

    static func path(from doc: JSONValue) -> [UInt8]? {
        let bytes: [UInt8]
        switch doc {
        case .string(let s): bytes = Array(s.utf8)
        case .array(let items):
            var out: [UInt8] = []
            for item in items {
                guard case .uint(let v) = item, let b = UInt8(exactly: v) else { return nil }
                out.append(b)
            }
            bytes = out
        default: return nil
        }
        guard !bytes.isEmpty, bytes.count < 4096, !bytes.contains(0) else { return nil }
        return bytes
    }

    private func restoreExtent(_ item: JSONValue, reader r: inout StateReader) throws(DaxError) -> Extent {
        let eid = try r.int(item, "id", 0...Int(Int32.max))
        let offset = try r.uint(item, "offset"), length = try r.uint(item, "length")
        guard length > 0, offset % Region.compatAlign == 0, length % Region.compatAlign == 0,
              offset < size, length <= size - offset, let span = Span(start: start &+ offset, length: length) else {
            throw r.bad("offset", "and length do not make a 2 MiB aligned extent inside the region")
        }
        guard sparse.touching(span).isEmpty else { throw r.bad("offset", "overlaps another extent") }
        let order = try r.uint(item, "order")
        // Orders only rank extents; the bound leaves 2^63 acceptances
        // before the counter could wrap.
        guard order < Self.orderLimit else { throw r.bad("order", "is 2^63 or more") }
        if let last = sparse.byOrder.last, last.key >= order { throw r.bad("order", "is not ascending") }
        guard sparse.ids.claim(eid) else { throw r.bad("id", "\(eid) is used twice") }
        let state = try r.string(item, "state")
        guard state == "accepted" || state == "releasing" else { throw r.bad("state", "is not accepted or releasing") }
        let tag = try r.tag(item, "tag")
        let extent = Extent(id: eid, span: span, tag: tag, sequence: UInt32(try r.int(item, "sequence", 0...0xFFFF)),
                            sequenced: try r.bool(item, "sequenced"), order: order, region: self)
        extent.pins = try r.int(item, "pins", 0...Int(Int32.max))
        // Optional: documents written before the field existed omit it.
        extent.releaseRequest = item["release_request"] == nil ? 0 : try r.uint(item, "release_request")
        sparse.nextOrder = order &+ 1
        sparse.file(extent)
        sparse.pools[tag, default: TagPool()].add(extent)
        sparse.available &+= span.length
        model?.countTag(tag, 1)
        return extent
    }

    private func restoreDevice(_ item: JSONValue, reader r: inout StateReader) throws(DaxError) {
        let did = try r.int(item, "id", 0...Int(Int32.max))
        guard ids.claim(did) else { throw r.bad("id", "\(did) is used twice") }
        let device = Device(id: did, region: self)
        insert(device)
        let align = try r.uint(item, "align")
        guard Region.validAligns.contains(align) else { throw r.bad("align", "is not 4096, 2097152 or 1073741824") }
        device.align = align
        if let t = item["tag"], t != .null {
            guard kind == .sparse else { throw r.bad("tag", "only sparse-region devices have a tag") }
            device.tag = try r.tag(item, "tag")
        }
        if let p = item["path"], p != .null {
            guard let bytes = Self.path(from: p) else { throw r.bad("path", "is not a path (1 to 4095 bytes, no NUL)") }
            device.path = bytes
        }
        device.lostBytes = try r.uint(item, "lost_bytes")
        device.probeFailed = item["probe_failed"] == nil ? false : try r.bool(item, "probe_failed")
        // Creation order; documents written before it existed: document order.
        if item["serial"] != nil {
            device.serial = try r.uint(item, "serial")
            if let bus = model { bus.nextDeviceSerial = max(bus.nextDeviceSerial, device.serial &+ 1) }
        }
        for (i, rangeDoc) in try r.array(item, "ranges").enumerated() {
            let sub = r.nested("ranges[\(i)]")
            guard let span = Span(start: try sub.uint(rangeDoc, "start"), last: try sub.uint(rangeDoc, "end")),
                  self.span.contains(span) else { throw sub.bad("end", "does not make a range inside the region") }
            var extent: Extent?
            if kind == .sparse {
                let eid = try sub.int(rangeDoc, "extent", 0...Int(Int32.max))
                guard let e = sparse.extent(id: eid), e.span.contains(span) else {
                    throw sub.bad("extent", "does not name an extent holding the range")
                }
                extent = e
            } else if let e = rangeDoc["extent"], e != .null {
                throw sub.bad("extent", "only sparse regions have extents")
            }
            let ok: Bool
            if kind == .staticRegion {
                // The static region's free space is the full span until its one device takes it.
                ok = device.allocRange(span, in: self)
            } else {
                ok = device.allocRange(span, in: self, extent: extent)
            }
            guard ok else { throw sub.bad("start", "overlaps another range") }
        }
        let bound = try r.bool(item, "bound")
        guard !bound || device.size > 0 else { throw r.bad("bound", "a device of size 0 cannot be bound") }
        device.isBound = bound
        if kind == .staticRegion, free.total != 0 { throw r.bad("ranges", "a static region's device covers the whole region") }
    }
}

/// Reads typed fields, naming the path of the first bad one.
struct StateReader {
    var path: String

    func nested(_ component: String) -> StateReader {
        StateReader(path: path.isEmpty ? component : "\(path).\(component)")
    }

    func bad(_ field: String, _ why: String) -> DaxError {
        let name = field.isEmpty ? path : (path.isEmpty ? field : "\(path).\(field)")
        return DaxError(.invalidArgument, "state field \(name) \(why)")
    }

    func field(_ doc: JSONValue, _ key: String) throws(DaxError) -> JSONValue {
        guard let v = doc[key] else { throw bad(key, "is missing") }
        return v
    }

    func uint(_ doc: JSONValue, _ key: String) throws(DaxError) -> UInt64 {
        switch try field(doc, key) {
        case .uint(let v): return v
        case .int(let v) where v >= 0: return UInt64(v)
        default: throw bad(key, "is not a non-negative integer")
        }
    }

    func int(_ doc: JSONValue, _ key: String, _ range: ClosedRange<Int>) throws(DaxError) -> Int {
        let v: Int?
        switch try field(doc, key) {
        case .uint(let u): v = Int(exactly: u)
        case .int(let i): v = Int(exactly: i)
        default: v = nil
        }
        guard let v, range.contains(v) else { throw bad(key, "is not an integer in \(range.lowerBound)...\(range.upperBound)") }
        return v
    }

    func bool(_ doc: JSONValue, _ key: String) throws(DaxError) -> Bool {
        guard case .bool(let b) = try field(doc, key) else { throw bad(key, "is not true or false") }
        return b
    }

    func string(_ doc: JSONValue, _ key: String) throws(DaxError) -> String {
        guard case .string(let s) = try field(doc, key) else { throw bad(key, "is not a string") }
        return s
    }

    func array(_ doc: JSONValue, _ key: String) throws(DaxError) -> [JSONValue] {
        guard case .array(let a) = try field(doc, key) else { throw bad(key, "is not an array") }
        return a
    }

    func tag(_ doc: JSONValue, _ key: String) throws(DaxError) -> DaxTag {
        let s = try string(doc, key)
        if s == "untagged" { return .untagged }
        guard let t = DaxTag(uuidString: s) else { throw bad(key, "is not a UUID") }
        return t
    }

    mutating func event(_ doc: JSONValue) throws(DaxError) -> DaxEvent {
        guard let kind = DaxEvent.Kind(rawValue: Int32(try int(doc, "kind", 1...7))) else { throw bad("kind", "is unknown") }
        var records: [ExtentRecord] = []
        for (i, item) in try array(doc, "records").enumerated() {
            let sub = nested("records[\(i)]")
            let result = try sub.int(item, "result", 0...4095)
            var rec = ExtentRecord(ExtentOffer(offset: try sub.uint(item, "offset"), length: try sub.uint(item, "length"),
                                               tag: try sub.tag(item, "tag"), sequence: UInt32(try sub.int(item, "sequence", 0...0xFFFF))))
            rec.result = result == 0 ? nil : DaxErrno(rawValue: Int32(result))
            rec.reason = try sub.string(item, "reason")
            records.append(rec)
        }
        var device: String?
        if let d = doc["device"], d != .null {
            guard case .string(let s) = d else { throw bad("device", "is not a device name") }
            device = s
        }
        var warning: KernelWarning?
        if let w = doc["warning"], w != .null { warning = try nested("warning").warning(w) }
        guard (kind == .kernelWarning) == (warning != nil) else { throw bad("warning", "is present exactly on kernel warning events") }
        let named = kind == .deviceLostMemory || kind == .kernelWarning
        guard named == (device != nil) else { throw bad("device", "is present exactly on lost-memory and kernel warning events") }
        return DaxEvent(kind: kind, regionId: try int(doc, "region", 0...Int(Int32.max)),
                        requestId: try uint(doc, "request"), records: records, device: device, warning: warning)
    }

    func warning(_ doc: JSONValue) throws(DaxError) -> KernelWarning {
        guard let site = KernelWarning.Site(rawValue: try string(doc, "site")) else { throw bad("site", "is not a warning site") }
        let profile: KernelProfile
        switch try string(doc, "profile") {
        case "6.1": profile = .linux6_1
        case "6.12": profile = .linux6_12
        default: throw bad("profile", "is not 6.1 or 6.12")
        }
        return KernelWarning(site: site, profile: profile, regionId: try int(doc, "region", 0...Int(Int32.max)),
                             device: try string(doc, "device"), message: try string(doc, "message"),
                             panicked: try bool(doc, "panicked"))
    }
}
