// SysfsParseTests.swift - the text side of the sysfs interface: how each
// store parses its value (lib/kstrtox.c kstrtoull/kstrtoul/kstrtoint base 0,
// range_parse for `mapping`, sysfs_streq for names), the order in which a
// store reports parse, alignment and state errors, and how every attribute
// prints (kernel-dax.md §2, corrections at its top; kernel-lab/README.md).

import DaxModelHeader
import Testing

/// One text written to an attribute, the errno write(2) gives, and the
/// value the attribute reads afterwards.
struct ParseCase: Sendable, CustomTestStringConvertible {
    let text: String
    let want: Err
    let after: UInt64?
    let why: String

    init(_ text: String, _ want: Err, _ after: UInt64? = nil, _ why: String = "") {
        self.text = text; self.want = want; self.after = after; self.why = why
    }

    var testDescription: String {
        "\(text.debugDescription) → \(want)" + (why.isEmpty ? "" : " (\(why))")
    }
}

/// A region of 1 GiB at 0x140000000 (the QEMU lab's hmem range) with an idle
/// daxR.0, so dax0.0 is unbound at size 0 and the region is empty.
private func idleRegion(_ profile: ABIProfile = .v6_12) throws -> (ABICtx, ABIRegion) {
    let ctx = try ABICtx()
    let r = try ctx.region(profile: profile, start: 0x1_4000_0000, size: GiB, idle: true)
    return (ctx, r)
}

@Suite("sysfs text: parsing and printing")
struct SysfsParseTests {

    // MARK: size (kstrtoull base 0)

    static let sizeCases: [ParseCase] = [
        ParseCase("0x200000", .OK, 2 * MiB, "hex"),
        ParseCase("0X200000", .OK, 2 * MiB, "upper-case 0X"),
        ParseCase("2097152", .OK, 2 * MiB, "decimal"),
        ParseCase("2097152\n", .OK, 2 * MiB, "one trailing newline"),
        ParseCase("+2097152", .OK, 2 * MiB, "kstrtoull skips one leading +"),
        ParseCase("+0x200000", .OK, 2 * MiB),
        ParseCase("010000000", .OK, 2 * MiB, "leading 0 is octal"),
        ParseCase("0x200000\n", .OK, 2 * MiB),
        ParseCase("0x40000000", .OK, GiB, "exact fit of the whole region"),
        ParseCase("0", .OK, 0),
        ParseCase("00", .OK, 0),
        ParseCase("0\n", .OK, 0),
        ParseCase("2M", .EINVAL, 0, "no unit suffixes"),
        ParseCase("-1", .EINVAL, 0),
        ParseCase("-0", .EINVAL, 0),
        ParseCase("0x", .EINVAL, 0, "0x without digits parses as octal 0 then 'x'"),
        ParseCase("0x\n", .EINVAL, 0),
        ParseCase("0x2_00000", .EINVAL, 0),
        ParseCase("\n", .EINVAL, 0),
        ParseCase("junk", .EINVAL, 0),
        ParseCase("2097152\n\n", .EINVAL, 0, "only one newline"),
        ParseCase("2097152 ", .EINVAL, 0),
        ParseCase(" 2097152", .EINVAL, 0),
        ParseCase("++2097152", .EINVAL, 0),
        ParseCase("08", .EINVAL, 0, "8 is not an octal digit"),
        ParseCase("0b1", .EINVAL, 0),
        ParseCase("0x10000000000000000", .ERANGE, 0, "overflow"),
        ParseCase("18446744073709551616", .ERANGE, 0, "overflow"),
        ParseCase("99999999999999999999junk", .ERANGE, 0, "overflow is reported before trailing junk"),
        ParseCase("18446744073709551615", .EINVAL, 0, "parses; not a multiple of 2 MiB"),
        ParseCase("3145728", .EINVAL, 0, "3 MiB"),
        ParseCase("4096", .EINVAL, 0),
        ParseCase("0x40200000", .ENOSPC, 0, "larger than the region"),
        ParseCase("0x80000000", .ENOSPC, 0, "2 GiB"),
    ]

