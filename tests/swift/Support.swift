// Support.swift - helpers shared by the DaxModel tests.
//
// Every test drives the library through its C ABI (include/daxmodel.h,
// imported as DaxModelHeader), exactly as a C program would: contexts and
// regions are made with daxm_new / daxm_region_new, and attributes are
// written and read as sysfs text with daxm_attr_write / daxm_attr_read.
// Nothing here uses the Swift model's internal API, so the tests stay valid
// whatever the implementation looks like.

import DaxModelHeader
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

let KiB: UInt64 = 1 << 10
let MiB: UInt64 = 1 << 20
let GiB: UInt64 = 1 << 30
let kernelPageSize: UInt64 = 4096

// MARK: - Kernel profiles

/// The kernel era a region follows (DAXM_PROFILE_6_1 / DAXM_PROFILE_6_12).
enum ABIProfile: UInt32, CaseIterable, Sendable, CustomTestStringConvertible, CustomStringConvertible {
    case v6_1 = 1
    case v6_12 = 2

    var testDescription: String { description }
    var description: String { self == .v6_1 ? "Linux 6.1" : "Linux 6.12" }
}

// MARK: - Errno

/// An errno as write(2) reports it: 0 for success, else the positive value.
/// Printed by name so a failed expectation reads "EBUSY != ENOSPC".
struct Err: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    let code: Int32

    init(_ code: Int32) { self.code = code }
    /// From a library return value: 0 or a negative errno.
    /// A positive @rc (never valid for an action) shows as a negative code.
    init(rc: Int32) { self.code = -rc }
    init(rc: Int) { self.init(rc: Int32(clamping: rc)) }

    static let OK = Err(0)
    static let EPERM = Err(Glibc.EPERM)
    static let ENOENT = Err(Glibc.ENOENT)
    static let ENXIO = Err(Glibc.ENXIO)
    static let E2BIG = Err(Glibc.E2BIG)
    static let ENOMEM = Err(Glibc.ENOMEM)
    static let EACCES = Err(Glibc.EACCES)
    static let EBUSY = Err(Glibc.EBUSY)
    static let EEXIST = Err(Glibc.EEXIST)
    static let ENODEV = Err(Glibc.ENODEV)
    static let EINVAL = Err(Glibc.EINVAL)
    static let ENOSPC = Err(Glibc.ENOSPC)
    static let ERANGE = Err(Glibc.ERANGE)
    static let EOPNOTSUPP = Err(Glibc.EOPNOTSUPP)

    var description: String {
        let names: [Int32: String] = [
            0: "OK", Glibc.EPERM: "EPERM", Glibc.ENOENT: "ENOENT", Glibc.ENXIO: "ENXIO",
            Glibc.E2BIG: "E2BIG", Glibc.ENOMEM: "ENOMEM", Glibc.EACCES: "EACCES",
            Glibc.EBUSY: "EBUSY", Glibc.EEXIST: "EEXIST", Glibc.ENODEV: "ENODEV",
            Glibc.EINVAL: "EINVAL", Glibc.ENOSPC: "ENOSPC", Glibc.ERANGE: "ERANGE",
            Glibc.EOPNOTSUPP: "EOPNOTSUPP",
        ]
        if let n = names[code] { return n }
        if code < 0 { return "unexpected positive return \(-code)" }
        return "errno \(code)"
    }
}

/// The library's per-thread message for the last failed call.
func abiLastError() -> String {
    guard let p = daxm_last_error() else { return "<daxm_last_error returned NULL>" }
    return String(cString: p)
}

// MARK: - Context and regions

/// Region kinds, as the header's DAXM_REGION_* values.
enum ABIKind: UInt32, Sendable {
    case staticRegion = 1
    case dynamic = 2
    case sparse = 3
}

/// The debug build's reports of broken invariants or promises after a
/// call on one context (log lines from "verifyAfterCall").
final class InvariantWatch: @unchecked Sendable {
    private let lock = NSLockLike()
    private var found: [String] = []

