// DaxctlCreateTests.swift - ndctl's test/daxctl-create.sh, as the
// statements of reference/ndctl.md §3.3 (DC-01..DC-38, SD-01..SD-04,
// NF-01..NF-09, with the corrections at the top of ndctl.md), replayed
// through the C API the way libdaxctl drives the kernel:
//   create-device  = region create, take the seed, [set align], set size
//                    (or one mapping write per --input range), enable;
//   destroy-device = disable, size 0, delete (daxR.0's EBUSY is ignored);
//   clear_dev      = disable daxR.0, size 0.
// Every layout is checked exactly (start, end, page_offset of each range),
// and errnos are the kernel's (libdaxctl would squash set_size to ENXIO).
// Each test runs for both profiles and for two regions: one with 1 GiB or
// more available (test 6 then uses -a 1G) and one smaller (-a 2M).

import DaxModelHeader
import Testing

/// The region the script runs on (the cxl_test region in ndctl's CI).
struct CreateRegion: Sendable, CustomTestStringConvertible {
    let start: UInt64
    let size: UInt64
    var testDescription: String { "region \(size / MiB) MiB at \(hexText(start))" }

    static let all = [
        CreateRegion(start: 0x10_0000_0000, size: 2 * GiB), // 1 GiB aligned, A >= 1 GiB
        CreateRegion(start: 0x1_2000_0000, size: 512 * MiB), // A < 1 GiB
    ]
}

/// daxctl on one region, through the C API.
struct Daxctl {
    let ctx: ABICtx
    let r: ABIRegion
    var A: UInt64 { r.size }

    func dev(_ n: Int) -> OpaquePointer? { ctx.dev(r.name(n)) }
    func name(_ n: Int) -> String { r.name(n) }
    func addr(_ off: UInt64) -> UInt64 { r.start + off }
    /// A range at region offset @off of @len bytes, pgoff in pages.
    func span(_ off: UInt64, _ len: UInt64, pgoffBytes: UInt64) -> MapRange {
        MapRange.at(r.start + off, len: len, pgoff: pgoffBytes / kernelPageSize)
    }

    /// `daxctl create-device -r R [-s size] [-a align]` (ndctl.md §2.2).
    func createDevice(size: UInt64? = nil, align: UInt64? = nil) -> (Err, String?) {
        daxctlCreate(r, size: size, align: align)
    }

    /// `daxctl create-device --input file`: mappings applied in page_offset order.
    func createDevice(input: DevSnapshot) -> (Err, String?) {
        let rc = daxm_region_create_dev(r.raw, nil)
        if rc != 0 { return (Err(rc: rc), nil) }
        guard let dev = daxm_region_get_dev_seed(r.raw) else { return (.ENOSPC, nil) }
        let name = String(cString: daxm_dev_get_devname(dev))
        let e0 = Err(rc: daxm_dev_set_align(dev, input.align))
        if e0 != .OK { return (e0, name) }
        var alloc: UInt64 = 0
        for m in input.ranges.sorted(by: { $0.pgoff < $1.pgoff }) {
            let e = Err(rc: daxm_dev_set_mapping(dev, m.start, m.end))
            if e != .OK { return (e, name) }
            alloc += m.len
        }
        if alloc == input.size {
            let e = Err(rc: daxm_dev_set_size(dev, input.size))
            if e != .OK { return (e, name) }
        }
        return (Err(rc: daxm_dev_enable(dev)), name)
    }

    @discardableResult func disable(_ n: String) -> Err { daxctlDisable(ctx.dev(n)) }
    @discardableResult func enable(_ n: String) -> Err { Err(rc: daxm_dev_enable(ctx.dev(n))) }

    /// `daxctl destroy-device [-f] NAME`: an enabled device without --force
    /// is refused by daxctl before any kernel call ("is active").
    @discardableResult func destroy(_ n: String, force: Bool = false) -> Err {
        guard let d = ctx.dev(n) else { return .ENODEV }
        if daxm_dev_is_enabled(d) == 1 && !force { return .ENXIO }
        return daxctlDestroy(r, d)
    }

