import DaxModelHeader
import Foundation
import Testing

/// daxm_ctx_import_sysfs on sysfs trees captured from real Linux 6.1 and
/// 6.12 (tests/fixtures/sysfs/<name>/, made by tests/kernel/run.sh with
/// DAXM_KERNEL_UPDATE_FIXTURES=1; see tests/kernel/README.md). Each tree
/// keeps sysfs's relative symlinks, and its expected-state.txt holds what
/// the guest's recorder (tests/kernel/guest/sysfs-replay.c) read at the
/// same moment: every region with its kind and start, then the region's
/// state in the record's S/D/M lines. The imported model must show exactly
/// that state through daxm_attr_read.
///
///   linux-X.Y-boot   the hmem region as dax_hmem made it at boot
///   linux-X.Y-split  after creates, sizes and mapping writes: holes,
///                    devices split in two ranges, an idle seed
///   linux-X.Y-numa   the NUMA guest: an hmem region with a split device,
///                    one onlined as system RAM (kmem), and a pmem
///                    namespace made devdax (a static region)
@Suite struct FixtureImportTests {
    /// tests/fixtures/sysfs, found from this file so any clone works.
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fixtures/sysfs")

    static let names: [String] = {
        let all = (try? FileManager.default.contentsOfDirectory(atPath: fixtures.path)) ?? []
        return all.filter { !$0.hasPrefix(".") }.sorted()
    }()

    /// One region of expected-state.txt.
    struct ExpectedRegion {
        var id: Int32
        var kind: String
        var start: UInt64
        var size: UInt64
        var align: UInt64
        var lines: [String] = []
    }

    struct Expected {
        var release = ""
        var regions: [ExpectedRegion] = []

        /// The profile daxmodel.h promises for this release: before 6.9
        /// DAXM_PROFILE_6_1, else DAXM_PROFILE_6_12.
        var profile: Int32 {
            let parts = release.split(separator: ".").prefix(2).map { Int($0.prefix { $0.isNumber }) ?? 0 }
            return parts.count == 2 && (parts[0], parts[1]) < (6, 9) ? DAXM_PROFILE_6_1 : DAXM_PROFILE_6_12
        }
    }

    /// "key=value" out of a line.
    static func field(_ line: String, _ key: String) -> String? {
        for word in line.split(separator: " ") where word.hasPrefix(key + "=") {
            return String(word.dropFirst(key.count + 1))
        }
        return nil
    }

    static func number(_ text: String?) -> UInt64? {
        guard let text else { return nil }
        return text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }

    /// The model knows whether a device is bound, not to which driver (a
    /// device kmem holds is bound too).
    static func normalized(_ line: String) -> String {
        guard let range = line.range(of: " driver="), line[range.upperBound...] != "-" else { return line }
        return line[..<range.lowerBound] + " driver=bound"
    }