    @Test("size write", arguments: sizeCases)
    func sizeText(_ c: ParseCase) throws {
        let (ctx, r) = try idleRegion()
        expectWrite(ctx, "dax0.0/size", c.text, c.want)
        #expect(ctx.size("dax0.0") == c.after)
        r.checkInvariants()
    }

    @Test("size: a zero-byte write is a no-op that returns 0 (sysfs_kf_write: if (!count) return 0)")
    func sizeEmptyWrite() throws {
        let (ctx, _) = try idleRegion()
        #expect(ctx.setSize("dax0.0", 4 * MiB) == .OK)
        expectWrite(ctx, "dax0.0/size", "", .OK, "write(2) of 0 bytes never reaches the store")
        #expect(ctx.size("dax0.0") == 4 * MiB)
    }

    @Test("size: only the first 4096 bytes of a value are read (kernfs caps a write at PAGE_SIZE)")
    func sizeTruncatedAtPage() throws {
        let (ctx, _) = try idleRegion()
        #expect(ctx.setSize("dax0.0", 4 * MiB) == .OK)
        // 4096 zeros are octal 0; the junk after them is never seen.
        expectWrite(ctx, "dax0.0/size", String(repeating: "0", count: 4096) + "junk", .OK)
        #expect(ctx.size("dax0.0") == 0)
        expectWrite(ctx, "dax0.0/size", String(repeating: "0", count: 4095) + "\njunk", .OK)
        // 4097 zeros: still octal 0 within the first page.
        #expect(ctx.setSize("dax0.0", 2 * MiB) == .OK)
        expectWrite(ctx, "dax0.0/size", String(repeating: "0", count: 4097), .OK)
        #expect(ctx.size("dax0.0") == 0)
        // Junk inside the first page is still junk.
        expectWrite(ctx, "dax0.0/size", String(repeating: "0", count: 4095) + "j", .EINVAL)
    }

    @Test("size: parse and alignment errors come before EBUSY; a bound device refuses even its own size")
    func sizeOrderOfChecks() throws {
        let ctx = try ABICtx()
        try ctx.region(start: 0x1_4000_0000, size: GiB) // dax0.0 full and bound
        expectWrite(ctx, "dax0.0/size", "2M", .EINVAL)
        expectWrite(ctx, "dax0.0/size", "0x10000000000000000", .ERANGE)
        expectWrite(ctx, "dax0.0/size", "3145728", .EINVAL)
        expectWrite(ctx, "dax0.0/size", "1073741824", .EBUSY, "the current size")
        expectWrite(ctx, "dax0.0/size", "0", .EBUSY)
        expectWrite(ctx, "dax0.0/size", "4294967296", .EBUSY, "EBUSY before ENOSPC")
        #expect(ctx.size("dax0.0") == GiB)
    }

    // MARK: align (kstrtoul; any parse failure is ENXIO)

    static let alignCases: [ParseCase] = [
        ParseCase("4096", .OK, 4096),
        ParseCase("4096\n", .OK, 4096),
        ParseCase("+4096", .OK, 4096),
        ParseCase("0x1000", .OK, 4096),
        ParseCase("010000", .OK, 4096, "octal"),
        ParseCase("0x200000", .OK, 2 * MiB),
        ParseCase("2097152", .OK, 2 * MiB),
        ParseCase("1073741824", .OK, GiB, "0-size device: no range to validate"),
        ParseCase("abc", .ENXIO, 2 * MiB),
        ParseCase("2M", .ENXIO, 2 * MiB),
        ParseCase("-1", .ENXIO, 2 * MiB),
        ParseCase("0x", .ENXIO, 2 * MiB),
        ParseCase("\n", .ENXIO, 2 * MiB),
        ParseCase("4096 ", .ENXIO, 2 * MiB),
        ParseCase("99999999999999999999", .ENXIO, 2 * MiB, "overflow is ENXIO too"),
        ParseCase("0x10000000000000000", .ENXIO, 2 * MiB, "overflow"),
        ParseCase("12345", .EINVAL, 2 * MiB),
        ParseCase("0", .EINVAL, 2 * MiB),
        ParseCase("8192", .EINVAL, 2 * MiB),
        ParseCase("3145728", .EINVAL, 2 * MiB),
        ParseCase("2147483648", .EINVAL, 2 * MiB, "2 GiB"),
        ParseCase("536870912", .EINVAL, 2 * MiB, "512 MiB"),
    ]

