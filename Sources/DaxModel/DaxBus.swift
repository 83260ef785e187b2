/// The model of one machine's DAX bus: its regions, their devices and
/// ranges. Pure and deterministic: no system calls, no clocks. Not
/// thread-safe by itself; the C ABI serializes calls with one lock per
/// context.
public final class DaxBus: @unchecked Sendable {
    /// What every object of this bus holds (see `ModelAnchor`): the
    /// embedder's object, which outlives the bus, or `ownAnchor`.
    public private(set) unowned(unsafe) var anchor: ModelAnchor
    /// The anchor of a bus nobody anchored (Swift users, tests).
    private var ownAnchor: ModelAnchor?
    var regionsById: [Int: Region] = [:]
    var sortedIds: [Int] = []
    /// Names written to device_dax/new_id (the 6.12 profile's match list).
    var driverIds: Set<String> = []
    /// Events not yet drained, from `eventHead` on.
    var events: [DaxEvent] = []
    var eventHead = 0
    /// A second reader's copy of the queue (see `tapEvents(of:)`): events
    /// of these kinds are also kept in `tapped`, so an embedded consumer
    /// (a fabric host watching its releases) never takes the user's events.
    var tapKinds: Set<DaxEvent.Kind>?
    var tapped: [DaxEvent] = []
    var nextRequestId: UInt64 = 1
    /// Set when released spans wait for sanitizing or a device lost
    /// memory to a revoke: the memory layer has work (`takeUpkeep`).
    public private(set) var upkeepPending = false
    /// Deleted devices and ranges and released extents whose address the
    /// embedder handed out (`handedOut`): kept until the model is torn
    /// down, so a pointer a caller was given never dangles while the
    /// context lives. Bounded by what was handed out.
    private(set) var retired: [AnyObject] = []
    /// Extents per non-null tag, host-wide.
    var tagUse: [DaxTag: Int] = [:]
    /// _ONCE warning sites that fired this boot (see DaxBus+Warnings).
    var warnedOnce: Set<KernelWarning.Site> = []
    /// The host was booted with panic_on_warn=1.
    public internal(set) var panicOnWarn = false
    /// The warning that panicked the host, if one did: the model then
    /// refuses every call (the C layer answers EHOSTDOWN).
    public internal(set) var panic: KernelWarning? {
        didSet { isPanicked = panic != nil }
    }
    /// `panic != nil`, as one byte: the C layer tests it on every call.
    public private(set) var isPanicked = false
    /// The kernel direct map's 2 MiB blocks (address >> 21) that failed
    /// probes left mapped; absent blocks are unmapped.
    var directMap: [UInt64: DirectMapBlock] = [:]
    /// The GiBs (address >> 30) that failed probes left mapped as one
    /// 1 GiB page; such a GiB has no entries in `directMap`. Any other GiB
    /// is a table of 2 MiB entries if `directMap` has a block in it, and
    /// unmapped if not.
    var directMapGiB: Set<UInt64> = []
    /// Warnings since the C layer last took them for its log.
    var unloggedWarnings: [KernelWarning] = []
    /// Devices in creation order (`Device.serial`): the order the driver
    /// core probes them in on a `new_id` write.
    var nextDeviceSerial: UInt64 = 0
    /// Invariant failures found by `verifyAfterCall` (debug builds only).
    public internal(set) var invariantViolations: [String] = []
    /// Postconditions that failed since the last `verifyAfterCall`
    /// (debug builds only; see DaxBus+Promises.swift).
    var brokenPromises: [String] = []

    /// A bus anchored to `anchor`, which must outlive it (an embedder
    /// that owns the bus); without one the bus makes and keeps its own.
    public init(anchor: ModelAnchor? = nil) {
        let own = anchor == nil ? ModelAnchor() : nil
        self.ownAnchor = own
        self.anchor = anchor ?? own ?? ModelAnchor()
    }

    /// Tells the memory layer whether it has work, and clears the flag.
    public func takeUpkeep() -> Bool {
        defer { upkeepPending = false }
        return upkeepPending
    }

    func needUpkeep() { upkeepPending = true }

    /// Keeps `object` (deleted or released) alive until teardown if its
    /// address was handed out.
    func retire(_ object: AnyObject, handedOut: Bool) {
        if handedOut { retired.append(object) }
    }

    /// Anchors an empty bus to its embedder, which must outlive it.
    /// Returns false, changing nothing, once the bus holds a region.
    @discardableResult
    public func anchor(to embedder: ModelAnchor) -> Bool {
        guard regionsById.isEmpty else { return false }
        anchor = embedder
        ownAnchor = nil
        return true
    }

