import DaxModelHeader
import Glibc
import Testing

/// daxm_ctx_import_sysfs against a tree laid out like a real /sys/bus/dax
/// (relative symlinks from sys/bus/dax/devices into the producer's device
/// directory, as Linux 6.1 shows an hmem region and a pmem namespace).
@Suite struct ImportTests {
    final class Tree {
        let root: String
        init() {
            var template = Array("/tmp/daxm-sysfs-XXXXXX".utf8CString)
            root = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        }
        deinit { remove(root) }

        private func remove(_ path: String) {
            if let dir = opendir(path) {
                while let e = readdir(dir) {
                    let name = withUnsafeBytes(of: e.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                    if name == "." || name == ".." { continue }
                    let child = path + "/" + name
                    var st = stat()
                    lstat(child, &st)
                    if st.st_mode & S_IFMT == S_IFDIR { remove(child) } else { unlink(child) }
                }
                closedir(dir)
            }
            rmdir(path)
        }

        func mkdirs(_ rel: String) {
            var path = root
            for part in rel.split(separator: "/") {
                path += "/" + part
                mkdir(path, 0o755)
            }
        }

        func file(_ rel: String, _ text: String) {
            mkdirs(String(rel[..<(rel.lastIndex(of: "/") ?? rel.startIndex)]))
            let fd = open(root + "/" + rel, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            _ = text.withCString { write(fd, $0, strlen($0)) }
            close(fd)
        }

        func unlinkFile(_ rel: String) { unlink(root + "/" + rel) }

        func link(_ rel: String, to target: String) {
            mkdirs(String(rel[..<(rel.lastIndex(of: "/") ?? rel.startIndex)]))
            symlink(target, root + "/" + rel)
        }

        /// A dax device under `parent` (a path below sys/devices).
        func device(_ parent: String, _ name: String, size: UInt64, align: UInt64 = 2 << 20, bound: Bool,
                    ranges: [(UInt64, UInt64, UInt64)], resource: UInt64, targetNode: Int? = nil) {
            let dir = "sys/devices/\(parent)/\(name)"
            file("\(dir)/size", "\(size)\n")
            file("\(dir)/align", "\(align)\n")
            file("\(dir)/numa_node", "0\n")
            file("\(dir)/resource", "0x\(String(resource, radix: 16))\n")
            if let targetNode { file("\(dir)/target_node", "\(targetNode)\n") }
            for (k, r) in ranges.enumerated() {
                file("\(dir)/mapping\(k)/start", "0x\(String(r.0, radix: 16))\n")
                file("\(dir)/mapping\(k)/end", "0x\(String(r.1, radix: 16))\n")
                file("\(dir)/mapping\(k)/page_offset", "0x\(String(r.2, radix: 16))\n")
            }
            if bound { link("\(dir)/driver", to: "../../../../bus/dax/drivers/device_dax") }
            let depth = parent.split(separator: "/").count
            link("sys/bus/dax/devices/\(name)", to: "../../../devices/\(parent)/\(name)")
            _ = depth
        }
    }

    let mib: UInt64 = 1 << 20

    /// The 6.1 guest after some work: hmem region 0 (1 GiB at 0x140000000)
    /// and a static pmem namespace region 1.
    func guestTree(release: String = "6.1.0-56-amd64") -> Tree {
        let t = Tree()
        t.file("proc/sys/kernel/osrelease", release + "\n")
        let hmem = "platform/hmem.0"
        t.file("sys/devices/\(hmem)/dax_region/id", "0\n")
        t.file("sys/devices/\(hmem)/dax_region/size", "1073741824\n")
        t.file("sys/devices/\(hmem)/dax_region/align", "2097152\n")
        t.file("sys/devices/\(hmem)/dax_region/available_size", "\(1024 * mib - 96 * mib - 64 * mib)\n")
        t.file("sys/devices/\(hmem)/dax_region/seed", "dax0.1\n")
        t.file("sys/devices/\(hmem)/dax_region/create", "dax0.2\n")
        t.device(hmem, "dax0.0", size: 96 * mib, bound: true,
                 ranges: [(0x1_4000_0000, 0x1_45ff_ffff, 0)], resource: 0x1_4000_0000, targetNode: 2)
        t.device(hmem, "dax0.1", size: 0, bound: false, ranges: [], resource: 0x1_4000_0000, targetNode: 2)
        t.device(hmem, "dax0.2", size: 64 * mib, bound: false,
                 ranges: [(0x1_4600_0000, 0x1_47ff_ffff, 0), (0x1_4c00_0000, 0x1_4dff_ffff, 0x2000)],
                 resource: 0x1_4600_0000, targetNode: 2)
        let pmem = "platform/e820_pmem/ndbus0/region1/dax1.0"
        t.file("sys/devices/\(pmem)/dax_region/id", "1\n")
        t.file("sys/devices/\(pmem)/dax_region/size", "\(1006 * mib)\n")
        t.file("sys/devices/\(pmem)/dax_region/align", "2097152\n")
        t.device(pmem, "dax1.0", size: 1006 * mib, bound: true,
                 ranges: [(0x1_0120_0000, 0x1_0120_0000 + 1006 * mib - 1, 0)], resource: 0x1_0120_0000, targetNode: 1)
        return t
    }

    private func read(_ ctx: OpaquePointer?, _ path: String) -> String? {
        var buf = [CChar](repeating: 0, count: 128)
        let n = daxm_attr_read(ctx, path, &buf, buf.count)
        return n < 0 ? nil : String(cString: buf)
    }

    @Test func importsRegionsDevicesRangesAndSeeds() throws {
        let tree = guestTree()
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        #expect(daxm_ctx_import_sysfs(ctx, tree.root) == 2, "\(String(cString: daxm_last_error()))")
        let r0 = daxm_region_get_by_id(ctx, 0), r1 = daxm_region_get_by_id(ctx, 1)
        #expect(daxm_region_get_kind(r0) == DAXM_REGION_DYNAMIC && daxm_region_get_kind(r1) == DAXM_REGION_STATIC)
        #expect(daxm_region_get_profile(r0) == DAXM_PROFILE_6_1)
        #expect(daxm_region_get_start(r0) == 0x1_4000_0000 && daxm_region_get_size(r0) == 1 << 30)
        #expect(daxm_region_get_available_size(r0) == 864 * mib)
        #expect(read(ctx, "region0/seed") == "dax0.1\n" && read(ctx, "region0/create") == "dax0.2\n")
        #expect(read(ctx, "dax0.2/mapping1/page_offset") == "0x2000\n")
        #expect(read(ctx, "dax0.0/target_node") == "2\n")
        #expect(daxm_dev_is_enabled(daxm_dev_get_by_name(ctx, "dax0.0")) == 1)
        #expect(daxm_dev_is_enabled(daxm_dev_get_by_name(ctx, "dax0.2")) == 0)
        #expect(daxm_region_get_start(r1) == 0x1_0120_0000)
        // The imported model goes on with the kernel's rules: dax0.1 fills
        // the 64 MiB hole between dax0.2's ranges, then the tail.
        #expect(daxm_attr_write(ctx, "dax0.1/size", "0x8000000") == 0)
        #expect(read(ctx, "dax0.1/mapping0/start") == "0x148000000\n")
        #expect(read(ctx, "dax0.1/mapping1/start") == "0x14e000000\n")
        // Importing the same tree again collides with the ids now in use.
        #expect(daxm_ctx_import_sysfs(ctx, tree.root) == -EEXIST)
    }

    @Test func profileFollowsTheKernelRelease() throws {
        let tree = guestTree(release: "6.12.117+deb12-amd64")
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        #expect(daxm_ctx_import_sysfs(ctx, tree.root) == 2)
        #expect(daxm_region_get_profile(daxm_region_get_by_id(ctx, 0)) == DAXM_PROFILE_6_12)
    }

    @Test func inconsistentTreesAreRefused() throws {
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        #expect(daxm_ctx_import_sysfs(ctx, "/nonexistent") == -ENOENT)
        #expect(daxm_ctx_import_sysfs(ctx, nil) == -EINVAL)
        let tree = guestTree()
        tree.file("sys/devices/platform/hmem.0/dax0.2/size", "12345\n")  // mappings hold 64 MiB
        #expect(daxm_ctx_import_sysfs(ctx, tree.root) == -EINVAL)
        #expect(String(cString: daxm_last_error()).contains("dax0.2"))
        let wrongAvailable = guestTree()
        wrongAvailable.file("sys/devices/platform/hmem.0/dax_region/available_size", "0\n")
        var third: OpaquePointer?
        daxm_new(&third)
        defer { daxm_unref(third) }
        #expect(daxm_ctx_import_sysfs(third, wrongAvailable.root) == -EINVAL, "available_size must agree with the ranges")
        let overlap = guestTree()
        overlap.file("sys/devices/platform/hmem.0/dax0.2/mapping0/start", "0x145000000\n")
        overlap.file("sys/devices/platform/hmem.0/dax0.2/mapping0/end", "0x146ffffff\n")
        var other: OpaquePointer?
        daxm_new(&other)
        defer { daxm_unref(other) }
        #expect(daxm_ctx_import_sysfs(other, overlap.root) == -EINVAL, "ranges of two devices overlap")
    }

    /// mappingK/page_offset must be the running sum of the earlier ranges'
    /// pages (what the kernel's allocator always leaves); a tree that says
    /// otherwise is refused, naming the mapping, and its region is not added.
    @Test func pageOffsetsMustBeTheRunningSum() throws {
        for (k, bad) in [(1, "0x1000"), (0, "0x200")] {
            let tree = guestTree()
            tree.file("sys/devices/platform/hmem.0/dax0.2/mapping\(k)/page_offset", bad + "\n")
            var ctx: OpaquePointer?
            daxm_new(&ctx)
            defer { daxm_unref(ctx) }
            #expect(daxm_ctx_import_sysfs(ctx, tree.root) == -EINVAL, "mapping\(k)/page_offset \(bad)")
            #expect(String(cString: daxm_last_error()).contains("mapping\(k): page_offset"))
            #expect(daxm_region_get_by_id(ctx, 0) == nil, "the refused region is not added")
        }
        // The consistent tree imports, with the offsets as read.
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        let good = guestTree()
        #expect(daxm_ctx_import_sysfs(ctx, good.root) == 2)
        #expect(read(ctx, "dax0.2/mapping1/page_offset") == "0x2000\n")
    }

    /// Each kind of inconsistent or unreadable tree gets its documented
    /// errno and a message naming what is wrong; the bad region is not
    /// added.
    @Test(arguments: [
        ("dax0.2/size holds text", "sys/devices/platform/hmem.0/dax0.2/size", "abc\n", EINVAL, "not a number"),
        ("region id past INT_MAX", "sys/devices/platform/hmem.0/dax_region/id", "2147483648\n", EINVAL, "region id"),
        ("region id 2^63", "sys/devices/platform/hmem.0/dax_region/id", "9223372036854775808\n", EINVAL, "region id"),
        ("region id 2^64-1", "sys/devices/platform/hmem.0/dax_region/id", "18446744073709551615\n", EINVAL, "region id"),
        ("region align not 4K/2M/1G", "sys/devices/platform/hmem.0/dax_region/align", "12288\n", EINVAL, "is not valid"),
        ("device align not 4K/2M/1G", "sys/devices/platform/hmem.0/dax0.2/align", "12345\n", EINVAL, "align 12345"),
        ("seed names no device", "sys/devices/platform/hmem.0/dax_region/seed", "dax0.9\n", EINVAL, "dax0.9"),
        ("bound at size 0", "sys/devices/platform/hmem.0/dax0.1/driver", "", EINVAL, "size 0"),
        ("region size missing", "sys/devices/platform/hmem.0/dax_region/size", "-", ENOENT, "cannot read"),
    ] as [(String, String, String, Int32, String)])
    func refusals(_ what: String, _ file: String, _ text: String, _ errno: Int32, _ says: String) throws {
        let tree = guestTree()
        if text == "-" {
            tree.unlinkFile(file)
        } else if text.isEmpty {
            tree.link(file, to: "../../../../bus/dax/drivers/device_dax")
        } else {
            tree.file(file, text)
        }
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        #expect(daxm_ctx_import_sysfs(ctx, tree.root) == -errno, "\(what)")
        let message = String(cString: daxm_last_error())
        #expect(message.contains(says), "\(what): \(message)")
        #expect(daxm_region_get_by_id(ctx, 0) == nil, "\(what): the bad region is not added")
    }

    /// A root whose path is not UTF-8 is used byte for byte: the tree is
    /// found through it, and views open the device file under it (a file
    /// standing in for /dev/dax0.2 here).
    @Test func rootsAreBytes() throws {
        let tree = guestTree()
        tree.file("dev/dax0.2", "")
        truncate(tree.root + "/dev/dax0.2", off_t(64 * mib))
        var link = Array((tree.root + "-link").utf8) + [0xFF, 0xFE]
        let target = Array(tree.root.utf8)
        link.append(0)
        let linked = link.withUnsafeBufferPointer { l in
            l.withMemoryRebound(to: CChar.self) { symlink(tree.root, $0.baseAddress!) }
        }
        try #require(linked == 0)
        defer { link.withUnsafeBufferPointer { l in l.withMemoryRebound(to: CChar.self) { _ = unlink($0.baseAddress!) } } }
        #expect(target.count > 0)
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        let imported = link.withUnsafeBufferPointer { l in
            l.withMemoryRebound(to: CChar.self) { daxm_ctx_import_sysfs(ctx, $0.baseAddress!) }
        }
        #expect(imported == 2, "\(String(cString: daxm_last_error()))")
        var view: OpaquePointer?
        #expect(daxm_dev_map(daxm_dev_get_by_name(ctx, "dax0.2"), PROT_READ, &view) == 0, "\(String(cString: daxm_last_error()))")
        #expect(view != nil && daxm_view_get_size(view) == 64 * mib)
        daxm_view_unmap(view)
    }

    /// Where the start cannot be told, or nothing is there, or the
    /// addresses are taken.
    @Test func regionsThatCannotBeImported() throws {
        // No idle device, and dax0.0 covers only the bottom of the region.
        let noStart = Tree()
        noStart.file("sys/devices/platform/hmem.0/dax_region/id", "0\n")
        noStart.file("sys/devices/platform/hmem.0/dax_region/size", "1073741824\n")
        noStart.file("sys/devices/platform/hmem.0/dax_region/align", "2097152\n")
        noStart.file("sys/devices/platform/hmem.0/dax_region/available_size", "\(1024 * mib - 96 * mib)\n")
        noStart.device("platform/hmem.0", "dax0.0", size: 96 * mib, bound: true,
                       ranges: [(0x1_4000_0000, 0x1_45ff_ffff, 0)], resource: 0x1_4000_0000)
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        #expect(daxm_ctx_import_sysfs(ctx, noStart.root) == -EINVAL)
        #expect(String(cString: daxm_last_error()).contains("cannot tell where region0 starts"))
        // An empty devices directory: nothing to import.
        let empty = Tree()
        empty.mkdirs("sys/bus/dax/devices")
        #expect(daxm_ctx_import_sysfs(ctx, empty.root) == -ENOENT)
        #expect(String(cString: daxm_last_error()).contains("no dax region"))
        // A region already there at the same addresses under another id.
        var spec = daxm_region_spec()
        daxm_region_spec_init(&spec)
        spec.id = 5
        spec.start = 0x1_4000_0000
        spec.size = 1 << 30
        #expect(daxm_region_new(ctx, &spec, nil) == 0)
        let tree = guestTree()
        #expect(daxm_ctx_import_sysfs(ctx, tree.root) == -EBUSY)
        #expect(String(cString: daxm_last_error()).contains("overlaps"))
    }
}