    @Test("align write", arguments: alignCases)
    func alignText(_ c: ParseCase) throws {
        let (ctx, r) = try idleRegion()
        let dev = try r.create()
        expectWrite(ctx, "\(dev)/align", c.text, c.want)
        #expect(ctx.align(dev) == c.after)
        #expect(ctx.text("\(dev)/align") == c.after.map { "\($0)\n" })
    }

    @Test("align: ENXIO and EINVAL come before EBUSY on a bound device")
    func alignOrderOfChecks() throws {
        let ctx = try ABICtx()
        try ctx.region(start: 0x1_4000_0000, size: GiB)
        expectWrite(ctx, "dax0.0/align", "abc", .ENXIO)
        expectWrite(ctx, "dax0.0/align", "12345", .EINVAL)
        expectWrite(ctx, "dax0.0/align", "8192", .EINVAL)
        expectWrite(ctx, "dax0.0/align", "0", .EINVAL)
        expectWrite(ctx, "dax0.0/align", "4096", .EBUSY)
        expectWrite(ctx, "dax0.0/align", "2097152", .EBUSY, "even the current align")
        #expect(ctx.align("dax0.0") == 2 * MiB)
    }

    // MARK: mapping (range_parse: split at the first '-', kstrtoull base 16 each side)

    static let mappingCases: [ParseCase] = [
        ParseCase("0x140000000-0x1401fffff", .OK, 2 * MiB),
        ParseCase("140000000-1401fffff", .OK, 2 * MiB, "0x is optional"),
        ParseCase("0X140000000-0X1401FFFFF", .OK, 2 * MiB, "upper case"),
        ParseCase("0x140000000-0x1401fffff\n", .OK, 2 * MiB, "trailing newline"),
        ParseCase("+0x140000000-+0x1401fffff", .OK, 2 * MiB, "kstrtoull accepts a leading + on each side"),
        ParseCase("+0x140000000-0x1401fffff", .OK, 2 * MiB),
        ParseCase("0x140000000\n-0x1401fffff", .OK, 2 * MiB, "each side may end in one newline"),
        ParseCase("0x140000000-0x1403fffff", .OK, 4 * MiB),
        ParseCase("0x140000000", .EINVAL, 0, "no '-'"),
        ParseCase("garbage", .EINVAL, 0),
        ParseCase("0x140000000-", .EINVAL, 0, "empty end"),
        ParseCase("-0x1401fffff", .EINVAL, 0, "empty start"),
        ParseCase("0x14000000g-0x1401fffff", .EINVAL, 0),
        ParseCase("0x140000000-0x1401fffff-0x1", .EINVAL, 0, "the end field holds a second '-'"),
        ParseCase("0x140000000 - 0x1401fffff", .EINVAL, 0),
        ParseCase("0x140000000-0x1401fffff\n\n", .EINVAL, 0),
        ParseCase("0x-0x1401fffff", .EINVAL, 0),
        ParseCase("140000000-1401fffff ", .EINVAL, 0),
        ParseCase("0x10000000000000000-0x1401fffff", .ERANGE, 0, "start overflows"),
        ParseCase("0x140000000-0x10000000000000000", .ERANGE, 0, "end overflows"),
        ParseCase("0x140400000-0x1401fffff", .ENOMEM, 0, "end < start with an aligned (wrapped) length"),
        ParseCase("0x180000000-0x1801fffff", .ENOMEM, 0, "after the region"),
        ParseCase("0x13fe00000-0x1401fffff", .ENOMEM, 0, "straddles the region start"),
        ParseCase("0x17fe00000-0x1801fffff", .ENOMEM, 0, "straddles the region end"),
        ParseCase("0x0-0x1fffff", .ENOMEM, 0, "far below the region"),
    ]

