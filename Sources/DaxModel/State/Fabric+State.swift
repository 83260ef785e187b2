/// A fabric and all its hosts as one versioned JSON document: the
/// Dynamic Capacity device (`DCDevice+State.swift`) and, per host, its
/// bus's own state document (`DaxBus.stateDocument()`) plus what the
/// fabric host keeps between two deliveries. Loading checks every field,
/// rebuilds the device and each host bus with the same rules as a
/// context's state, then checks that the hosts and the device agree:
/// each host's view is the device's extent list for it, except where a
/// message is still on its way (see `checkViews`). A damaged or
/// hand-edited document is refused with EINVAL naming the bad field.
extension Fabric {
    public static let stateFormat = "libdaxmodel-fabric-state"
    public static let stateVersion: UInt64 = 1

    // MARK: saving

    /// The fabric as a state document. Deterministic: the same fabric
    /// always gives the same document.
    public func stateDocument() -> JSONValue {
        .object([
            ("format", .string(Self.stateFormat)),
            ("version", .uint(Self.stateVersion)),
            ("device", device.stateDocument()),
            ("hosts", .array(hosts.map { $0.stateDocument() })),
        ])
    }

    // MARK: loading

    /// Builds a fabric from a state document. Host `n`'s bus is anchored
    /// to `hostAnchor(n)` (see `DaxBus.init(anchor:)`; nil: its own).
    /// After a successful load the device's invariants hold and every
    /// host's view matches the device's list for it as far as the saved
    /// fabric's did.
    /// - Throws: EINVAL naming the first bad field.
    /// - Complexity: O(n log n) in the document size.
    public static func restore(from doc: JSONValue,
                               hostAnchor: (UInt16) -> ModelAnchor? = { _ in nil }) throws(DaxError) -> Fabric {
        let r = StateReader(path: "")
        guard try r.string(doc, "format") == stateFormat else { throw r.bad("format", "is not \(stateFormat)") }
        guard try r.uint(doc, "version") == stateVersion else { throw r.bad("version", "is not \(stateVersion)") }
        let device = try DCDevice.restore(try r.field(doc, "device"), reader: r.nested("device"))
        let hostDocs = try r.array(doc, "hosts")
        guard hostDocs.count == device.hostCount else {
            throw r.bad("hosts", "holds \(hostDocs.count) hosts; the device has \(device.hostCount)")
        }
        var hosts: [FabricHost] = []
        for (h, item) in hostDocs.enumerated() {
            let id = UInt16(truncatingIfNeeded: h)  // h < hostCount <= 256
            hosts.append(try FabricHost.restore(item, id: id, device: device, anchor: hostAnchor(id), reader: r.nested("hosts[\(h)]")))
        }
        let fabric = Fabric(restoredDevice: device, hosts: hosts)
        for host in hosts { try fabric.checkView(of: host, r.nested("hosts[\(host.id)]")) }
        return fabric
    }

    /// Host and device agree on the host's extents, except where a
    /// message has not arrived yet or was lost:
    /// - the host may still hold an extent the device revoked by force
    ///   when the host kept it (`staleExtents`, Linux ignores the record),
    ///   has not read the record yet (it is in its DC event log), or the
    ///   record was dropped from a full log (at most one extent per
    ///   dropped record, `eventLogOverflows`);
    /// - the device may still list an extent the host gave back, when the
    ///   host has not reported it yet (its release is in the host bus's
    ///   event queue).
    private func checkView(of host: FabricHost, _ r: StateReader) throws(DaxError) {
        let ld = device.hosts[Int(host.id)]
        let listed = Set(ld.accepted.map(\.record))
        // Compared as the device files accepted extents (qemu: null tag, seq 0).
        let seen = host.view.map(device.profile.acceptedRecord)
        let revoking = Set(ld.log.lazy.filter { $0.type == .forcedCapacityRelease }.map { DCRange(dpa: $0.extent.dpa, length: $0.extent.length) })
        var unexplained = 0
        var seenSet = Set<DCExtentRecord>()
        for e in seen {
            seenSet.insert(e)
            guard !listed.contains(e) else { continue }
            let range = DCRange(dpa: e.dpa, length: e.length)
            if host.staleExtents.contains(range) || revoking.contains(range) { continue }
            unexplained += 1
            guard unexplained <= ld.overflowed else {
                throw r.bad("bus", "holds \(e), which the device does not list for host \(host.id) and no pending or lost record revokes")
            }
        }
        var reporting = Set<DCRange>()
        for ev in host.bus.tapped where ev.kind == .released {
            for rec in ev.records { reporting.insert(DCRange(dpa: host.region.start &+ rec.offset, length: rec.length)) }
        }
        for e in listed where !seenSet.contains(e) {
            guard reporting.contains(DCRange(dpa: e.dpa, length: e.length)) else {
                throw r.bad("bus", "lacks \(e), which the device lists for host \(host.id) and the host has not released")
            }
        }
    }
}

extension FabricHost {
    func stateDocument() -> JSONValue {
        .object([
            ("id", .uint(UInt64(id))),
            ("bus", bus.stateDocument()),
            ("outstanding", .array(outstandingReleases.keys.sorted().map { request in
                .object([("request", .uint(request)), ("extents", .int(Int64(outstandingReleases[request] ?? 0)))])
            })),
            // Releases the host's bus completed that this host has not
            // reported to the device yet (its event tap).
            ("tapped", .array(bus.tapped.filter { $0.kind == .released }.map(DaxBus.document(of:)))),
            ("stale_extents", .array(staleExtents.sorted { ($0.dpa, $0.length) < ($1.dpa, $1.length) }.map(Self.document(of:)))),
            ("answers", .array(answers.map { answer, code in
                let (kind, ranges) = switch answer {
                case .addResponse(_, let accepted): ("add_response", accepted)
                case .release(_, let extents): ("release", extents)
                }
                return .object([("kind", .string(kind)), ("ranges", .array(ranges.map(Self.document(of:)))),
                                ("code", .uint(UInt64(code.rawValue)))])
            })),
        ])
    }

