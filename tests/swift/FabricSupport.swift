import Testing
@testable import DaxModel

/// A fabric of `hosts` hosts over two 1 GiB DC regions: region 0 Sharable
/// and writable, region 1 Sharable and read-only (the spec's recipe for
/// initialise-then-share), 2 MiB blocks.
struct FabricFixture {
    static let mib: UInt64 = 1 << 20
    static let gib: UInt64 = 1 << 30
    static let base: UInt64 = 0x10_0000_0000
    let fabric: Fabric
    var dev: DCDevice { fabric.device }

    init(hosts: Int = 4, sharable: Bool = true, logDepth: Int = 64, maxExtents: Int = 512, maxTags: Int = 64,
         revoke: Bool = true, profile: FabricProfile = .spec, blockSize: UInt64 = 2 << 20,
         sanitize: Bool = false, configure: (inout DCDeviceSpec) -> Void = { _ in }) throws {
        var r0 = DCRegionSpec(base: Self.base, decodeLength: Self.gib, blockSize: blockSize)
        r0.sharable = sharable
        r0.sanitizeOnRelease = sanitize
        var r1 = DCRegionSpec(base: Self.base + Self.gib, decodeLength: Self.gib, blockSize: blockSize)
        r1.sharable = sharable
        r1.readOnly = true
        var spec = DCDeviceSpec(regions: [r0, r1], hostCount: hosts)
        spec.eventLogDepth = logDepth
        spec.maxExtentsPerHost = maxExtents
        spec.maxTagsPerHost = maxTags
        spec.profile = profile
        configure(&spec)
        fabric = try Fabric(spec, hostsRevokeOnForcedRelease: revoke)
    }

    static func tag(_ n: UInt8) -> DaxTag { DaxTag(bytes: [0xfa, n] + [UInt8](repeating: 0, count: 13) + [n]) ?? .untagged }

    static func ext(_ mibOffset: UInt64, _ mibs: UInt64, _ tag: DaxTag = .untagged, region: UInt64 = 0) -> DCExtentRecord {
        DCExtentRecord(dpa: base + region * gib + mibOffset * mib, length: mibs * mib, tag: tag)
    }

    /// The return code `body` gives (success when it does not throw).
    static func code(_ body: () throws -> Void) -> CXLReturnCode {
        do {
            try body()
            return .success
        } catch let e as FabricError {
            return e.code
        } catch {
            return .internalError
        }
    }

    @discardableResult
    func add(host: UInt16, _ policy: AddSelectionPolicy = .free, region: UInt8 = 0, mib: UInt64 = 0,
             tag: DaxTag = .untagged, extents: [DCExtentRecord] = []) -> CXLReturnCode {
        Self.code { try dev.initiateAdd(DCAddRequest(hostId: host, policy: policy, region: region, length: mib * Self.mib, tag: tag, extents: extents)) }
    }

    @discardableResult
    func release(host: UInt16, _ policy: RemovalPolicy = .tagBased, forced: Bool = false, sanitize: Bool = false,
                 tag: DaxTag = .untagged, length: UInt64 = 0, extents: [DCExtentRecord] = []) -> CXLReturnCode {
        Self.code { try dev.initiateRelease(DCReleaseRequest(hostId: host, policy: policy, forced: forced, sanitize: sanitize,
                                                             length: length, tag: tag, extents: extents)) }
    }

    func list(_ host: UInt16) -> [DCExtentRecord] {
        (try? dev.getExtentList(host: host, count: 1 << 20, startIndex: 0).extents) ?? []
    }

    func generation(_ host: UInt16) -> UInt32 { (try? dev.getExtentList(host: host, count: 0, startIndex: 0).generation) ?? 0 }

    func tagEntry(_ tag: DaxTag) -> TagListEntry? {
        (try? dev.listTags(startIndex: 0, maxTags: 1 << 16).entries)?.first { $0.tag == tag }
    }

    /// Drains the fabric manager's queue.
    func fmEvents() -> [DCEventRecord] {
        var out: [DCEventRecord] = []
        while let e = dev.nextFMEvent() { out.append(e) }
        return out
    }

    func check(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(dev.checkInvariants() == [], sourceLocation: sourceLocation)
        #expect(fabric.viewMismatches() == [], sourceLocation: sourceLocation)
        let c = dev.capacityTotals
        #expect(c.free + c.reserved + c.owned + c.shared == c.total, sourceLocation: sourceLocation)
    }
}