    @Test("mapping write", arguments: mappingCases)
    func mappingText(_ c: ParseCase) throws {
        let (ctx, r) = try idleRegion()
        let dev = try r.create()
        expectWrite(ctx, "\(dev)/mapping", c.text, c.want)
        #expect(ctx.size(dev) == c.after)
        if c.want == .OK {
            #expect(ctx.ranges(dev)?.first?.start == 0x1_4000_0000)
        }
        r.checkInvariants()
    }

    // MARK: create (kstrtoint base 0, value must be 1)

    static let createCases: [ParseCase] = [
        ParseCase("1", .OK, 1),
        ParseCase("1\n", .OK, 1),
        ParseCase("0x1", .OK, 1, "base 0"),
        ParseCase("01", .OK, 1, "octal 1"),
        ParseCase("+1", .OK, 1),
        ParseCase("2", .EINVAL, 0),
        ParseCase("0", .EINVAL, 0),
        ParseCase("-1", .EINVAL, 0),
        ParseCase("abc", .EINVAL, 0),
        ParseCase("1 ", .EINVAL, 0),
        ParseCase("1\n\n", .EINVAL, 0),
        ParseCase("-2147483648", .EINVAL, 0, "a valid int that is not 1"),
        ParseCase("2147483648", .ERANGE, 0, "does not fit an int"),
        ParseCase("4294967297", .ERANGE, 0, "does not fit an int"),
        ParseCase("0x10000000000000000", .ERANGE, 0),
    ]

    @Test("create write", arguments: createCases)
    func createText(_ c: ParseCase) throws {
        let (ctx, r) = try idleRegion()
        expectWrite(ctx, r.attr("create"), c.text, c.want)
        #expect(UInt64(r.deviceNames.count - 1) == c.after, "devices: \(r.deviceNames)")
        #expect(r.youngest == (c.want == .OK ? "dax0.1" : ""))
        #expect(r.seed == (c.want == .OK ? "dax0.1" : ""))
    }

    @Test("create: a zero-byte write returns 0 and creates nothing")
    func createEmptyWrite() throws {
        let (ctx, r) = try idleRegion()
        expectWrite(ctx, r.attr("create"), "", .OK)
        #expect(r.deviceNames == ["dax0.0"])
    }

    // MARK: delete (sysfs_streq on device names)

    static let deleteCases: [ParseCase] = [
        ParseCase("dax0.1", .OK, 0),
        ParseCase("dax0.1\n", .OK, 0, "sysfs_streq ignores one trailing newline"),
        ParseCase("dax0.1\n\n", .ENXIO, 1),
        ParseCase(" dax0.1", .ENXIO, 1),
        ParseCase("dax0.1 ", .ENXIO, 1),
        ParseCase("dax0.01", .ENXIO, 1),
        ParseCase("DAX0.1", .ENXIO, 1),
        ParseCase("dax0.9", .ENXIO, 1, "no such device"),
        ParseCase("dax0.", .ENXIO, 1),
        ParseCase("region0", .ENXIO, 1),
        ParseCase("dax0.0", .EBUSY, 1, "id 0 is always kept"),
        ParseCase("dax0.0\n", .EBUSY, 1),
    ]

