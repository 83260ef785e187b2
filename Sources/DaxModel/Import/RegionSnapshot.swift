/// A region as read from a real `/sys/bus/dax` (or a captured copy of
/// one): what `daxm_ctx_import_sysfs` hands the model. Pure data; the
/// reading lives in the C ABI layer.
public struct RegionSnapshot: Sendable {
    public struct DeviceSnapshot: Sendable {
        public var id: Int
        public var align: UInt64
        public var bound: Bool
        /// (start, inclusive end, page_offset in pages), in mappingK order.
        public var ranges: [(start: UInt64, last: UInt64, pageOffset: UInt64)]
        /// The character device views should map (e.g. "/dev/dax0.1").
        public var path: [UInt8]?

        public init(id: Int, align: UInt64, bound: Bool,
                    ranges: [(start: UInt64, last: UInt64, pageOffset: UInt64)], path: [UInt8]?) {
            self.id = id
            self.align = align
            self.bound = bound
            self.ranges = ranges
            self.path = path
        }
    }

    public var spec: RegionSpec
    public var devices: [DeviceSnapshot]
    public var seed: Int?
    public var youngest: Int?

    public init(spec: RegionSpec, devices: [DeviceSnapshot], seed: Int?, youngest: Int?) {
        self.spec = spec
        self.devices = devices
        self.seed = seed
        self.youngest = youngest
    }
}

extension DaxBus {
    /// Adds a region exactly as a kernel reported it: its devices with their
    /// ids, ranges, page offsets, aligns and bound state, its seed and
    /// youngest device. Nothing is allocated by the model's own rules; the
    /// ranges are checked to be inside the region, disjoint, and laid out
    /// with running page offsets.
    /// - Throws: EINVAL (an inconsistent snapshot, named), EEXIST (region
    ///   id in use), EBUSY (overlaps a region), EOPNOTSUPP (sparse).
    @discardableResult
    public func importRegion(_ snapshot: RegionSnapshot) throws(DaxError) -> Region {
        let spec = snapshot.spec
        guard spec.kind != .sparse else { throw DaxError(.notSupported, "importing sparse regions is not supported") }
        guard let id = spec.id, id >= 0, id <= Int(Int32.max) else { throw DaxError(.invalidArgument, "import: region id is missing") }
        guard regionsById[id] == nil else { throw DaxError(.exists, "region\(id) already exists") }
        guard Region.validAligns.contains(spec.align), spec.size > 0,
              spec.start % spec.align == 0, spec.size % spec.align == 0,
              let span = Span(start: spec.start, length: spec.size) else {
            throw DaxError(.invalidArgument, "region\(id): start 0x\(String(spec.start, radix: 16)), size \(spec.size) or align \(spec.align) is not valid")
        }
        for (label, node) in [("target_node", spec.targetNode), ("numa_node", spec.numaNode)] where !RegionSpec.validNodes.contains(node) {
            throw DaxError(.invalidArgument, "region\(id): \(label) \(node) is not -1 or a node number up to \(Int32.max)")
        }
        if let other = regions.first(where: { $0.span.start <= span.last && span.start <= $0.span.last }) {
            throw DaxError(.busy, "region\(id): \(span) overlaps \(other.name)")
        }
        let region = Region(id: id, spec: spec, span: span, model: self)
        do {
            try fill(region, from: snapshot)
        } catch {
            // The half-built region and its devices hold each other: break
            // the links, or a refused import would leak them (and the
            // anchor they hold).
            region.tearDown()
            throw error
        }
        regionsById[id] = region
        sortedIds.insert(id, at: sortedIds.firstIndex { $0 > id } ?? sortedIds.count)
        return region
    }

    private func fill(_ region: Region, from snapshot: RegionSnapshot) throws(DaxError) {
        let spec = snapshot.spec, id = region.id
        for snap in snapshot.devices.sorted(by: { $0.id < $1.id }) {
            let name = "dax\(id).\(snap.id)"
            guard snap.id >= 0, snap.id <= Int(Int32.max), region.ids.claim(snap.id) else {
                throw DaxError(.invalidArgument, "\(name): device id is not valid or used twice")
            }
            guard Region.validAligns.contains(snap.align) else { throw DaxError(.invalidArgument, "\(name): align \(snap.align) is not valid") }
            let device = Device(id: snap.id, region: region)
            region.insert(device)
            device.align = snap.align
            device.path = snap.path
            for (k, r) in snap.ranges.enumerated() {
                guard r.pageOffset == device.size / DeviceRange.pageSize else {
                    throw DaxError(.invalidArgument, "\(name)/mapping\(k): page_offset 0x\(String(r.pageOffset, radix: 16)) is not the running sum")
                }
                guard let s = Span(start: r.start, last: r.last), device.allocRange(s, in: region) else {
                    throw DaxError(.invalidArgument, "\(name)/mapping\(k): 0x\(String(r.start, radix: 16))-0x\(String(r.last, radix: 16)) is not free inside region\(id)")
                }
            }
            guard !snap.bound || device.size > 0 else { throw DaxError(.invalidArgument, "\(name): bound at size 0") }
            device.isBound = snap.bound
        }
        if spec.kind == .staticRegion, region.devices.count != 1 || region.free.total != 0 {
            throw DaxError(.invalidArgument, "region\(id): a static region has exactly one device, over the whole region")
        }
        for (label, wanted) in [("seed", snapshot.seed), ("create", snapshot.youngest)] {
            guard let wanted else { continue }
            guard let device = region.device(id: wanted) else {
                throw DaxError(.invalidArgument, "region\(id)/\(label) names dax\(id).\(wanted), which is not listed")
            }
            if label == "seed" { region.seed = device } else { region.youngest = device }
        }
        let problems = region.checkInvariants()
        if let first = problems.first { throw DaxError(.invalidArgument, "import: \(first)") }
    }
}
