import Testing
@testable import DaxModel

/// Profiles (issue 15 item 4): every difference from `spec` tested
/// (`qemu`'s in FabricQemuTests).
@Suite struct FabricProfileTests {
    typealias F = FabricFixture

    @Test("mhsld: at most 8 heads, no Sharable region")
    func mhsldLimits() throws {
        #expect(F.code { _ = try F(hosts: 8, sharable: false, profile: .mhsld) } == .success)
        #expect(F.code { _ = try F(hosts: 9, sharable: false, profile: .mhsld) } == .invalidInput)
        #expect(F.code { _ = try F(hosts: 2, sharable: true, profile: .mhsld) } == .invalidInput)
        #expect(F.code { _ = try F(hosts: 9, sharable: true, profile: .spec) } == .success)
    }

    @Test("mhsld: Enable Shared Access is an unsupported policy; tag references and List Tags are Unsupported")
    func mhsldNoSharing() throws {
        let f = try F(hosts: 2, sharable: false, profile: .mhsld)
        f.add(host: 0, .free, mib: 2, tag: F.tag(1))
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, tag: F.tag(1)) == .invalidInput)
        #expect(F.code { try f.dev.addReference(tag: F.tag(1)) } == .unsupported)
        #expect(F.code { try f.dev.removeReference(tag: F.tag(1)) } == .unsupported)
        #expect(F.code { _ = try f.dev.listTags(startIndex: 0, maxTags: 1) } == .unsupported)
        #expect(f.dev.getDCDInfo().addSelectionPolicies == 0b111)
        f.check()
    }

    @Test("mhsld: ownership is exclusive, reserved at offer, reclaimed at response")
    func mhsldExclusive() throws {
        let f = try F(hosts: 2, sharable: false, profile: .mhsld)
        f.add(host: 0, .prescriptive, extents: [F.ext(0, 4), F.ext(8, 2)])
        #expect(f.dev.blockOwner(at: F.base) == .reserved(host: 0))
        #expect(f.add(host: 1, .prescriptive, extents: [F.ext(0, 2)]) == .invalidExtentList)
        // Host 0 answers with one extent only: the other is reclaimed.
        _ = try f.dev.takeEventRecords(host: 0)
        #expect(f.dev.answer(.addResponse(host: 0, accepted: [DCRange(dpa: F.base, length: 4 * F.mib)])) == .success)
        #expect(f.dev.blockOwner(at: F.base) == .owned(host: 0) && f.dev.blockOwner(at: F.base + 8 * F.mib) == .free)
        #expect(f.add(host: 1, .prescriptive, extents: [F.ext(8, 2)]) == .success)
    }
}