    @Test("delete write", arguments: deleteCases)
    func deleteText(_ c: ParseCase) throws {
        let (ctx, r) = try idleRegion()
        #expect(try r.create() == "dax0.1")
        expectWrite(ctx, r.attr("delete"), c.text, c.want)
        #expect(UInt64(r.deviceNames.count - 1) == c.after, "devices: \(r.deviceNames)")
    }

    // MARK: bind / unbind (bus_find_device_by_name: sysfs_streq)

    @Test("device_dax/bind and unbind take a device name with an optional newline (6.1: bind matches any device)")
    func bindText() throws {
        let (ctx, r) = try idleRegion(.v6_1)
        let dev = try r.create()
        #expect(ctx.setSize(dev, 2 * MiB) == .OK)
        expectWrite(ctx, "device_dax/bind", "dax0.9", .ENODEV, "no such device")
        expectWrite(ctx, "device_dax/bind", "\(dev) ", .ENODEV)
        expectWrite(ctx, "device_dax/bind", "\(dev)\n", .OK)
        #expect(ctx.enabled(dev) == true)
        expectWrite(ctx, "device_dax/bind", dev, .EBUSY, "already bound")
        expectWrite(ctx, "device_dax/unbind", "dax0.9", .ENODEV)
        expectWrite(ctx, "device_dax/unbind", "\(dev)\n", .OK)
        #expect(ctx.enabled(dev) == false)
        expectWrite(ctx, "device_dax/unbind", dev, .ENODEV, "not bound")
        expectWrite(ctx, "device_dax/bind", "dax0.0", .ENXIO, "size 0: the probe refuses it")
        expectWrite(ctx, "device_dax/nonsense", dev, .ENOENT)
    }

    @Test("device_dax/new_id and remove_id take a canonical daxR.N name (sscanf + sysfs_streq)",
          arguments: ABIProfile.allCases)
    func newIdText(_ p: ABIProfile) throws {
        let (ctx, r) = try idleRegion(p)
        let dev = try r.create()
        for bad in ["garbage", "\(dev) ", " \(dev)", "dax00.1", "dax0.01", "dax0.1x", "dax0", "\(dev)\n\n"] {
            #expect(ctx.newId(bad) == .EINVAL, "new_id \(bad.debugDescription)")
            #expect(ctx.removeId(bad) == .EINVAL, "remove_id \(bad.debugDescription)")
        }
        #expect(ctx.newId("dax0.9") == .OK, "a name without a device is listed all the same")
        #expect(ctx.removeId("dax0.9") == .OK)
        #expect(ctx.removeId("dax0.8") == .OK, "removing an unlisted name is not an error")
        #expect(ctx.newId("\(dev)\n") == .OK)
        #expect(ctx.enabled(dev) == false, "size 0: the probe fails, new_id does not")
        for f in ["bind", "unbind", "new_id", "remove_id"] {
            #expect(ctx.readErr("device_dax/\(f)") == .EACCES, "device_dax/\(f) is write-only")
        }
    }

    @Test("mapping with END = START - 1 is a 0-byte range: 0 on a device without ranges, else EBUSY",
          arguments: ABIProfile.allCases)
    func mappingZeroLength(_ p: ABIProfile) throws {
        // alloc_dev_dax_range: "0-size allocation must be first" (dev_WARN_ONCE, -EBUSY).
        let (ctx, r) = try idleRegion(p)
        let dev = try r.create()
        expectWrite(ctx, "\(dev)/mapping", "0x140200000-0x1401fffff", .OK)
        #expect(ctx.size(dev) == 0)
        #expect(ctx.setSize(dev, 2 * MiB) == .OK)
        expectWrite(ctx, "\(dev)/mapping", "0x140400000-0x1403fffff", .EBUSY)
        expectWrite(ctx, "\(dev)/mapping", "0x0-0xffffffffffffffff", .EBUSY, "the length wraps to 0")
        #expect(ctx.size(dev) == 2 * MiB)
        r.checkInvariants()
    }

    // MARK: reading