    func record(_ message: String) { lock.locked { found.append(message) } }
    var messages: [String] { lock.locked { found } }
}

/// A pthread mutex, enough for the watch (Foundation is not used).
final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    deinit { pthread_mutex_destroy(&mutex) }
    func locked<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

/// One daxm_ctx, freed on deinit. Its log goes to stderr as the default
/// logger's would, except that a broken invariant or promise found after
/// any call fails the test that owns the context.
final class ABICtx {
    let raw: OpaquePointer
    let watch = InvariantWatch()

    init() throws {
        var p: OpaquePointer? = nil
        let rc = daxm_new(&p)
        try #require(rc == 0, "daxm_new returned \(rc): \(abiLastError())")
        raw = try #require(p, "daxm_new returned 0 but no context")
        daxm_set_userdata(raw, Unmanaged.passUnretained(watch).toOpaque())
        daxm_set_log_fn(raw) { ctx, _, _, _, fn, msg in
            let function = fn.map { String(cString: $0) } ?? ""
            let text = msg.map { String(cString: $0) } ?? ""
            if function == "verifyAfterCall", let ud = daxm_get_userdata(ctx) {
                Unmanaged<InvariantWatch>.fromOpaque(ud).takeUnretainedValue().record(text)
            }
            let line = "libdaxmodel: \(function): \(text)\n"
            _ = line.withCString { Glibc.write(2, $0, strlen($0)) }
        }
    }

    deinit {
        daxm_unref(raw)
        for message in watch.messages { Issue.record("the library's own check after a call: \(message)") }
    }

    /// Add a region with daxm_region_new. Defaults: dynamic, id 0, 2 MiB align,
    /// no target node, daxR.0 covering the region and bound.
    @discardableResult
    func region(id: Int32 = 0, kind: ABIKind = .dynamic, profile: ABIProfile = .v6_12,
                start: UInt64, size: UInt64, align: UInt64 = 2 * MiB,
                targetNode: Int32 = -1, numaNode: Int32 = -1, devId: Int32 = 0,
                idle: Bool = false, unbound: Bool = false,
                sourceLocation: SourceLocation = #_sourceLocation) throws -> ABIRegion {
        var spec = daxm_region_spec()
        daxm_region_spec_init(&spec)
        spec.id = id
        spec.kind = kind.rawValue
        spec.profile = profile.rawValue
        spec.start = start
        spec.size = size
        spec.align = align
        spec.target_node = targetNode
        spec.numa_node = numaNode
        spec.dev_id = devId
        spec.flags = (idle ? UInt32(DAXM_REGION_IDLE) : 0) | (unbound ? UInt32(DAXM_REGION_UNBOUND) : 0)
        var out: OpaquePointer? = nil
        let rc = daxm_region_new(raw, &spec, &out)
        try #require(rc == 0, "daxm_region_new(id \(id), start \(hexText(start)), size \(hexText(size))) = \(Err(rc: rc)): \(abiLastError())",
                     sourceLocation: sourceLocation)
        let r = try #require(out, "daxm_region_new gave no region", sourceLocation: sourceLocation)
        let rid = daxm_region_get_id(r)
        return ABIRegion(ctx: self, raw: r, id: Int(rid), start: start, size: size, profile: profile, kind: kind)
    }

    /// write(2) of @value to @path: .OK or the errno.
    @discardableResult
    func write(_ path: String, _ value: String) -> Err {
        Err(rc: daxm_attr_write(raw, path, value))
    }

    /// read(2) of @path: the text (with its newline) or the errno.
    func read(_ path: String, capacity: Int = 8192) -> Result<String, Err> {
        var buf = [CChar](repeating: 0x55, count: capacity)
        let n = daxm_attr_read(raw, path, &buf, buf.count)
        if n < 0 { return .failure(Err(rc: n)) }
        if n >= capacity { return .failure(Err(rc: Int32(clamping: n))) }
        let bytes = buf[0..<n].map { UInt8(bitPattern: $0) }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// The text of @path, or nil (with the errno in the failure text).
    func text(_ path: String) -> String? {
        if case .success(let s) = read(path) { return s }
        return nil
    }

    /// The errno of reading @path (.OK if it reads).
    func readErr(_ path: String) -> Err {
        switch read(path) {
        case .success: return .OK
        case .failure(let e): return e
        }
    }

    func dev(_ name: String) -> OpaquePointer? { daxm_dev_get_by_name(raw, name) }

    /// Bind / unbind by name through the driver files (raw writes: on the
    /// 6.12 profile a dynamic device must be listed in device_dax/new_id
    /// before `bind` matches it).
    @discardableResult func bind(_ name: String) -> Err { write("device_dax/bind", name) }
    @discardableResult func unbind(_ name: String) -> Err { write("device_dax/unbind", name) }
    @discardableResult func newId(_ name: String) -> Err { write("device_dax/new_id", name) }
    @discardableResult func removeId(_ name: String) -> Err { write("device_dax/remove_id", name) }

    /// daxm_dev_enable / daxm_dev_disable by name (the same probe rules on
    /// both profiles). ENOENT if there is no such device.
    @discardableResult func enable(_ name: String) -> Err {
        guard let d = dev(name) else { return .ENOENT }
        return Err(rc: daxm_dev_enable(d))
    }
    @discardableResult func disable(_ name: String) -> Err {
        guard let d = dev(name) else { return .ENOENT }
        return Err(rc: daxm_dev_disable(d))
    }
}