    /// `daxctl reconfigure-device -s SIZE NAME`.
    @discardableResult func resize(_ n: String, _ size: UInt64) -> Err {
        Err(rc: daxm_dev_set_size(ctx.dev(n), size))
    }

    func disableAll() { for n in r.deviceNames { #expect(disable(n) == .OK, "disable \(n)") } }
    func destroyAll() { for n in r.deviceNames { #expect(destroy(n) == .OK, "destroy \(n)") } }

    /// clear_dev: disable daxR.0, resize it to 0.
    func clearDev(sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(disable(name(0)) == .OK, sourceLocation: sourceLocation)
        #expect(resize(name(0), 0) == .OK, sourceLocation: sourceLocation)
    }

    /// Idle devices (size 0) other than daxR.0: what `daxctl list -i` adds.
    var idleDevices: [String] { r.deviceNames.filter { $0 != name(0) && ctx.size($0) == 0 } }

    /// The script's setup: daxR.0 forced to devdax, disabled, resized to 0.
    static func setUp(_ c: CreateRegion, _ p: ABIProfile, sourceLocation: SourceLocation = #_sourceLocation) throws -> Daxctl {
        let ctx = try ABICtx()
        let r = try ctx.region(profile: p, start: c.start, size: c.size, targetNode: 0)
        let d = Daxctl(ctx: ctx, r: r)
        d.clearDev(sourceLocation: sourceLocation)
        #expect(r.available == c.size, "DC-03", sourceLocation: sourceLocation)
        return d
    }
}

@Suite("ndctl test/daxctl-create.sh (ndctl.md §3.3)")
struct DaxctlCreateTests {

    @Test("DC-01..DC-03 setup: daxR.0 is not idle; devdax; disabled and resized to 0", arguments: CreateRegion.all, ABIProfile.allCases)
    func setup(_ c: CreateRegion, _ p: ABIProfile) throws {
        let ctx = try ABICtx()
        let r = try ctx.region(profile: p, start: c.start, size: c.size, targetNode: 0)
        let d = Daxctl(ctx: ctx, r: r)
        // DC-01: at least one device; daxR.0 has >= 1 mapping, Σ mapping sizes = size > 0.
        let r0 = try #require(ctx.ranges(d.name(0)))
        #expect(r0.count >= 1, "DC-01")
        #expect(r0.reduce(0) { $0 + $1.len } == ctx.size(d.name(0)), "DC-01")
        #expect((ctx.size(d.name(0)) ?? 0) > 0, "DC-01")
        // DC-02: devdax mode, i.e. bound to device_dax.
        #expect(ctx.enabled(d.name(0)) == true, "DC-02")
        // DC-03
        d.clearDev()
        #expect(r.available == c.size, "DC-03")
        #expect(ctx.size(d.name(0)) == 0, "DC-03")
        #expect(ctx.dev(d.name(0)) != nil, "DC-03: daxR.0 still exists")
        #expect(ctx.enabled(d.name(0)) == false, "DC-03")
        r.checkInvariants()
    }

    @Test("DC-04 test 0: disabling a disabled device and resizing a 0-size device to 0 succeed", arguments: CreateRegion.all, ABIProfile.allCases)
    func test0(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        #expect(d.disable(d.name(0)) == .OK, "libdaxctl's disable is a no-op here")
        #expect(d.resize(d.name(0), 0) == .OK)
        #expect(d.r.available == d.A)
    }

    @Test("DC-05..DC-08 test 1: a device over the whole region", arguments: CreateRegion.all, ABIProfile.allCases)
    func test1(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let (e, n) = d.createDevice()
        #expect(e == .OK, "DC-05: \(abiLastError())")
        #expect(n == d.name(1), "DC-05")
        #expect(d.ctx.size(d.name(1)) == d.A, "DC-05")
        #expect(d.ctx.enabled(d.name(1)) == true, "DC-05: devdax, no 'state' key")
        expectRanges(d.ctx, d.name(1), [d.span(0, d.A, pgoffBytes: 0)], "DC-06")
        #expect(d.r.available == 0, "DC-07")
        #expect(d.disable(d.name(1)) == .OK, "DC-08")
        #expect(d.destroy(d.name(1)) == .OK, "DC-08")
        #expect(d.ctx.dev(d.name(1)) == nil, "DC-08")
        #expect(d.r.available == d.A, "DC-08")
        d.r.checkInvariants()
    }

    @Test("DC-09..DC-16 test 2: space in the middle and at the end (s = A/4)", arguments: CreateRegion.all, ABIProfile.allCases)
    func test2(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let s = d.A / 4
        #expect(d.resize(d.name(0), s) == .OK, "DC-09")
        expectRanges(d.ctx, d.name(0), [d.span(0, s, pgoffBytes: 0)], "DC-09")
        #expect(d.ctx.enabled(d.name(0)) == false, "DC-09")
        let (e1, n1) = d.createDevice(size: s)
        #expect(e1 == .OK && n1 == d.name(1), "DC-10")
        expectRanges(d.ctx, d.name(1), [d.span(s, s, pgoffBytes: 0)], "DC-10")
        let (e2, n2) = d.createDevice(size: s)
        #expect(e2 == .OK && n2 == d.name(2), "DC-11")
        expectRanges(d.ctx, d.name(2), [d.span(2 * s, s, pgoffBytes: 0)], "DC-11")
        #expect(d.disable(d.name(1)) == .OK, "DC-12")
        #expect(d.destroy(d.name(1)) == .OK, "DC-12")
        #expect(d.ctx.dev(d.name(1)) == nil, "DC-12")
        #expect(d.r.available == 2 * s, "DC-12")
        let (e3, n3) = d.createDevice(size: 2 * s)
        #expect(e3 == .OK, "DC-13: \(abiLastError())")
        #expect(n3 == d.name(1), "DC-13: lowest free id")
        expectRanges(d.ctx, d.name(1), [d.span(s, s, pgoffBytes: 0), d.span(3 * s, s, pgoffBytes: s)], "DC-13")
        #expect(d.r.available == 0, "DC-14")
        d.r.checkInvariants("DC-14")
        d.disableAll()
        d.destroyAll()
        #expect(d.r.deviceNames == [d.name(0)], "DC-15: daxR.1 and daxR.2 deleted")
        #expect(d.ctx.size(d.name(0)) == 0, "DC-15: daxR.0 shrunk to 0")
        #expect(d.r.delete(d.name(0)) == .EBUSY, "DC-15: the kernel keeps id 0")
        d.clearDev()
        #expect(d.r.available == d.A, "DC-16")
    }

    @Test("DC-17..DC-20 test 3: space at the beginning and at the end (s = A/4)", arguments: CreateRegion.all, ABIProfile.allCases)
    func test3(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let s = d.A / 4
        for i in 1...3 {
            let (e, n) = d.createDevice(size: s)
            #expect(e == .OK && n == d.name(i), "DC-17")
            expectRanges(d.ctx, d.name(i), [d.span(UInt64(i - 1) * s, s, pgoffBytes: 0)], "DC-17")
        }
        #expect(d.destroy(d.name(1), force: true) == .OK, "DC-18")
        #expect(d.r.available == 2 * s, "DC-18")
        let (e, n) = d.createDevice(size: 2 * s)
        #expect(e == .OK && n == d.name(1), "DC-19: \(abiLastError())")
        expectRanges(d.ctx, d.name(1), [d.span(0, s, pgoffBytes: 0), d.span(3 * s, s, pgoffBytes: s)], "DC-19")
        #expect(d.r.available == 0, "DC-19")
        d.r.checkInvariants("DC-19")
        d.disableAll()
        d.destroyAll()
        d.clearDev()
        #expect(d.r.available == d.A, "DC-20")
        #expect(d.r.deviceNames == [d.name(0)], "DC-20")
    }

    /// Test 4's layout (s = A/8): daxR.0 and daxR.1 grown alternately to 4s.
    private func interleave(_ d: Daxctl) {
        let s = d.A / 8
        #expect(d.resize(d.name(0), s) == .OK, "DC-21")
        expectRanges(d.ctx, d.name(0), [d.span(0, s, pgoffBytes: 0)], "DC-21")
        let (e, n) = d.createDevice(size: s)
        #expect(e == .OK && n == d.name(1), "DC-21")
        expectRanges(d.ctx, d.name(1), [d.span(s, s, pgoffBytes: 0)], "DC-21")
        #expect(d.disable(d.name(1)) == .OK, "DC-21")
        #expect(d.ctx.enabled(d.name(1)) == false, "DC-21")
        #expect(d.resize(d.name(0), 2 * s) == .OK, "DC-22")
        expectRanges(d.ctx, d.name(0), [d.span(0, s, pgoffBytes: 0), d.span(2 * s, s, pgoffBytes: s)],
                     "DC-22: a new range, not an extension into daxR.1")
        #expect(d.resize(d.name(1), 2 * s) == .OK, "DC-23")
        for i: UInt64 in 3...4 {
            #expect(d.resize(d.name(0), i * s) == .OK, "DC-23")
            #expect(d.resize(d.name(1), i * s) == .OK, "DC-23")
        }
        expectRanges(d.ctx, d.name(0), (0..<4).map { k in d.span(2 * k * s, s, pgoffBytes: k * s) }, "DC-23/24")
        expectRanges(d.ctx, d.name(1), (0..<4).map { k in d.span((2 * k + 1) * s, s, pgoffBytes: k * s) }, "DC-23/24")
        #expect(d.ctx.size(d.name(0)) == 4 * s && d.ctx.size(d.name(1)) == 4 * s, "DC-24")
        #expect(d.r.available == 0, "DC-25")
        d.r.checkInvariants("DC-25")
    }

    @Test("DC-21..DC-26 test 4: repeated growth of two devices interleaves them (s = A/8)", arguments: CreateRegion.all, ABIProfile.allCases)
    func test4(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        interleave(d)
        #expect(d.destroy(d.name(1)) == .OK, "DC-26")
        d.clearDev()
        #expect(d.r.available == d.A, "DC-26")
    }

    @Test("DC-27..DC-32 test 5: adjusting towards the beginning and towards the end (s = A/4)", arguments: CreateRegion.all, ABIProfile.allCases)
    func test5(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let s = d.A / 4
        for i in 1...4 {
            let (e, n) = d.createDevice(size: s)
            #expect(e == .OK && n == d.name(i), "DC-27")
            expectRanges(d.ctx, d.name(i), [d.span(UInt64(i - 1) * s, s, pgoffBytes: 0)], "DC-27")
        }
        let byName = try #require(daxm_dev_get_by_name(d.ctx.raw, d.name(1)), "DC-28")
        #expect(String(cString: daxm_dev_get_devname(byName)) == d.name(1), "DC-28")
        #expect(daxm_dev_get_region(byName) == d.r.raw, "DC-28")
        #expect(d.destroy(d.name(1), force: true) == .OK, "DC-29")
        #expect(d.destroy(d.name(4), force: true) == .OK, "DC-29")
        #expect(d.r.available == 2 * s, "DC-29")
        #expect(d.disable(d.name(2)) == .OK, "DC-30")
        #expect(d.resize(d.name(2), 2 * s) == .OK, "DC-30")
        expectRanges(d.ctx, d.name(2), [d.span(s, s, pgoffBytes: 0), d.span(0, s, pgoffBytes: s)], "DC-30")
        #expect(d.disable(d.name(3)) == .OK, "DC-31")
        #expect(d.resize(d.name(3), 2 * s) == .OK, "DC-31")
        expectRanges(d.ctx, d.name(3), [d.span(2 * s, 2 * s, pgoffBytes: 0)], "DC-31: extended in place")
        #expect(d.r.available == 0, "DC-32")
        d.r.checkInvariants("DC-32")
        #expect(d.destroy(d.name(3)) == .OK, "DC-32")
        #expect(d.destroy(d.name(2)) == .OK, "DC-32")
        d.clearDev()
        #expect(d.r.available == d.A, "DC-32")
    }

    @Test("DC-33..DC-34 test 6: create with an align", arguments: CreateRegion.all, ABIProfile.allCases)
    func test6(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let (size, align) = d.A >= GiB ? (GiB, GiB) : (d.A, 2 * MiB)
        let (e, n) = d.createDevice(size: size, align: align)
        #expect(e == .OK, "DC-33: \(abiLastError())")
        let name = try #require(n)
        #expect(d.ctx.align(name) == align, "DC-33")
        #expect(d.ctx.size(name) == size, "DC-33")
        expectRanges(d.ctx, name, [d.span(0, size, pgoffBytes: 0)], "DC-33")
        #expect(d.ctx.enabled(name) == true, "DC-33")
        #expect(d.disable(name) == .OK, "DC-34")
        #expect(d.destroy(name) == .OK, "DC-34")
        d.clearDev()
        #expect(d.r.available == d.A, "DC-34")
    }

    @Test("DC-35..DC-38 test 7: recreate a device from its saved mappings; final reset", arguments: CreateRegion.all, ABIProfile.allCases)
    func test7(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        interleave(d)
        let saved = try #require(d.r.state(d.name(1)), "DC-35")
        #expect(saved.ranges.count == 4 && saved.size == d.A / 2, "DC-35")
        #expect(d.r.available == 0, "DC-35")
        #expect(d.destroy(d.name(1)) == .OK, "DC-36")
        let (e, n) = d.createDevice(input: saved)
        #expect(e == .OK, "DC-36: \(abiLastError())")
        #expect(n == d.name(1), "DC-36: lowest free id")
        let again = try #require(d.r.state(d.name(1)))
        #expect(again.ranges == saved.ranges, "DC-36: the same 4 ranges, start/end/page_offset")
        #expect(again.size == d.A / 2 && again.align == saved.align, "DC-36")
        #expect(again.enabled, "DC-37")
        d.r.checkInvariants("DC-37")
        // DC-38: final reset.
        #expect(d.destroy(d.name(1), force: true) == .OK)
        d.clearDev()
        #expect(d.disable(d.name(0)) == .OK, "DC-38")
        #expect(d.resize(d.name(0), d.A) == .OK, "DC-38")
        #expect(d.enable(d.name(0)) == .OK, "DC-38")
        expectRanges(d.ctx, d.name(0), [d.span(0, d.A, pgoffBytes: 0)], "DC-38")
        #expect(d.ctx.enabled(d.name(0)) == true, "DC-38")
        #expect(d.r.available == 0, "DC-38")
    }

    // MARK: seed and ids

    @Test("SD-01..SD-03 seed and ids", arguments: CreateRegion.all, ABIProfile.allCases)
    func seedAndIds(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        var out: OpaquePointer? = nil
        #expect(daxm_region_create_dev(d.r.raw, &out) == 0, "SD-01")
        let seed = try #require(daxm_region_get_dev_seed(d.r.raw), "SD-01")
        #expect(seed == out, "SD-01: the seed is the new device")
        #expect(daxm_dev_get_size(seed) == 0, "SD-01")
        #expect(d.idleDevices == [d.name(1)], "SD-01")
        #expect(daxm_dev_set_size(seed, d.A / 2) == 0, "SD-02")
        #expect(daxm_dev_enable(seed) == 0, "SD-02")
        #expect(daxm_region_get_dev_seed(d.r.raw) == nil, "SD-02")
        #expect(d.r.text("seed") == "\n", "SD-02")
        #expect(d.destroy(d.name(1), force: true) == .OK, "SD-02")
        #expect(d.idleDevices.isEmpty, "SD-02: no idle devices remain")
        #expect(d.r.deviceNames == [d.name(0)], "SD-02")
        let (e, n) = d.createDevice(size: 2 * MiB)
        #expect(e == .OK && n == d.name(1), "SD-03: the destroyed id is handed out again")
    }

    @Test("SD-04 a create that fails after the seed exists leaves it; later creates size the older seed", arguments: CreateRegion.all, ABIProfile.allCases)
    func failedCreate(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let (e1, n1) = d.createDevice(size: 3 * MiB)
        #expect(e1 == .EINVAL, "SD-04: the kernel's errno (daxctl prints ENXIO)")
        #expect(n1 == d.name(1))
        #expect(d.idleDevices == [d.name(1)])
        let (e2, n2) = d.createDevice(size: 2 * MiB, align: 12345)
        #expect(e2 == .EINVAL, "SD-04: failed to set align")
        #expect(n2 == d.name(1), "SD-04: the seed is still the first idle device")
        #expect(d.idleDevices == [d.name(1), d.name(2)], "SD-04: one more idle device")
        #expect(d.r.seed == d.name(1))
        #expect(d.r.youngest == d.name(2))
        let (e3, n3) = d.createDevice(size: 4 * MiB)
        #expect(e3 == .OK && n3 == d.name(1), "SD-04: the older seed gets sized")
        #expect(d.ctx.size(d.name(1)) == 4 * MiB)
        #expect(d.idleDevices == [d.name(2), d.name(3)], "SD-04")
        #expect(d.r.seed == "", "SD-04: seed cleared by the enable, not handed on")
        let (e4, n4) = d.createDevice(size: 2 * MiB)
        #expect(e4 == .OK && n4 == d.name(4), "SD-04: a new create while no seed exists sets it")
        #expect(d.idleDevices == [d.name(2), d.name(3)])
        d.r.checkInvariants()
    }

    // MARK: expected failures

    @Test("NF-01 create-device on a full region: create fails ENOSPC and leaves nothing", arguments: CreateRegion.all, ABIProfile.allCases)
    func fullRegion(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let (e, _) = d.createDevice()
        #expect(e == .OK)
        let before = d.r.deviceNames
        let (e2, n2) = d.createDevice(size: 2 * MiB)
        #expect(e2 == .ENOSPC && n2 == nil, "NF-01")
        #expect(d.r.deviceNames == before, "NF-01: nothing left behind")
        #expect(d.r.write("create", "1") == .ENOSPC, "NF-01")
    }

    @Test("NF-02..NF-03 resize errors: enabled EBUSY; misaligned EINVAL; too large ENOSPC", arguments: CreateRegion.all, ABIProfile.allCases)
    func resizeErrors(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let (e, n) = d.createDevice(size: 4 * MiB)
        #expect(e == .OK)
        let name = try #require(n)
        #expect(d.resize(name, 8 * MiB) == .EBUSY, "NF-02 (libdaxctl: ENXIO)")
        #expect(d.resize(name, 4 * MiB) == .EBUSY, "NF-02: even the current size")
        #expect(d.disable(name) == .OK)
        #expect(d.resize(name, 5 * MiB) == .EINVAL, "NF-03")
        #expect(Err(rc: daxm_dev_set_align(d.ctx.dev(name), 4096)) == .OK)
        #expect(d.resize(name, 4 * MiB + 4096) == .EINVAL, "NF-03: 2 MiB granularity with align 4K")
        #expect(d.resize(name, d.A + 2 * MiB) == .ENOSPC, "NF-03")
        #expect(d.resize(name, d.A) == .OK, "NF-03: the exact fit")
    }

    @Test("NF-04..NF-05 destroy and delete of busy devices", arguments: CreateRegion.all, ABIProfile.allCases)
    func destroyErrors(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        let (_, n) = d.createDevice(size: 2 * MiB)
        let name = try #require(n)
        #expect(d.destroy(name) == .ENXIO, "NF-04: daxctl refuses an active device without --force")
        #expect(d.ctx.enabled(name) == true && d.ctx.size(name) == 2 * MiB, "NF-04: untouched")
        let dev = d.ctx.dev(name)
        #expect(Err(rc: daxm_region_destroy_dev(d.r.raw, dev)) == .EBUSY, "NF-05: bound")
        #expect(d.disable(name) == .OK)
        #expect(Err(rc: daxm_region_destroy_dev(d.r.raw, dev)) == .EBUSY, "NF-05: size != 0")
        #expect(Err(rc: daxm_region_destroy_dev(d.r.raw, d.dev(0))) == .EBUSY, "NF-05: id 0")
        #expect(d.resize(name, 0) == .OK)
        #expect(Err(rc: daxm_region_destroy_dev(d.r.raw, dev)) == .OK, "NF-05")
    }

    @Test("NF-06..NF-07 enable a 0-size device; align on enabled, unsupported and non-dividing values", arguments: CreateRegion.all, ABIProfile.allCases)
    func enableAndAlign(_ c: CreateRegion, _ p: ABIProfile) throws {
        let d = try Daxctl.setUp(c, p)
        #expect(d.enable(d.name(0)) == .ENXIO, "NF-06")
        let (_, n) = d.createDevice(size: 2 * MiB)
        let dev = try #require(n.flatMap { d.ctx.dev($0) })
        #expect(Err(rc: daxm_dev_set_align(dev, 4096)) == .EBUSY, "NF-07: enabled")
        #expect(Err(rc: daxm_dev_set_align(dev, 12345)) == .EINVAL, "NF-07: unsupported, even enabled")
        #expect(Err(rc: daxm_dev_set_align(dev, 8192)) == .EINVAL, "NF-07")
        #expect(d.disable(n!) == .OK)
        #expect(Err(rc: daxm_dev_set_align(dev, GiB)) == .EINVAL, "NF-07: 1 GiB does not divide 2 MiB")
        #expect(daxm_dev_get_align(dev) == 2 * MiB, "NF-07: the old align stays")
        #expect(Err(rc: daxm_dev_set_align(dev, 4096)) == .OK, "NF-07")
    }

    @Test("NF-08..NF-09 overlapping mapping; static regions have no create", arguments: ABIProfile.allCases)
    func mappingAndStatic(_ p: ABIProfile) throws {
        let d = try Daxctl.setUp(CreateRegion.all[0], p)
        let (_, n) = d.createDevice(size: 2 * MiB)
        #expect(n != nil)
        var out: OpaquePointer? = nil
        #expect(daxm_region_create_dev(d.r.raw, &out) == 0)
        #expect(Err(rc: daxm_dev_set_mapping(out, d.addr(0), d.addr(2 * MiB - 1))) == .ENOMEM,
                "NF-08 (libdaxctl: ENXIO)")
        let ctx = try ABICtx()
        let st = try ctx.region(id: 1, kind: .staticRegion, profile: p, start: 0x1_0000_0000, size: GiB)
        #expect(Err(rc: daxm_region_create_dev(st.raw, nil)) == .EOPNOTSUPP, "NF-09 (daxctl reports ENOSPC)")
        #expect(ctx.write("region1/create", "1") == .ENOENT, "NF-09")
    }
}
