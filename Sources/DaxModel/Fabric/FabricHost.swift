/// One host of the fabric: an ordinary host model (its own `DaxBus`, since
/// each host is its own machine) whose sparse region is bound to one
/// logical device of the Dynamic Capacity device. The region spans the
/// device's DC DPA range, so a host address is the DPA itself.
///
/// The host talks to the device only in messages: it takes the records of
/// its DC event log (`DCEventRecord`) and feeds them to the region exactly
/// as the kernel's event handler would (`offerExtents`, `requestRelease`),
/// then sends the region's answers back as `HostAnswer`s. Every acceptance,
/// tag and refcount rule is therefore the host model's own.
///
/// The fabric host reads a copy of its bus's release events (the bus's
/// event tap), never the bus's queue, which stays whole for whoever uses
/// the host (an embedder's host context): a release deferred while a
/// device maps the extent completes later, when the last reference drops,
/// and is reported at the next `pump`.
public final class FabricHost {
    public let id: UInt16
    public let bus: DaxBus
    public let region: Region
    /// Per DC region: Sharable (groups then carry sequence numbers 0..n-1).
    private let sharable: [Bool]
    /// Release requests made from device records: extents still to report.
    private var outstanding: [UInt64: Int] = [:]
    /// Forced release requests (revoke mode) and the ranges the device
    /// already revoked: extents the host drops beyond those (the rest of
    /// a tag group) are reported as ordinary releases.
    private var forcedRequests: Set<UInt64> = []
    private var revokedByDevice: Set<DCRange> = []
    /// Extents the device revoked by force that this host kept: Linux logs
    /// and ignores a Forced Capacity Release, so its view goes stale.
    public private(set) var staleExtents: Set<DCRange> = []
    /// The answers sent since the last `takeAnswers`, with the device's
    /// return codes.
    public private(set) var answers: [(HostAnswer, CXLReturnCode)] = []

    /// Returns the answers sent since the last call and forgets them.
    public func takeAnswers() -> [(HostAnswer, CXLReturnCode)] {
        defer { answers = [] }
        return answers
    }

    /// Builds host `id` of `device`. With `revokeOnForcedRelease` the host
    /// drops force-released extents at once (the model's opt-in revoke
    /// mode); without, it ignores them as Linux does.
    /// `bus`: the host's machine, empty (an embedder passes one anchored
    /// to its own per-host state).
    init(id: UInt16, device: DCDevice, maxExtents: Int, revokeOnForcedRelease: Bool,
         bus: DaxBus = DaxBus()) throws(FabricError) {
        self.id = id
        self.bus = bus
        bus.tapEvents(of: [.released])
        var spec = RegionSpec(start: device.dpaSpan.start, size: device.dpaSpan.length)
        spec.kind = .sparse
        // The device never offers a host more extents than its budget, so
        // a group can never pass the region's per-group limit.
        spec.maxExtentsPerGroup = max(1, min(maxExtents, RegionSpec.groupLimit))
        spec.maxExtents = max(1, min(maxExtents, RegionSpec.extentLimit))
        spec.revokeOnForcedRelease = revokeOnForcedRelease
        // The device sanitizes released capacity (DCDevice.sanitizedSpans);
        // the host model keeps no list of spans for a memory layer.
        spec.sanitizeOnRelease = false
        do {
            region = try bus.addRegion(spec)
        } catch {
            throw FabricError(.internalError, "host \(id): \(error)")
        }
        region.boundToFabric = true
        sharable = (0..<device.regionCount).map { device.regionSpec($0)?.sharable ?? false }
    }

    /// Rebuilds host `id` of `device` from a saved state
    /// (`Fabric+State.swift`): `bus` is the restored bus and `region` its
    /// one sparse region; the rest is the bookkeeping the host carried
    /// between two `pump`s (the forced requests and revoked ranges only
    /// live during one `pump`, so a saved host has none).
    /// `tapped`: the release events the bus completed that the host has
    /// not reported yet (its event tap).
    init(restoring id: UInt16, device: DCDevice, bus: DaxBus, region: Region, outstanding: [UInt64: Int],
         tapped: [DaxEvent], staleExtents: Set<DCRange>, answers: [(HostAnswer, CXLReturnCode)]) {
        self.id = id
        self.bus = bus
        bus.tapEvents(of: [.released])
        bus.tapped = tapped
        self.region = region
        region.boundToFabric = true
        sharable = (0..<device.regionCount).map { device.regionSpec($0)?.sharable ?? false }
        self.outstanding = outstanding
        self.staleExtents = staleExtents
        self.answers = answers
    }

    /// Release requests made from device records whose extents are not
    /// all reported yet: extents still to report, by request id (saved state).
    var outstandingReleases: [UInt64: Int] { outstanding }

