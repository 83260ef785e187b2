import DaxModelHeader
import Testing
@testable import DaxModel

/// The fabric's C API against the model it exposes: constants that must
/// be the model's raw values, the layout Swift sees of the libcxlmi-shaped
/// structs, and the fabric host's use of its bus's events (the C tests,
/// tests/c-abi/fabric*.c, cover the behaviour).
@Suite struct FabricCABITests {
    @Test("profile, return code, event type and policy constants are the model's raw values")
    func constants() {
        #expect(Int32(DAXM_FABRIC_PROFILE_SPEC) == FabricProfile.spec.rawValue)
        #expect(Int32(DAXM_FABRIC_PROFILE_QEMU) == FabricProfile.qemu.rawValue)
        #expect(Int32(DAXM_FABRIC_PROFILE_MHSLD) == FabricProfile.mhsld.rawValue)
        #expect(Int(DAXM_FABRIC_MAX_HOSTS) == FabricProfile.spec.maxHosts)
        let codes: [(Int32, CXLReturnCode)] = [
            (DAXM_CXL_RC_SUCCESS, .success), (DAXM_CXL_RC_INVALID_INPUT, .invalidInput),
            (DAXM_CXL_RC_UNSUPPORTED, .unsupported), (DAXM_CXL_RC_INTERNAL_ERROR, .internalError),
            (DAXM_CXL_RC_RETRY_REQUIRED, .retryRequired), (DAXM_CXL_RC_BUSY, .busy),
            (DAXM_CXL_RC_INVALID_PHYSICAL_ADDRESS, .invalidPhysicalAddress),
            (DAXM_CXL_RC_INVALID_SECURITY_STATE, .invalidSecurityState),
            (DAXM_CXL_RC_INVALID_PAYLOAD_LENGTH, .invalidPayloadLength),
            (DAXM_CXL_RC_RESOURCES_EXHAUSTED, .resourcesExhausted),
            (DAXM_CXL_RC_INVALID_EXTENT_LIST, .invalidExtentList),
        ]
        #expect(codes.count == CXLReturnCode.allCases.count)
        for (c, rc) in codes {
            #expect(c == Int32(rc.rawValue))
            #expect(daxm_retcode_tostr(c).map { String(cString: $0) } == rc.description)
        }
        let events: [(Int32, DCEventType)] = [
            (DAXM_DC_EVENT_ADD_CAPACITY, .addCapacity), (DAXM_DC_EVENT_RELEASE_CAPACITY, .releaseCapacity),
            (DAXM_DC_EVENT_FORCED_CAPACITY_RELEASE, .forcedCapacityRelease),
            (DAXM_DC_EVENT_REGION_CONFIG_UPDATED, .regionConfigurationUpdated),
            (DAXM_DC_EVENT_ADD_CAPACITY_RESPONSE, .addCapacityResponse),
            (DAXM_DC_EVENT_CAPACITY_RELEASED, .capacityReleased),
        ]
        #expect(events.count == DCEventType.allCases.count)
        for (c, t) in events { #expect(c == Int32(t.rawValue)) }
        #expect(Int32(AddSelectionPolicy.free.rawValue) == DAXM_FMAPI_SELECTION_POLICY_FREE)
        #expect(Int32(AddSelectionPolicy.contiguous.rawValue) == DAXM_FMAPI_SELECTION_POLICY_CONTIGUOUS)
        #expect(Int32(AddSelectionPolicy.prescriptive.rawValue) == DAXM_FMAPI_SELECTION_POLICY_PRESCRIPTIVE)
        #expect(Int32(AddSelectionPolicy.enableSharedAccess.rawValue) == DAXM_FMAPI_SELECTION_POLICY_ENABLE_SHARED_ACCESS)
        #expect(Int32(RemovalPolicy.tagBased.rawValue) == DAXM_FMAPI_REMOVAL_POLICY_TAG_BASED)
        #expect(Int32(RemovalPolicy.prescriptive.rawValue) == DAXM_FMAPI_REMOVAL_POLICY_PRESCRIPTIVE)
        let release = DCReleaseRequest(hostId: 0, policy: .tagBased, forced: true, sanitize: true)
        #expect(Int32(release.flags) == DAXM_FMAPI_RELEASE_FORCED | DAXM_FMAPI_RELEASE_SANITIZE)
    }

    /// Where a flexible array starts for the C layer (FmapiABI.flexOffset):
    /// the named fields' size rounded up to the entry's alignment. The C
    /// test checks offsetof == sizeof and these sizes on the C side.
    private func flexOffset<H, E>(_: H.Type, _: E.Type) -> Int {
        let a = MemoryLayout<E>.alignment
        return (MemoryLayout<H>.size + a - 1) / a * a
    }

    @Test("Swift sees the C layout: 40-byte extents, 84-byte tag entries, arrays after 40/24/16-byte headers")
    func layout() {
        #expect(MemoryLayout<daxm_fmapi_extent>.stride == 40)
        #expect(MemoryLayout<daxm_fmapi_dc_tag_info>.stride == 84)
        #expect(flexOffset(daxm_fmapi_initiate_dc_add_req.self, daxm_fmapi_extent.self) == 40)
        #expect(flexOffset(daxm_fmapi_initiate_dc_release_req.self, daxm_fmapi_extent.self) == 40)
        #expect(flexOffset(daxm_fmapi_get_dc_region_ext_list_rsp.self, daxm_fmapi_extent.self) == 24)
        #expect(flexOffset(daxm_fmapi_dc_list_tags_rsp.self, daxm_fmapi_dc_tag_info.self) == 16)
    }

    @Test("a fabric host leaves its bus's event queue to its user and still reports every release")
    func hostKeepsTheUsersQueue() throws {
        let f = try FabricFixture(hosts: 2)
        let tag = FabricFixture.tag(1)
        f.add(host: 0, .free, mib: 4, tag: tag)
        f.fabric.run()
        let host = try #require(f.fabric.host(0))
        // The user sees the group the host answered.
        let group = try #require(host.bus.nextEvent())
        #expect(group.kind == .groupAnswered && group.records.count == 1)
        #expect(host.bus.nextEvent() == nil)
        _ = f.fmEvents()
        // A device holds the tag: the manager's release is deferred.
        let dev = try host.region.createDevice()
        try dev.claimTag(tag)
        #expect(f.release(host: 0, tag: tag) == .success)
        f.fabric.run()
        #expect(host.bus.nextEvent()?.kind == .releaseDeferred)
        // The user drains the completion before any delivery...
        try dev.resize(to: 0)
        #expect(host.bus.nextEvent()?.kind == .released)
        #expect(host.bus.nextEvent() == nil && f.fmEvents().isEmpty)
        // ...and the device still hears it at the next delivery.
        f.fabric.run()
        let fm = f.fmEvents()
        #expect(fm.map(\.type) == [.capacityReleased] && fm.first?.hostId == 0)
        #expect(f.list(0).isEmpty && host.bus.tapped.isEmpty)
        f.check()
    }
}