    @Test("read formats of a full region (dax0.0 bound, target_node 2)")
    func readFormats() throws {
        let ctx = try ABICtx()
        let r = try ctx.region(start: 0x1_4000_0000, size: GiB, targetNode: 2, numaNode: 0)
        let want: [(String, String)] = [
            ("region0/id", "0\n"),
            ("region0/size", "1073741824\n"),
            ("region0/align", "2097152\n"),
            ("region0/available_size", "0\n"),
            ("region0/seed", "\n"),
            ("region0/create", "\n"),
            ("dax0.0/size", "1073741824\n"),
            ("dax0.0/align", "2097152\n"),
            ("dax0.0/target_node", "2\n"),
            ("dax0.0/numa_node", "0\n"),
            ("dax0.0/resource", "0x140000000\n"),
            ("dax0.0/modalias", "dax:t0\n"),
            ("dax0.0/mapping0/start", "0x140000000\n"),
            ("dax0.0/mapping0/end", "0x17fffffff\n"),
            ("dax0.0/mapping0/page_offset", "0x0\n"),
        ]
        for (path, text) in want {
            #expect(ctx.read(path) == .success(text), "\(path)")
        }
        #expect(daxm_region_get_target_node(r.raw) == 2)
        #expect(daxm_dev_get_target_node(ctx.dev("dax0.0")) == 2)
    }

    @Test("read formats: page_offset of a later range, numa_node -1, align 4096, seed and create names")
    func readFormatsAfterChanges() throws {
        let (ctx, r) = try idleRegion()
        #expect(ctx.read("dax0.0/numa_node") == .success("-1\n"))
        #expect(ctx.read("dax0.0/resource") == .success("0x140000000\n"), "no ranges: the region start")
        #expect(ctx.read("region0/available_size") == .success("1073741824\n"))
        let a = try r.create()
        let b = try r.create()
        #expect(ctx.read("region0/seed") == .success("\(a)\n"))
        #expect(ctx.read("region0/create") == .success("\(b)\n"))
        #expect(ctx.setSize(a, 2 * MiB) == .OK)
        #expect(ctx.setSize(b, 2 * MiB) == .OK)
        #expect(ctx.setSize(a, 128 * MiB) == .OK) // mapping1 at 0x140400000, pgoff 2 MiB = 0x200 pages
        #expect(ctx.read("\(a)/mapping1/start") == .success("0x140400000\n"))
        #expect(ctx.read("\(a)/mapping1/end") == .success("0x1481fffff\n"))
        #expect(ctx.read("\(a)/mapping1/page_offset") == .success("0x200\n"))
        #expect(ctx.read("\(a)/resource") == .success("0x140000000\n"))
        #expect(ctx.read("\(b)/resource") == .success("0x140200000\n"))
        #expect(ctx.setAlign(b, 4096) == .OK)
        #expect(ctx.read("\(b)/align") == .success("4096\n"))
        #expect(ctx.read("region0/available_size") == .success("\(GiB - 130 * MiB)\n"))
    }

    @Test("target_node is absent when the region has none")
    func targetNodeAbsent() throws {
        let (ctx, r) = try idleRegion()
        #expect(ctx.readErr("dax0.0/target_node") == .ENOENT)
        #expect(ctx.write("dax0.0/target_node", "0") == .ENOENT)
        #expect(daxm_region_get_target_node(r.raw) == -1)
        #expect(daxm_dev_get_target_node(ctx.dev("dax0.0")) == -1)
    }

    @Test("write-only attributes read EACCES; read-only attributes write EACCES")
    func permissions() throws {
        let (ctx, r) = try idleRegion()
        let dev = try r.create()
        #expect(ctx.setSize(dev, 2 * MiB) == .OK)
        for p in ["region0/delete", "\(dev)/mapping"] {
            #expect(ctx.readErr(p) == .EACCES, "read \(p)")
        }
        for p in ["region0/id", "region0/size", "region0/align", "region0/available_size", "region0/seed",
                  "\(dev)/resource", "\(dev)/numa_node", "\(dev)/modalias",
                  "\(dev)/mapping0/start", "\(dev)/mapping0/end", "\(dev)/mapping0/page_offset"] {
            #expect(ctx.write(p, "1") == .EACCES, "write \(p)")
        }
        // create, size and align are read-write.
        for p in ["region0/create", "\(dev)/size", "\(dev)/align"] {
            #expect(ctx.readErr(p) == .OK, "read \(p)")
        }
    }

