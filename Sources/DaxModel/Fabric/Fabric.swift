/// A Dynamic Capacity device and its hosts: the device's fabric-manager
/// commands (on `device`), one host model per logical device, and the
/// delivery of messages between them.
///
/// Delivery is explicit (`run`, `deliver(to:)`): between calls an offer
/// stays pending, as on a real fabric while the host has not read its log,
/// so a fabric manager can act in that window (a forced release).
public final class Fabric {
    public let device: DCDevice
    public let hosts: [FabricHost]

    /// - Parameter hostsRevokeOnForcedRelease: hosts drop force-released
    ///   extents at once instead of ignoring them as Linux does.
    /// - Parameter hostBus: host `id`'s machine, an empty bus (an embedder
    ///   passes buses anchored to its per-host state).
    /// - Throws: the device's construction errors.
    public init(_ spec: DCDeviceSpec, hostsRevokeOnForcedRelease: Bool = false,
                hostBus: (UInt16) -> DaxBus = { _ in DaxBus() }) throws(FabricError) {
        device = try DCDevice(spec)
        var built: [FabricHost] = []
        // The device checked hostCount (1...256): every id fits UInt16.
        for h in 0..<spec.hostCount {
            let id = UInt16(truncatingIfNeeded: h)
            built.append(try FabricHost(id: id, device: device, maxExtents: spec.maxExtentsPerHost,
                                        revokeOnForcedRelease: hostsRevokeOnForcedRelease, bus: hostBus(id)))
        }
        hosts = built
    }

    /// A fabric rebuilt from a saved state (`Fabric+State.swift`), whose
    /// loader checked that the hosts belong to the device.
    init(restoredDevice device: DCDevice, hosts: [FabricHost]) {
        self.device = device
        self.hosts = hosts
    }

    public func host(_ id: UInt16) -> FabricHost? { Int(id) < hosts.count ? hosts[Int(id)] : nil }

    /// Lets host `id` read its log and answer. Returns the answers sent.
    @discardableResult
    public func deliver(to id: UInt16) -> Int { host(id)?.pump(device) ?? 0 }

    /// Delivers to every host until none has anything left to say.
    /// Returns the answers sent.
    @discardableResult
    public func run() -> Int { run { deliver(to: $0) } }

    /// `run`, with each delivery made by `deliver(hostId)` (an embedder
    /// that locks the host around `deliver(to:)`, or skips a host that is
    /// down, returning 0).
    @discardableResult
    public func run(delivering deliver: (UInt16) -> Int) -> Int {
        var total = 0
        for _ in 0..<8 {
            var sent = 0
            for host in hosts { sent += deliver(host.id) }
            total += sent
            if sent == 0, hosts.allSatisfy({ device.eventLogCount(host: $0.id) == 0 }) { break }
        }
        return total
    }

    /// Where a host's view differs from the device's extent list for it
    /// (extents a host kept after an ignored forced release aside). The
    /// host's extents are compared as the device files accepted ones: under
    /// `qemu` the host keeps the tag and sequence number it read in the Add
    /// Capacity record while the device lists a null tag and sequence 0.
    public func viewMismatches() -> [String] { hosts.flatMap { viewMismatches(of: $0) } }

    /// The internal check after a delivery to host `id` (its log is empty
    /// and its releases are reported): `viewMismatches()` for that host,
    /// unless forced removal left it unrepaired (Fabric/README.md): its log
    /// dropped a record, or it kept a stale extent.
    public func deliveryMismatches(host id: UInt16) -> [String] {
        guard let h = host(id), device.eventLogOverflows(host: id) == 0, h.staleExtents.isEmpty else { return [] }
        return viewMismatches(of: h)
    }

    private func viewMismatches(of host: FabricHost) -> [String] {
        let page = try? device.getExtentList(host: host.id, count: Int(UInt32.max), startIndex: 0)
        let deviceList = (page?.extents ?? []).sorted { $0.dpa < $1.dpa }
        let seen = host.view.filter { !host.staleExtents.contains(DCRange(dpa: $0.dpa, length: $0.length)) }
            .map(device.profile.acceptedRecord)
        guard seen != deviceList else { return [] }
        let only = seen.filter { !deviceList.contains($0) }, missing = deviceList.filter { !seen.contains($0) }
        return ["host \(host.id): sees \(only) the device does not list; misses \(missing)"]
    }
}