    static func document(of range: DCRange) -> JSONValue {
        .object([("dpa", .uint(range.dpa)), ("length", .uint(range.length))])
    }

    /// Host `id` of `device` from its part of a fabric state: a bus whose
    /// one region is the sparse region a fabric host makes (the device's
    /// DPA range, the LD's extent budget, no sanitizing of its own), and
    /// the host's bookkeeping.
    static func restore(_ doc: JSONValue, id: UInt16, device: DCDevice, anchor: ModelAnchor?,
                        reader r: StateReader) throws(DaxError) -> FabricHost {
        guard try r.int(doc, "id", 0...255) == Int(id) else { throw r.bad("id", "is not \(id), its place in hosts") }
        let busDoc = try r.field(doc, "bus")
        let bus: DaxBus
        do {
            bus = try DaxBus.restore(from: busDoc, anchor: anchor)
        } catch {
            // The bus's own reader names fields from its root.
            let prefix = "state field "
            let message = error.message.hasPrefix(prefix)
                ? "\(prefix)\(r.path).bus.\(error.message.dropFirst(prefix.count))"
                : "\(prefix)\(r.path).bus: \(error.message)"
            throw DaxError(error.errno, message)
        }
        let ld = device.hosts[Int(id)]
        let span = device.dpaSpan
        guard bus.regions.count == 1, let region = bus.regions.first, region.kind == .sparse, region.span == span,
              region.sparse.maxPerGroup == max(1, min(ld.maxExtents, RegionSpec.groupLimit)),
              region.sparse.maxExtents == max(1, min(ld.maxExtents, RegionSpec.extentLimit)),
              !region.sanitizeOnRelease else {
            throw r.bad("bus", "is not a fabric host's bus: one sparse region spanning the device's DPA range, max_extents and max_extents_per_group the LD's max_extents, no sanitize")
        }
        var outstanding: [UInt64: Int] = [:]
        for (i, x) in try r.array(doc, "outstanding").enumerated() {
            let sub = r.nested("outstanding[\(i)]")
            let request = try sub.uint(x, "request")
            guard request >= 1, outstanding.updateValue(try sub.int(x, "extents", 1...Int(Int32.max)), forKey: request) == nil else {
                throw sub.bad("request", "is 0 or listed twice")
            }
        }
        var tapped: [DaxEvent] = []
        for (i, x) in try r.array(doc, "tapped").enumerated() {
            var sub = r.nested("tapped[\(i)]")
            let event = try sub.event(x)
            guard event.kind == .released, event.regionId == region.id, event.requestId >= 1 else {
                throw sub.bad("kind", "is not a release event of the host's region")
            }
            tapped.append(event)
        }
        // Every release the host's bus completes or defers was asked for
        // by a device record (a host context cannot release capacity
        // itself), so it is reported when it completes: its request is
        // outstanding. One that is not would never be reported, and the
        // device would go on listing what the host gave back.
        for (i, event) in tapped.enumerated() where outstanding[event.requestId] == nil {
            throw r.nested("tapped[\(i)]").bad("request", "is not an outstanding release request of the host")
        }
        for extent in region.extents where extent.releaseRequest != 0 && outstanding[extent.releaseRequest] == nil {
            throw r.bad("outstanding", "lacks request \(extent.releaseRequest), which releases the host's extent at offset 0x\(String(extent.offset, radix: 16))")
        }
        // A request's count covers what it has still to report: its
        // extents still releasing and its completed releases not reported
        // yet. Fewer, and the count would run out while an extent of the
        // request is still releasing, which would then never be reported.
        var needed: [UInt64: Int] = [:]
        for extent in region.extents where extent.releaseRequest != 0 { needed[extent.releaseRequest, default: 0] += 1 }
        for event in tapped { needed[event.requestId, default: 0] += event.records.count }
        for (request, n) in needed where (outstanding[request] ?? 0) < n {
            throw r.bad("outstanding", "counts \(outstanding[request] ?? 0) extents for request \(request), which has \(n) still to report")
        }
        var stale = Set<DCRange>()
        for (i, x) in try r.array(doc, "stale_extents").enumerated() {
            let sub = r.nested("stale_extents[\(i)]")
            let range = try sub.range(x)
            guard let s = Span(start: range.dpa, length: range.length), span.contains(s), stale.insert(range).inserted else {
                throw sub.bad("dpa", "is not a range inside the device's DPA range, named once")
            }
        }
        var answers: [(HostAnswer, CXLReturnCode)] = []
        for (i, x) in try r.array(doc, "answers").enumerated() {
            let sub = r.nested("answers[\(i)]")
            var ranges: [DCRange] = []
            for (j, y) in try sub.array(x, "ranges").enumerated() { ranges.append(try sub.nested("ranges[\(j)]").range(y)) }
            let answer: HostAnswer
            switch try sub.string(x, "kind") {
            case "add_response": answer = .addResponse(host: id, accepted: ranges)
            case "release": answer = .release(host: id, extents: ranges)
            default: throw sub.bad("kind", "is not add_response or release")
            }
            guard let code = CXLReturnCode(rawValue: UInt16(truncatingIfNeeded: try sub.int(x, "code", 0...0xFFFF))) else {
                throw sub.bad("code", "is not a CXL return code")
            }
            answers.append((answer, code))
        }
        return FabricHost(restoring: id, device: device, bus: bus, region: region, outstanding: outstanding,
                          tapped: tapped, staleExtents: stale, answers: answers)
    }
}
