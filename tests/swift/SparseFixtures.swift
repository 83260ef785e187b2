import Testing
@testable import DaxModel

/// A sparse region of 1 GiB at 0x10_0000_0000 and helpers to offer
/// extents and read events, for the sparse-region tests.
struct SparseFixture {
    static let mib: UInt64 = 1 << 20
    static let tagA = DaxTag(uuidString: "aaaaaaaa-0000-4000-8000-000000000001")!
    static let tagB = DaxTag(uuidString: "bbbbbbbb-0000-4000-8000-000000000002")!
    static let tagC = DaxTag(uuidString: "cccccccc-0000-4000-8000-000000000003")!

    let model = DaxBus()
    let region: DaxModel.Region

    init(revoke: Bool = false, maxPerGroup: Int = 100, maxExtents: Int = 1 << 20) throws {
        var spec = RegionSpec(start: 0x10_0000_0000, size: 1 << 30)
        spec.kind = .sparse
        spec.id = 0
        spec.revokeOnForcedRelease = revoke
        spec.maxExtentsPerGroup = maxPerGroup
        spec.maxExtents = maxExtents
        region = try model.addRegion(spec)
    }

    /// An offer at `offsetMiB` of `lengthMiB`.
    static func offer(_ offsetMiB: UInt64, _ lengthMiB: UInt64, _ tag: DaxTag = .untagged, seq: UInt32 = 0) -> ExtentOffer {
        ExtentOffer(offset: offsetMiB * mib, length: lengthMiB * mib, tag: tag, sequence: seq)
    }

    /// Offers one closed group and returns its answer.
    @discardableResult
    func group(_ offers: [ExtentOffer], shareable: Bool = false) throws -> DaxEvent {
        let event = try region.offerExtents(offers, more: false, shareable: shareable)
        return try #require(event)
    }

    func drain() -> [DaxEvent] {
        var out: [DaxEvent] = []
        while let e = model.nextEvent() { out.append(e) }
        return out
    }

    /// A new device with `tag` selected.
    func device(tag: DaxTag?) throws -> Device {
        let d = try region.createDevice()
        try d.selectTag(tag)
        return d
    }

    func extent(at offsetMiB: UInt64) -> Extent? {
        region.extents.first { $0.offset == offsetMiB * Self.mib }
    }

    func check(_ comment: Comment? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(model.checkInvariants() == [], comment, sourceLocation: sourceLocation)
    }
}

/// Runs `body` and returns the errno it threw, nil if it did not throw.
func errnoOf(_ body: () throws -> Void) -> DaxErrno? {
    do { try body(); return nil } catch { return (error as? DaxError)?.errno ?? DaxErrno(rawValue: -1) }
}