    /// Regions in id order.
    public var regions: [Region] { sortedIds.compactMap { regionsById[$0] } }

    public func region(id: Int) -> Region? { regionsById[id] }

    /// The region with the lowest id.
    public var firstRegion: Region? { sortedIds.first.flatMap { regionsById[$0] } }

    /// The region after `region` in id order.
    public func region(after region: Region) -> Region? {
        let i = sortedIds.partitionPoint { $0 <= region.id }
        return i < sortedIds.count ? regionsById[sortedIds[i]] : nil
    }

    /// Adds a region as a producer driver's probe would, with its first
    /// device.
    /// - Throws: EINVAL (size 0, misaligned start or size, invalid align,
    ///   wrap past 2^64, idle static region, negative static device id or
    ///   region id, sparse limits out of range), EEXIST (id in use), EBUSY
    ///   (address overlap).
    @discardableResult
    public func addRegion(_ spec: RegionSpec) throws(DaxError) -> Region {
        if spec.kind == .sparse {
            guard (1...RegionSpec.groupLimit).contains(spec.maxExtentsPerGroup),
                  (1...RegionSpec.extentLimit).contains(spec.maxExtents) else {
                throw DaxError(.invalidArgument,
                               "sparse region limits must be 1...\(RegionSpec.groupLimit) extents per group and 1...\(RegionSpec.extentLimit) extents")
            }
        }
        guard Region.validAligns.contains(spec.align) else {
            throw DaxError(.invalidArgument, "region align \(spec.align) is not 4096, 2097152 or 1073741824")
        }
        guard spec.size > 0, spec.size % spec.align == 0, spec.start % spec.align == 0 else {
            throw DaxError(.invalidArgument, "region start and size must be non-zero multiples of align \(spec.align)")
        }
        guard let span = Span(start: spec.start, length: spec.size) else {
            throw DaxError(.invalidArgument, "region start + size passes 2^64")
        }
        guard RegionSpec.validNodes.contains(spec.targetNode), RegionSpec.validNodes.contains(spec.numaNode) else {
            throw DaxError(.invalidArgument, "region target_node \(spec.targetNode) or numa_node \(spec.numaNode) is not -1 or a node number")
        }
        if spec.kind == .staticRegion, spec.idle {
            throw DaxError(.invalidArgument, "a static region cannot start idle")
        }
        guard spec.staticDeviceId >= 0, spec.staticDeviceId <= Int(Int32.max) else {
            throw DaxError(.invalidArgument, "static device id \(spec.staticDeviceId) is out of range")
        }
        let id: Int
        if let wanted = spec.id {
            guard wanted >= 0, wanted <= Int(Int32.max) else {
                throw DaxError(.invalidArgument, "region id \(wanted) is out of range")
            }
            guard regionsById[wanted] == nil else { throw DaxError(.exists, "region\(wanted) already exists") }
            id = wanted
        } else {
            var candidate = 0
            for existing in sortedIds {
                if existing == candidate { candidate += 1 } else if existing > candidate { break }
            }
            id = candidate
        }
        if let other = regions.first(where: { $0.span.start <= span.last && span.start <= $0.span.last }) {
            throw DaxError(.busy, "\(span) overlaps \(other.name) at \(other.span)")
        }
        let region = Region(id: id, spec: spec, span: span, model: self)
        let deviceId = spec.kind == .staticRegion ? spec.staticDeviceId : 0
        // A sparse region's daxR.0 always starts at size 0: it has no capacity yet.
        region.addInitialDevice(id: deviceId, idle: spec.idle || spec.kind == .sparse, bound: !spec.unbound)
        regionsById[id] = region
        let at = sortedIds.firstIndex(where: { $0 > id }) ?? sortedIds.count
        sortedIds.insert(id, at: at)
        return region
    }

    /// The device called `name` ("daxR.N", a trailing newline allowed).
    public func device(named name: String) -> Device? {
        guard let (r, n) = SysfsName.parseDevice(Substring(name)) else { return nil }
        return regionsById[r]?.device(id: n)
    }

    /// A bus nobody tore down (a Swift user's) breaks its object links
    /// when it goes.
    deinit { tearDown() }

    /// Marks every region, device and range deleted; embedders holding
    /// references then see `isDeleted`.
    public func tearDown() {
        for region in regions { region.tearDown() }
        regionsById = [:]
        sortedIds = []
        retired = []
    }
}