    @Test("unknown paths are ENOENT for reads and writes")
    func unknownPaths() throws {
        let (ctx, r) = try idleRegion()
        _ = try r.create()
        for p in ["region0/nonsense", "region1/create", "region1/size", "dax0.9/size", "dax1.0/size",
                  "dax0.1/nonsense", "dax0.1/mapping0/start", "dax0.0/mapping0/end", "nonsense", "",
                  "region0", "dax0.1", "dax0.1/", "/region0/create", "region0/create/x", "regionx/create",
                  "device_dax/nonsense"] {
            #expect(ctx.readErr(p) == .ENOENT, "read \(p.debugDescription)")
            #expect(ctx.write(p, "1") == .ENOENT, "write \(p.debugDescription)")
        }
    }

    @Test("a read buffer too small for the text and its NUL gives ERANGE")
    func readBufferTooSmall() throws {
        let (ctx, _) = try idleRegion()
        // "1073741824\n" is 11 bytes, 12 with the NUL.
        #expect(ctx.read("region0/size", capacity: 11) == .failure(.ERANGE))
        #expect(ctx.read("region0/size", capacity: 12) == .success("1073741824\n"))
        var buf = [CChar](repeating: 0, count: 12)
        #expect(daxm_attr_read(ctx.raw, "region0/size", &buf, 12) == 11)
        #expect(buf[11] == 0, "NUL-terminated")
        #expect(daxm_attr_read(ctx.raw, "region0/size", &buf, 0) == -Int(Err.ERANGE.code))
    }

    @Test("NULL arguments give EINVAL")
    func nullArguments() throws {
        let ctx = try ABICtx()
        var buf = [CChar](repeating: 0, count: 16)
        #expect(daxm_attr_write(nil, "region0/create", "1") == -Err.EINVAL.code)
        #expect(daxm_attr_write(ctx.raw, nil, "1") == -Err.EINVAL.code)
        #expect(daxm_attr_write(ctx.raw, "region0/create", nil) == -Err.EINVAL.code)
        #expect(daxm_attr_read(nil, "region0/size", &buf, 16) == -Int(Err.EINVAL.code))
        #expect(daxm_attr_read(ctx.raw, nil, &buf, 16) == -Int(Err.EINVAL.code))
        #expect(daxm_attr_read(ctx.raw, "region0/size", nil, 16) == -Int(Err.EINVAL.code))
    }

    // MARK: static regions