/// A region handle with its fixed facts.
struct ABIRegion {
    let ctx: ABICtx
    let raw: OpaquePointer
    let id: Int
    let start: UInt64
    let size: UInt64
    let profile: ABIProfile
    let kind: ABIKind

    var end: UInt64 { start + size - 1 }
    func name(_ n: Int) -> String { "dax\(id).\(n)" }
    func attr(_ a: String) -> String { "region\(id)/\(a)" }

    @discardableResult func write(_ a: String, _ v: String) -> Err { ctx.write(attr(a), v) }
    func text(_ a: String) -> String? { ctx.text(attr(a)) }

    /// `echo 1 > create`, then the name `create` reads.
    func create(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let e = write("create", "1")
        try #require(e == .OK, "create: \(e) \(abiLastError())", sourceLocation: sourceLocation)
        let name = try #require(text("create"), sourceLocation: sourceLocation)
        return String(name.dropLast())
    }

    @discardableResult func delete(_ n: String) -> Err { write("delete", n) }

    var available: UInt64? { text("available_size").flatMap { UInt64($0.dropLast()) } }
    var seed: String? { text("seed").map { String($0.dropLast()) } }
    var youngest: String? { text("create").map { String($0.dropLast()) } }
}

// MARK: - Device attribute shortcuts (all by name, through the attr interface)

extension ABICtx {
    @discardableResult func setSize(_ dev: String, _ v: UInt64) -> Err { write("\(dev)/size", String(v)) }
    @discardableResult func setSize(_ dev: String, _ v: String) -> Err { write("\(dev)/size", v) }
    @discardableResult func setAlign(_ dev: String, _ v: UInt64) -> Err { write("\(dev)/align", String(v)) }
    @discardableResult func setAlign(_ dev: String, _ v: String) -> Err { write("\(dev)/align", v) }
    @discardableResult func map(_ dev: String, _ start: UInt64, _ end: UInt64) -> Err {
        write("\(dev)/mapping", "\(hexText(start))-\(hexText(end))")
    }
    @discardableResult func map(_ dev: String, _ text: String) -> Err { write("\(dev)/mapping", text) }

    func size(_ dev: String) -> UInt64? { text("\(dev)/size").flatMap { UInt64($0.dropLast()) } }
    func align(_ dev: String) -> UInt64? { text("\(dev)/align").flatMap { UInt64($0.dropLast()) } }