    /// This host's extents as it sees them (accepted and releasing), by DPA.
    public var view: [DCExtentRecord] {
        region.extents.map {
            DCExtentRecord(dpa: $0.start, length: $0.length, tag: $0.tag, sequence: UInt16(truncatingIfNeeded: $0.sequence))
        }.sorted { $0.dpa < $1.dpa }
    }

    /// Takes this host's DC event log and answers it, then reports the
    /// releases that completed on the host since. Returns the answers sent.
    @discardableResult
    public func pump(_ device: DCDevice) -> Int {
        let before = answers.count
        let records = (try? device.takeEventRecords(host: id)) ?? []
        // Every range this batch revokes, before a tag group's first
        // record drops the others with it.
        for r in records where r.type == .forcedCapacityRelease {
            revokedByDevice.insert(DCRange(dpa: r.extent.dpa, length: r.extent.length))
        }
        defer { revokedByDevice = [] }
        for record in records {
            handle(record, device)
            drain(device)
        }
        drain(device)
        return answers.count - before
    }

    private func send(_ answer: HostAnswer, _ device: DCDevice) -> CXLReturnCode {
        let code = device.answer(answer)
        answers.append((answer, code))
        return code
    }

    private func offset(_ dpa: UInt64) -> UInt64 { dpa &- region.start }

    private func handle(_ record: DCEventRecord, _ device: DCDevice) {
        let e = record.extent
        switch record.type {
        case .addCapacity:
            let offer = ExtentOffer(offset: offset(e.dpa), length: e.length, tag: e.tag, sequence: UInt32(e.sequence))
            let shareable = sharable.indices.contains(Int(record.regionIndex)) && sharable[Int(record.regionIndex)]
            let answer: DaxEvent?
            do {
                answer = try region.offerExtents([offer], more: record.more, shareable: shareable)
            } catch {
                // Unreachable (see init); a closing record still gets an answer.
                answer = record.more ? nil : region.closeGroup()
            }
            guard let answer else { return }
            let accepted = answer.records.filter { $0.result == nil }
            let ranges = accepted.map { DCRange(dpa: region.start &+ $0.offset, length: $0.length) }
            let code = send(.addResponse(host: id, accepted: ranges), device)
            if code == .success {
                // A stale or revoked extent offered again and accepted
                // again is live once more.
                for r in ranges {
                    staleExtents.remove(r)
                    revokedByDevice.remove(r)
                }
            } else {
                // The device refused the answer (a dead offer): the kernel
                // unwinds what it accepted.
                for r in accepted where region.extent(atOffset: r.offset) != nil {
                    _ = try? region.requestRelease(offset: r.offset, length: r.length, tag: r.tag)
                }
            }
        case .releaseCapacity:
            guard region.extent(atOffset: offset(e.dpa)) != nil,
                  let events = try? region.requestRelease(offset: offset(e.dpa), length: e.length, tag: e.tag) else { return }
            for ev in events where ev.kind == .released || ev.kind == .releaseDeferred {
                outstanding[ev.requestId, default: 0] += ev.records.count
            }
        case .forcedCapacityRelease:
            guard region.extent(atOffset: offset(e.dpa)) != nil,
                  let events = try? region.requestRelease(offset: offset(e.dpa), length: e.length, tag: e.tag, forced: true) else { return }
            let range = DCRange(dpa: e.dpa, length: e.length)
            if events.contains(where: { $0.kind == .forcedReleaseIgnored }) {
                staleExtents.insert(range)
            } else {
                for ev in events { forcedRequests.insert(ev.requestId) }
            }
        case .regionConfigurationUpdated, .addCapacityResponse, .capacityReleased:
            break
        }
    }

    /// Reports the host's completed releases (Release Dynamic Capacity),
    /// except extents the device already took back by force: those this
    /// batch revokes (a revoking host dropped them, or a release the host
    /// deferred completed before it read the record) and those a Linux
    /// host kept after ignoring a forced release (`staleExtents`). The
    /// device no longer lists them, so naming them would make it refuse
    /// the whole answer and keep the other extents the host gave back.
    private func drain(_ device: DCDevice) {
        for ev in bus.takeTapped() {
            guard ev.kind == .released else { continue }
            var ranges = ev.records.map { DCRange(dpa: region.start &+ $0.offset, length: $0.length) }
            if let n = outstanding[ev.requestId] {
                outstanding[ev.requestId] = n - ev.records.count > 0 ? n - ev.records.count : nil
            } else if !forcedRequests.contains(ev.requestId) {
                continue
            }
            ranges.removeAll { revokedByDevice.remove($0) != nil || staleExtents.remove($0) != nil }
            if !ranges.isEmpty { _ = send(.release(host: id, extents: ranges), device) }
        }
        forcedRequests = []
    }
}