    @Test("static regions: no create/seed/delete/available_size/mapping; size and align are read-only")
    func staticRegion() throws {
        let ctx = try ABICtx()
        // The lab's devdax namespace: 1006 MiB, device dax1.0.
        let r = try ctx.region(id: 1, kind: .staticRegion, start: 0x1_0000_0000, size: 1006 * MiB)
        for a in ["create", "seed", "delete", "available_size"] {
            #expect(ctx.readErr("region1/\(a)") == .ENOENT, "read region1/\(a)")
            #expect(ctx.write("region1/\(a)", "1") == .ENOENT, "write region1/\(a)")
        }
        #expect(ctx.read("region1/id") == .success("1\n"))
        #expect(ctx.read("region1/size") == .success("\(1006 * MiB)\n"))
        #expect(ctx.read("region1/align") == .success("2097152\n"))
        #expect(ctx.read("dax1.0/size") == .success("\(1006 * MiB)\n"))
        #expect(ctx.read("dax1.0/mapping0/start") == .success("0x100000000\n"))
        #expect(ctx.read("dax1.0/mapping0/end") == .success("0x13edfffff\n"))
        #expect(ctx.read("dax1.0/mapping0/page_offset") == .success("0x0\n"))
        #expect(ctx.write("dax1.0/size", "0") == .EACCES)
        #expect(ctx.write("dax1.0/align", "4096") == .EACCES)
        #expect(ctx.write("dax1.0/mapping", "0x100000000-0x1001fffff") == .ENOENT)
        #expect(ctx.readErr("dax1.0/mapping") == .ENOENT)
        // Still read-only when unbound.
        #expect(ctx.unbind("dax1.0") == .OK)
        #expect(ctx.write("dax1.0/size", "0") == .EACCES)
        #expect(ctx.write("dax1.0/align", "4096") == .EACCES)
        #expect(ctx.bind("dax1.0") == .OK)
        // The C functions say the same with their own errnos (header).
        let d = try #require(ctx.dev("dax1.0"))
        #expect(daxm_region_get_kind(r.raw) == Int32(DAXM_REGION_STATIC))
        #expect(daxm_region_get_available_size(r.raw) == 0)
        #expect(daxm_region_create_dev(r.raw, nil) == -Err.EOPNOTSUPP.code)
        #expect(daxm_region_get_dev_seed(r.raw) == nil)
        #expect(daxm_region_destroy_dev(r.raw, d) == -Err.EOPNOTSUPP.code)
        #expect(daxm_dev_set_size(d, 0) == -Err.EACCES.code)
        #expect(daxm_dev_set_align(d, 4096) == -Err.EACCES.code)
        #expect(daxm_dev_set_mapping(d, 0x1_0000_0000, 0x1_001f_ffff) == -Err.EACCES.code)
        #expect(daxm_dev_get_size(d) == 1006 * MiB)
    }

    @Test("static region device id comes from the producer (dev_id)")
    func staticRegionDevId() throws {
        let ctx = try ABICtx()
        let r = try ctx.region(id: 1, kind: .staticRegion, start: 0x1_0000_0000, size: 1006 * MiB, devId: 3)
        #expect(r.deviceNames == ["dax1.3"])
        #expect(ctx.read("dax1.3/size") == .success("\(1006 * MiB)\n"))
        #expect(ctx.readErr("dax1.0/size") == .ENOENT)
    }

    @Test("daxm_region_spec_init fills the documented defaults")
    func specDefaults() {
        var spec = daxm_region_spec()
        spec.id = 77; spec.kind = 9; spec.start = 1; spec.size = 1
        daxm_region_spec_init(&spec)
        #expect(spec.struct_size == UInt32(MemoryLayout<daxm_region_spec>.size))
        #expect(spec.id == -1)
        #expect(spec.kind == UInt32(DAXM_REGION_DYNAMIC))
        #expect(spec.profile == UInt32(DAXM_PROFILE_6_12))
        #expect(spec.start == 0 && spec.size == 0)
        #expect(spec.align == 2 * MiB)
        #expect(spec.target_node == -1 && spec.numa_node == -1)
        #expect(spec.dev_id == 0 && spec.flags == 0)
        daxm_region_spec_init(nil) // a no-op
    }

    @Test("the header's profile and kind constants are the values these tests use")
    func constants() {
        #expect(Int32(DAXM_PROFILE_6_1) == Int32(ABIProfile.v6_1.rawValue))
        #expect(Int32(DAXM_PROFILE_6_12) == Int32(ABIProfile.v6_12.rawValue))
        #expect(Int32(DAXM_REGION_STATIC) == Int32(ABIKind.staticRegion.rawValue))
        #expect(Int32(DAXM_REGION_DYNAMIC) == Int32(ABIKind.dynamic.rawValue))
        #expect(Int32(DAXM_REGION_SPARSE) == Int32(ABIKind.sparse.rawValue))
    }
}