    /// The device's mappings read through mappingK/{start,end,page_offset}.
    func ranges(_ dev: String) -> [MapRange]? {
        guard let d = self.dev(dev) else { return nil }
        let n = daxm_dev_get_nr_mappings(d)
        guard n >= 0 else { return nil }
        var out: [MapRange] = []
        for k in 0..<Int(n) {
            guard let s = text("\(dev)/mapping\(k)/start").flatMap(parseHexLine),
                  let e = text("\(dev)/mapping\(k)/end").flatMap(parseHexLine),
                  let p = text("\(dev)/mapping\(k)/page_offset").flatMap(parseHexLine)
            else { return nil }
            out.append(MapRange(s, e, p))
        }
        return out
    }

    func enabled(_ dev: String) -> Bool? {
        guard let d = self.dev(dev) else { return nil }
        let v = daxm_dev_is_enabled(d)
        return v < 0 ? nil : v == 1
    }
}

// MARK: - Formatting and parsing

func hexText(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

/// Parse a kernel "%#llx\n" line strictly: "0x" + lowercase hex + "\n".
/// (The kernel prints zero as "0x0", unlike glibc.)
func parseHexLine(_ s: String) -> UInt64? {
    guard s.hasPrefix("0x"), s.hasSuffix("\n") else { return nil }
    let digits = s.dropFirst(2).dropLast()
    guard !digits.isEmpty, digits.allSatisfy({ "0123456789abcdef".contains($0) }),
          let v = UInt64(digits, radix: 16) else { return nil }
    return v
}

// MARK: - State snapshots

/// One device range as the mappingK files show it (end inclusive, pgoff in pages).
struct MapRange: Equatable, Hashable, Sendable, CustomStringConvertible {
    var start: UInt64
    var end: UInt64
    var pgoff: UInt64
    init(_ start: UInt64, _ end: UInt64, _ pgoff: UInt64) {
        self.start = start; self.end = end; self.pgoff = pgoff
    }
    /// A range of @len bytes at @start.
    static func at(_ start: UInt64, len: UInt64, pgoff: UInt64) -> MapRange {
        MapRange(start, start &+ len &- 1, pgoff)
    }
    var len: UInt64 { end &- start &+ 1 }
    var description: String { "[\(hexText(start))-\(hexText(end)) pgoff \(hexText(pgoff))]" }
}

struct DevSnapshot: Equatable, Sendable, CustomStringConvertible {
    var name: String
    var size: UInt64
    var align: UInt64
    var enabled: Bool
    var ranges: [MapRange]
    var description: String {
        "\(name) size \(hexText(size)) align \(hexText(align))\(enabled ? " bound" : "") \(ranges)"
    }
}

/// A dynamic region's complete observable state.
struct RegionSnapshot: Equatable, Sendable, CustomStringConvertible {
    var available: UInt64
    var seed: String
    var youngest: String
    var devs: [DevSnapshot]
    var description: String {
        "available \(hexText(available)) seed '\(seed)' create '\(youngest)'\n  "
            + devs.map(\.description).joined(separator: "\n  ")
    }
}

extension ABIRegion {
    /// Device names in id order (daxm_dev_get_first/next).
    var deviceNames: [String] {
        var names: [String] = []
        var d = daxm_dev_get_first(raw)
        while let dev = d {
            if let n = daxm_dev_get_devname(dev) { names.append(String(cString: n)) }
            d = daxm_dev_get_next(dev)
        }
        return names
    }

    /// Read the whole state through the sysfs-text interface. Any attribute
    /// that fails to read or is malformed is recorded as a test issue.
    func snapshot(sourceLocation: SourceLocation = #_sourceLocation) -> RegionSnapshot {
        func line(_ path: String) -> String {
            switch ctx.read(path) {
            case .success(let s):
                #expect(s.hasSuffix("\n"), "\(path) reads \(s.debugDescription) without a newline",
                        sourceLocation: sourceLocation)
                return String(s.dropLast())
            case .failure(let e):
                Issue.record("reading \(path): \(e) \(abiLastError())", sourceLocation: sourceLocation)
                return "<\(e)>"
            }
        }
        func number(_ path: String) -> UInt64 {
            let s = line(path)
            guard let v = UInt64(s) else {
                Issue.record("\(path) reads \(s.debugDescription), not a decimal", sourceLocation: sourceLocation)
                return UInt64.max
            }
            return v
        }
        func hexValue(_ path: String) -> UInt64 {
            switch ctx.read(path) {
            case .success(let s):
                if let v = parseHexLine(s) { return v }
                Issue.record("\(path) reads \(s.debugDescription), not %#llx", sourceLocation: sourceLocation)
            case .failure(let e):
                Issue.record("reading \(path): \(e) \(abiLastError())", sourceLocation: sourceLocation)
            }
            return UInt64.max
        }
        var devs: [DevSnapshot] = []
        for name in deviceNames {
            guard let d = ctx.dev(name) else {
                Issue.record("daxm_dev_get_by_name(\(name)) = NULL for a listed device", sourceLocation: sourceLocation)
                continue
            }
            let n = Int(daxm_dev_get_nr_mappings(d))
            var spans: [MapRange] = []
            for k in 0..<max(n, 0) {
                spans.append(MapRange(hexValue("\(name)/mapping\(k)/start"),
                                  hexValue("\(name)/mapping\(k)/end"),
                                  hexValue("\(name)/mapping\(k)/page_offset")))
            }
            devs.append(DevSnapshot(name: name, size: number("\(name)/size"), align: number("\(name)/align"),
                                 enabled: daxm_dev_is_enabled(d) == 1, ranges: spans))
        }
        return RegionSnapshot(available: number(attr("available_size")), seed: line(attr("seed")),
                           youngest: line(attr("create")), devs: devs)
    }

    /// The state of one device in a snapshot.
    func state(_ name: String) -> DevSnapshot? { snapshot().devs.first { $0.name == name } }
}