    static func expected(_ name: String) throws -> Expected {
        let text = try String(contentsOf: fixtures.appendingPathComponent("\(name)/expected-state.txt"), encoding: .utf8)
        var result = Expected()
        for raw in text.split(separator: "\n") {
            let line = String(raw)
            if line.hasPrefix("#") { continue }
            if line.hasPrefix("KERNEL ") {
                result.release = String(line.dropFirst(7))
            } else if line.hasPrefix("REGION ") {
                let region = ExpectedRegion(
                    id: Int32(field(line, "id") ?? "") ?? -1, kind: field(line, "kind") ?? "?",
                    start: try #require(number(field(line, "start")), "\(line)"),
                    size: try #require(number(field(line, "size")), "\(line)"),
                    align: try #require(number(field(line, "align")), "\(line)"))
                result.regions.append(region)
            } else if !result.regions.isEmpty {
                result.regions[result.regions.count - 1].lines.append(normalized(line))
            }
        }
        return result
    }

    static func read(_ ctx: OpaquePointer?, _ path: String) -> String {
        var buf = [CChar](repeating: 0, count: 256)
        let n = daxm_attr_read(ctx, path, &buf, buf.count)
        if n == -Int(ENOENT) { return "absent" }
        if n < 0 { return "<error \(-n): \(String(cString: daxm_last_error()))>" }
        let text = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    /// "daxR.N" of region @rid as "dev:N", "" as "-" (as the recorder prints names).
    static func recordName(_ name: String, _ rid: Int32) -> String {
        if name.isEmpty { return "-" }
        if name.hasPrefix("dax\(rid).") { return "dev:" + name.dropFirst("dax\(rid).".count) }
        return name
    }

    /// Region @rid of the model in the recorder's S/D/M lines (the same
    /// lines tests/kernel/host/kernel-compare.c makes).
    static func modelLines(_ ctx: OpaquePointer?, _ rid: Int32) -> [String] {
        guard let region = daxm_region_get_by_id(ctx, rid) else { return ["S <no region\(rid)>"] }
        var lines = ["S avail=\(read(ctx, "region\(rid)/available_size"))"
            + " seed=\(recordName(read(ctx, "region\(rid)/seed"), rid))"
            + " create=\(recordName(read(ctx, "region\(rid)/create"), rid))"]
        var dev = daxm_dev_get_first(region)
        while let d = dev {
            let name = String(cString: daxm_dev_get_devname(d))
            let id = daxm_dev_get_id(d)
            lines.append("D dev:\(id) size=\(read(ctx, "\(name)/size")) align=\(read(ctx, "\(name)/align"))"
                + " resource=\(read(ctx, "\(name)/resource")) target_node=\(read(ctx, "\(name)/target_node"))"
                + " driver=\(daxm_dev_is_enabled(d) == 1 ? "bound" : "-")")
            var ids: [Int32] = []
            var m = daxm_mapping_get_first(d)
            while let mapping = m {
                ids.append(daxm_mapping_get_id(mapping))
                m = daxm_mapping_get_next(mapping)
            }
            for k in ids.sorted() {
                lines.append("M dev:\(id) \(k) start=\(read(ctx, "\(name)/mapping\(k)/start"))"
                    + " end=\(read(ctx, "\(name)/mapping\(k)/end"))"
                    + " page_offset=\(read(ctx, "\(name)/mapping\(k)/page_offset"))")
            }
            dev = daxm_dev_get_next(d)
        }
        return lines
    }

    @Test func bothKernelsAndEveryLayoutAreThere() {
        for kernel in ["6.1", "6.12"] {
            for layout in ["boot", "split", "numa"] {
                #expect(Self.names.contains("linux-\(kernel)-\(layout)"), "missing fixture linux-\(kernel)-\(layout) in \(Self.fixtures.path)")
            }
        }
    }

    @Test(arguments: names) func importedStateIsTheKernels(_ name: String) throws {
        let root = Self.fixtures.appendingPathComponent(name).path
        let want = try Self.expected(name)
        #expect(!want.release.isEmpty && !want.regions.isEmpty, "\(name): expected-state.txt names no kernel or region")
        var ctx: OpaquePointer?
        #expect(daxm_new(&ctx) == 0)
        defer { daxm_unref(ctx) }
        let rc = daxm_ctx_import_sysfs(ctx, root)
        try #require(rc == Int32(want.regions.count), "\(name): import returned \(rc): \(String(cString: daxm_last_error()))")
        for region in want.regions {
            let r = try #require(daxm_region_get_by_id(ctx, region.id), "\(name): region\(region.id) not imported")
            #expect(daxm_region_get_kind(r) == (region.kind == "static" ? DAXM_REGION_STATIC : DAXM_REGION_DYNAMIC),
                    "\(name): region\(region.id) is \(region.kind)")
            #expect(daxm_region_get_start(r) == region.start, "\(name): region\(region.id) start")
            #expect(daxm_region_get_size(r) == region.size, "\(name): region\(region.id) size")
            #expect(daxm_region_get_align(r) == region.align, "\(name): region\(region.id) align")
            #expect(daxm_region_get_profile(r) == want.profile, "\(name): profile for \(want.release)")
            let got = Self.modelLines(ctx, region.id)
            #expect(got == region.lines, "\(name): region\(region.id)\nkernel:\n\(region.lines.joined(separator: "\n"))\nimported:\n\(got.joined(separator: "\n"))")
            // numa_node is not in the record: it must be the file's
            var dev = daxm_dev_get_first(r)
            while let d = dev {
                let devname = String(cString: daxm_dev_get_devname(d))
                let file = "\(root)/sys/bus/dax/devices/\(devname)/numa_node"
                let text = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(Self.read(ctx, "\(devname)/numa_node") == text, "\(name): \(devname)/numa_node")
                dev = daxm_dev_get_next(d)
            }
        }
        // the tree's ids are taken now
        #expect(daxm_ctx_import_sysfs(ctx, root) == -EEXIST)
    }

    /// Views of an imported device open @root/dev/daxR.N, which a captured
    /// tree does not have: the open's errno comes back.
    @Test(arguments: names) func viewsOpenTheTreesDevice(_ name: String) throws {
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        try #require(daxm_ctx_import_sysfs(ctx, Self.fixtures.appendingPathComponent(name).path) > 0)
        var region = daxm_region_get_first(ctx)
        var tried = 0
        while let r = region {
            var dev = daxm_dev_get_first(r)
            while let d = dev {
                if daxm_dev_get_size(d) > 0 {
                    var view: OpaquePointer?
                    #expect(daxm_dev_map(d, PROT_READ, &view) == -ENOENT, "\(name): \(String(cString: daxm_dev_get_devname(d)))")
                    #expect(view == nil)
                    tried += 1
                }
                dev = daxm_dev_get_next(d)
            }
            region = daxm_region_get_next(r)
        }
        #expect(tried > 0)
    }

    /// Every symlink of a fixture resolves inside it (sysfs's links are
    /// relative, and the tree keeps every directory they point to).
    @Test(arguments: names) func symlinksResolveInsideTheTree(_ name: String) throws {
        let root = Self.fixtures.appendingPathComponent(name).resolvingSymlinksInPath().path
        let files = try #require(FileManager.default.enumerator(atPath: root))
        var links = 0
        for case let rel as String in files {
            let path = root + "/" + rel
            guard (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) != nil else { continue }
            links += 1
            guard let resolved = realpath(path, nil) else {
                Issue.record("\(name): \(rel) does not resolve")
                continue
            }
            let target = String(cString: resolved)
            free(resolved)
            #expect(target.hasPrefix(root + "/"), "\(name): \(rel) resolves to \(target), outside the tree")
        }
        #expect(links > 0)
    }
}