// MARK: - Invariants

extension ABIRegion {
    /// Structural invariants of a dynamic region, checked on what the C API
    /// shows (attr text and getters must agree):
    /// - ranges lie inside the region and never overlap, across all devices;
    /// - a device's size is the sum of its range lengths;
    /// - page offsets are the running sum of PHYS_PFN(range length);
    /// - available_size + Σ device sizes == region size;
    /// - seed and create name existing devices (or are empty), daxR.0 is never the seed;
    /// - getters (daxm_dev_get_size, daxm_mapping_*, ...) match the attribute text.
    /// Returns the number of violations (each is recorded as an issue).
    @discardableResult
    func checkInvariants(_ context: @autoclosure () -> String = "", state: RegionSnapshot? = nil,
                         getters: Bool = true, sourceLocation: SourceLocation = #_sourceLocation) -> Int {
        let st = state ?? snapshot(sourceLocation: sourceLocation)
        let where_ = context()
        var failures = 0
        func check(_ ok: Bool, _ msg: @autoclosure () -> String) {
            if !ok {
                failures += 1
                Issue.record("invariant: \(msg()) \(where_)", sourceLocation: sourceLocation)
            }
        }
        var all: [(MapRange, String)] = []
        var total: UInt64 = 0
        for d in st.devs {
            var sum: UInt64 = 0
            var pages: UInt64 = 0
            for (k, r) in d.ranges.enumerated() {
                check(r.start >= start && r.end <= end && r.start <= r.end,
                      "\(d.name) mapping\(k) \(r) outside region [\(hexText(start))-\(hexText(end))]")
                check(r.pgoff == pages, "\(d.name) mapping\(k) page_offset \(hexText(r.pgoff)), want \(hexText(pages))")
                pages &+= r.len >> 12
                sum &+= r.len
                all.append((r, d.name))
            }
            check(d.size == sum, "\(d.name) size \(hexText(d.size)) != Σ ranges \(hexText(sum))")
            total &+= d.size
            // Getters agree with the text.
            guard getters else { continue }
            guard let h = ctx.dev(d.name) else {
                check(false, "daxm_dev_get_by_name(\(d.name)) is NULL")
                continue
            }
            check(daxm_dev_get_size(h) == d.size, "daxm_dev_get_size(\(d.name)) \(daxm_dev_get_size(h)) != \(d.size)")
            check(daxm_dev_get_align(h) == d.align, "daxm_dev_get_align(\(d.name)) \(daxm_dev_get_align(h)) != \(d.align)")
            check(Int(daxm_dev_get_nr_mappings(h)) == d.ranges.count, "daxm_dev_get_nr_mappings(\(d.name))")
            check(daxm_dev_get_region(h) == raw, "daxm_dev_get_region(\(d.name))")
            let expectedResource = d.ranges.first?.start ?? start
            check(daxm_dev_get_resource(h) == expectedResource, "daxm_dev_get_resource(\(d.name))")
            check(ctx.text("\(d.name)/resource") == hexText(expectedResource) + "\n", "\(d.name)/resource")
            var m = daxm_mapping_get_first(h)
            var k = 0
            while let mp = m, k <= d.ranges.count {
                if k < d.ranges.count {
                    let r = d.ranges[k]
                    let got = MapRange(daxm_mapping_get_start(mp), daxm_mapping_get_end(mp), daxm_mapping_get_offset(mp))
                    check(got == r, "\(d.name) daxm_mapping #\(k) \(got) != mapping\(k) \(r)")
                    check(daxm_mapping_get_size(mp) == r.len, "\(d.name) daxm_mapping_get_size #\(k)")
                    check(daxm_mapping_get_id(mp) == Int32(k), "\(d.name) daxm_mapping_get_id #\(k)")
                    check(daxm_mapping_get_dev(mp) == h, "\(d.name) daxm_mapping_get_dev #\(k)")
                }
                k += 1
                m = daxm_mapping_get_next(mp)
            }
            check(k == d.ranges.count, "\(d.name): \(k) daxm_mappings vs \(d.ranges.count) mappingK files")
        }
        all.sort { $0.0.start < $1.0.start }
        for i in all.indices.dropFirst() {
            check(all[i - 1].0.end < all[i].0.start,
                  "\(all[i - 1].1) \(all[i - 1].0) overlaps \(all[i].1) \(all[i].0)")
        }
        check(st.available &+ total == size,
              "available \(hexText(st.available)) + Σ sizes \(hexText(total)) != region size \(hexText(size))")
        let names = Set(st.devs.map(\.name))
        check(st.seed.isEmpty || names.contains(st.seed), "seed names \(st.seed)")
        check(st.seed != name(0), "daxR.0 is never the seed")
        check(st.youngest.isEmpty || names.contains(st.youngest), "create names \(st.youngest)")
        guard getters else { return failures }
        check(daxm_region_get_available_size(raw) == st.available, "daxm_region_get_available_size")
        func devname(_ p: OpaquePointer?) -> String {
            p.flatMap { daxm_dev_get_devname($0) }.map { String(cString: $0) } ?? ""
        }
        check(devname(daxm_region_get_dev_seed(raw)) == st.seed, "daxm_region_get_dev_seed vs seed attr")
        check(devname(daxm_region_get_dev_youngest(raw)) == st.youngest, "daxm_region_get_dev_youngest vs create attr")
        return failures
    }
}

// MARK: - Expectations

/// Expect a write to give @want; the failure names the write and the
/// library's last error.
func expectWrite(_ ctx: ABICtx, _ path: String, _ value: String, _ want: Err,
                 _ note: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
    let got = ctx.write(path, value)
    #expect(got == want, "write \(value.debugDescription) > \(path) \(note) [last error: \(abiLastError())]",
            sourceLocation: sourceLocation)
}

/// Expect a device to have exactly these ranges (read through mappingK files).
func expectRanges(_ ctx: ABICtx, _ dev: String, _ want: [MapRange], _ note: String = "",
                  sourceLocation: SourceLocation = #_sourceLocation) {
    let got = ctx.ranges(dev)
    #expect(got == want, "\(dev) ranges \(note)", sourceLocation: sourceLocation)
    let sum = want.reduce(UInt64(0)) { $0 + $1.len }
    #expect(ctx.size(dev) == sum, "\(dev) size \(note)", sourceLocation: sourceLocation)
}
