// ReferenceKernel.swift - a plain, literal port of the kernel's device-DAX
// allocator pseudocode (shared/reference/kernel-dax.md §2.1-§2.3 and §3,
// with the corrections at its top and the rules in shared/kernel-lab/
// README.md), for one dynamic region.
//
// It is written from the references, not from the library: the resource
// tree is a sorted list of busy ranges recomputed from the devices, and
// every store follows the kernel's order of checks (parse, validate, bound,
// no-op, space, allocate). RandomOpsTests applies the same attribute writes
// to this reference and to the library and compares errno and state.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Kernel text parsing (lib/kstrtox.c): kstrtoull, kstrtoul, kstrtoint.
enum KStrToX {
    /// _parse_integer_fixup_radix + _parse_integer + the tail check of _kstrtoull.
    static func kstrtoullNoSign(_ s: ArraySlice<UInt8>, base inBase: UInt64) -> Result<UInt64, Err> {
        func at(_ i: Int) -> UInt8 { i < s.endIndex ? s[i] : 0 }
        func lower(_ c: UInt8) -> UInt8 { c | 0x20 }
        func isxdigit(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (lower(c) >= 0x61 && lower(c) <= 0x66)
        }
        var i = s.startIndex
        var base = inBase
        if base == 0 {
            if at(i) == UInt8(ascii: "0") {
                base = (lower(at(i + 1)) == UInt8(ascii: "x") && isxdigit(at(i + 2))) ? 16 : 8
            } else {
                base = 10
            }
        }
        if base == 16 && at(i) == UInt8(ascii: "0") && lower(at(i + 1)) == UInt8(ascii: "x") {
            i += 2
        }
        var res: UInt64 = 0
        var digits = 0
        var overflow = false
        while true {
            let c = at(i)
            let val: UInt64
            if c >= 0x30 && c <= 0x39 {
                val = UInt64(c - 0x30)
            } else if lower(c) >= 0x61 && lower(c) <= 0x66 {
                val = UInt64(lower(c) - 0x61 + 10)
            } else {
                break
            }
            if val >= base { break }
            if res & (~UInt64(0) << 60) != 0 {
                if res > (UInt64.max - val) / base { overflow = true }
            }
            res = res &* base &+ val
            digits += 1
            i += 1
        }
        if overflow { return .failure(.ERANGE) }
        if digits == 0 { return .failure(.EINVAL) }
        if at(i) == UInt8(ascii: "\n") { i += 1 }
        if i < s.endIndex { return .failure(.EINVAL) }
        return .success(res)
    }

    static func kstrtoull(_ s: ArraySlice<UInt8>, base: UInt64) -> Result<UInt64, Err> {
        var t = s
        if t.first == UInt8(ascii: "+") { t = t.dropFirst() }
        return kstrtoullNoSign(t, base: base)
    }

    static func kstrtoint(_ s: ArraySlice<UInt8>, base: UInt64) -> Result<Int32, Err> {
        let v: Int64
        if s.first == UInt8(ascii: "-") {
            switch kstrtoullNoSign(s.dropFirst(), base: base) {
            case .failure(let e): return .failure(e)
            case .success(let t):
                let neg = Int64(bitPattern: 0 &- t)
                if neg > 0 { return .failure(.ERANGE) }
                v = neg
            }
        } else {
            switch kstrtoull(s, base: base) {
            case .failure(let e): return .failure(e)
            case .success(let t):
                if Int64(bitPattern: t) < 0 { return .failure(.ERANGE) }
                v = Int64(bitPattern: t)
            }
        }
        if v != Int64(Int32(truncatingIfNeeded: v)) { return .failure(.ERANGE) }
        return .success(Int32(v))
    }

    /// sysfs_streq: equal, except that one trailing newline on either side is ignored.
    static func sysfsStreq(_ a: ArraySlice<UInt8>, _ b: String) -> Bool {
        var x = Array(a)
        if x.last == UInt8(ascii: "\n") { x.removeLast() }
        return x == Array(b.utf8)
    }
}

/// One dynamic DAX region as the kernel keeps it.
struct ReferenceKernel {
    struct Range: Equatable {
        var start: UInt64
        var end: UInt64 // inclusive
        var pgoff: UInt64
        var len: UInt64 { end &- start &+ 1 }
    }

    struct Dev {
        var id: Int
        var align: UInt64
        var ranges: [Range] = []
        var bound = false
        /// dev_dax_probe stored a devres page map that memremap_pages'
        /// failure freed without clearing the pointer.
        var stalePgmap = false
        var size: UInt64 { ranges.reduce(0) { $0 &+ $1.len } }
    }

    /// A busy child resource of the region: one device range.
    struct Res {
        var start: UInt64
        var end: UInt64
        var dev: Int
        var index: Int
        var len: UInt64 { end &- start &+ 1 }
    }

    let regionId: Int
    let start: UInt64
    let end: UInt64 // inclusive
    let align: UInt64
    let profile: ABIProfile
    var devs: [Int: Dev] = [:]
    var seed: Int?
    var youngest: Int?
    /// Names written to device_dax/new_id (the driver's id list).
    var driverIds: Set<String> = []

    static let compatAlign: UInt64 = 2 * MiB // memremap_compat_align() = SUBSECTION_SIZE

    /// The producer's probe: daxR.0 over the whole region (bound unless
    /// @unbound), or at size 0 (region_idle).
    init(regionId: Int, start: UInt64, size: UInt64, align: UInt64, profile: ABIProfile,
         idle: Bool, unbound: Bool) {
        self.regionId = regionId
        self.start = start
        self.end = start + size - 1
        self.align = align
        self.profile = profile
        var d0 = Dev(id: 0, align: align)
        if !idle {
            d0.ranges = [Range(start: start, end: end, pgoff: 0)]
            d0.bound = !unbound
        }
        devs[0] = d0
    }

    func name(_ id: Int) -> String { "dax\(regionId).\(id)" }

    // MARK: resource tree

    /// region->res children, in address order.
    func children() -> [Res] {
        var all: [Res] = []
        for d in devs.values {
            for (i, r) in d.ranges.enumerated() {
                all.append(Res(start: r.start, end: r.end, dev: d.id, index: i))
            }
        }
        return all.sorted { $0.start < $1.start }
    }

    /// dax_region_avail_size: region size minus every child.
    func availSize() -> UInt64 {
        children().reduce(end - start + 1) { $0 - $1.len }
    }

    func allocIsAligned(_ d: Dev, _ size: UInt64) -> Bool {
        size % max(d.align, Self.compatAlign) == 0
    }

    // MARK: allocator verbs (§3)

    /// alloc_dev_dax_range: request [start, start+size) on the region root and
    /// append it with pgoff = Σ PHYS_PFN(previous lengths).
    mutating func allocDevDaxRange(_ id: Int, _ s: UInt64, _ size: UInt64) -> Err {
        if size == 0 {
            // "0-size allocation must be first"
            return devs[id]!.ranges.isEmpty ? .OK : .EBUSY
        }
        let e = s &+ size &- 1
        // __request_resource: conflict with the root when end < start or outside it.
        if e < s || s < start || e > end { return .ENOMEM }
        for c in children() where !(c.end < s || c.start > e) { return .ENOMEM }
        var pgoff: UInt64 = 0
        for r in devs[id]!.ranges { pgoff &+= r.len >> 12 }
        devs[id]!.ranges.append(Range(start: s, end: e, pgoff: pgoff))
        return .OK
    }

    /// adjust_ok: @res is the device's last range (and has the highest pgoff).
    func adjustOK(_ id: Int, _ res: Res) -> Bool {
        let d = devs[id]!
        guard let last = d.ranges.last, res.dev == id else { return false }
        if last.start != res.start || last.end != res.end { return false }
        for r in d.ranges.dropLast() where r.pgoff > last.pgoff { return false }
        return true
    }

    /// adjust_dev_dax_range: resize the range @res in place (same start).
    mutating func adjustDevDaxRange(_ res: Res, _ newSize: UInt64) -> Err {
        let newEnd = res.start &+ newSize &- 1
        for c in children() where !(c.dev == res.dev && c.index == res.index) {
            if !(c.end < res.start || c.start > newEnd) { return .EBUSY }
        }
        if newEnd > end { return .EBUSY }
        devs[res.dev]!.ranges[res.index].end = newEnd
        return .OK
    }

    /// dev_dax_shrink: drop whole ranges from the end, trim at most one.
    mutating func shrink(_ id: Int, to newSize: UInt64) -> Err {
        var toShrink = devs[id]!.size - newSize
        var i = devs[id]!.ranges.count - 1
        while i >= 0 {
            let r = devs[id]!.ranges[i]
            let s = min(toShrink, r.len)
            if s >= r.len {
                devs[id]!.ranges.removeLast() // trim_dev_dax_range
                toShrink -= s
                if toShrink == 0 { break }
                i -= 1
                continue
            }
            guard i == devs[id]!.ranges.count - 1 else { return .ENXIO }
            return adjustDevDaxRange(Res(start: r.start, end: r.end, dev: id, index: i), r.len - s)
        }
        return .OK
    }

    /// dev_dax_resize (grow part): lowest-address first fit, split across
    /// holes, extend in place only when the chosen hole follows the last range.
    mutating func grow(_ id: Int, by amount: UInt64) -> Err {
        var toAlloc = amount
        while true { // retry:
            let kids = children()
            guard let first = kids.first else {
                return allocDevDaxRange(id, start, toAlloc)
            }
            var rc = Err.ENOSPC
            var alloc: UInt64 = 0
            for (i, res) in kids.enumerated() {
                let next: Res? = i + 1 < kids.count ? kids[i + 1] : nil
                // space at the beginning of the region
                if i == 0 && first.start > start {
                    alloc = min(first.start - start, toAlloc)
                    rc = allocDevDaxRange(id, start, alloc)
                    break
                }
                alloc = 0
                // space between allocations
                if let next, next.start > res.end + 1 {
                    alloc = min(next.start - (res.end + 1), toAlloc)
                }
                // space at the end of the region
                if alloc == 0 && next == nil && res.end < end {
                    alloc = min(end - res.end, toAlloc)
                }
                if alloc == 0 { continue }
                if adjustOK(id, res) {
                    rc = adjustDevDaxRange(res, res.len + alloc)
                } else {
                    rc = allocDevDaxRange(id, res.end + 1, alloc)
                }
                break
            }
            if rc != .OK { return rc }
            toAlloc -= alloc
            if toAlloc == 0 { return .OK }
        }
    }

    // MARK: stores

    /// size_store + dev_dax_resize.
    mutating func sizeStore(_ id: Int, _ buf: ArraySlice<UInt8>) -> Err {
        let val: UInt64
        switch KStrToX.kstrtoull(buf, base: 0) {
        case .failure(let e): return e
        case .success(let v): val = v
        }
        guard allocIsAligned(devs[id]!, val) else { return .EINVAL }
        let d = devs[id]!
        if d.bound { return .EBUSY }
        let cur = d.size
        if val == cur { return .OK }
        if val > cur && val - cur > availSize() { return .ENOSPC }
        if val < cur { return shrink(id, to: val) }
        let toAlloc = val - cur
        if !allocIsAligned(d, toAlloc) { return .ENXIO }
        return grow(id, by: toAlloc)
    }

    /// align_store.
    mutating func alignStore(_ id: Int, _ buf: ArraySlice<UInt8>) -> Err {
        let val: UInt64
        switch KStrToX.kstrtoull(buf, base: 0) { // kstrtoul on 64-bit
        case .failure: return .ENXIO
        case .success(let v): val = v
        }
        guard val == 4096 || val == 2 * MiB || val == GiB else { return .EINVAL }
        if devs[id]!.bound { return .EBUSY }
        let save = devs[id]!.align
        devs[id]!.align = val
        for r in devs[id]!.ranges where !allocIsAligned(devs[id]!, r.len) {
            devs[id]!.align = save
            return .EINVAL
        }
        return .OK
    }

    /// mapping_store + range_parse.
    mutating func mappingStore(_ id: Int, _ buf: ArraySlice<UInt8>) -> Err {
        guard let dash = buf.firstIndex(of: UInt8(ascii: "-")) else { return .EINVAL }
        let s: UInt64, e: UInt64
        switch KStrToX.kstrtoull(buf[buf.startIndex..<dash], base: 16) {
        case .failure(let err): return err
        case .success(let v): s = v
        }
        switch KStrToX.kstrtoull(buf[(dash + 1)...], base: 16) {
        case .failure(let err): return err
        case .success(let v): e = v
        }
        let len = e &- s &+ 1
        guard allocIsAligned(devs[id]!, len) else {
            return profile == .v6_1 ? .ENXIO : .OK // 6.12: rc overwrite, silent no-op
        }
        return allocDevDaxRange(id, s, len)
    }

    /// create_store.
    mutating func createStore(_ buf: ArraySlice<UInt8>) -> Err {
        switch KStrToX.kstrtoint(buf, base: 0) {
        case .failure(let e): return e
        case .success(let v): if v != 1 { return .EINVAL }
        }
        if availSize() == 0 { return .ENOSPC }
        var id = 0
        while devs[id] != nil { id += 1 } // ida_alloc: lowest free
        devs[id] = Dev(id: id, align: align)
        if seed == nil { seed = id }
        youngest = id
        return .OK
    }

    func lookup(_ buf: ArraySlice<UInt8>) -> Int? {
        devs.keys.first { KStrToX.sysfsStreq(buf, name($0)) }
    }

    /// delete_store.
    mutating func deleteStore(_ buf: ArraySlice<UInt8>) -> Err {
        guard let id = lookup(buf) else { return .ENXIO }
        let d = devs[id]!
        if d.bound || d.size != 0 { return .EBUSY }
        if id == 0 { return .EBUSY }
        devs[id] = nil
        if seed == id { seed = nil }
        if youngest == id { youngest = nil }
        return .OK
    }

    /// dax_bus_match: on 6.1 device_dax has match_always; from 6.3 on, hmem
    /// and CXL regions are IORESOURCE_DAX_KMEM, so device_dax matches a
    /// dynamic device only by a name listed through new_id.
    func matches(_ id: Int) -> Bool {
        profile == .v6_1 || driverIds.contains(name(id))
    }

    /// dax_bus_probe + dev_dax_probe: size 0 ENXIO; a page map left from an
    /// earlier failed probe EINVAL ("dynamic-dax with pre-populated page
    /// map"); a range whose start or length is not 2 MiB aligned EINVAL
    /// (memremap_pages' subsection check), after the page map was stored.
    mutating func probe(_ id: Int) -> Err {
        let d = devs[id]!
        if d.size == 0 { return .ENXIO }
        if d.stalePgmap { return .EINVAL }
        for r in d.ranges where r.start % Self.compatAlign != 0 || r.len % Self.compatAlign != 0 {
            devs[id]!.stalePgmap = true
            return .EINVAL
        }
        devs[id]!.bound = true
        if seed == id { seed = nil }
        return .OK
    }

    /// drivers/device_dax/bind: bus_find_device_by_name, driver_match_device,
    /// then device_driver_attach (EBUSY if bound) and the probe.
    mutating func bindStore(_ buf: ArraySlice<UInt8>) -> Err {
        guard let id = lookup(buf), matches(id) else { return .ENODEV }
        if devs[id]!.bound { return .EBUSY }
        return probe(id)
    }

    /// do_id_store's name check: sscanf("dax%d.%d") and sysfs_streq with
    /// the sprintf'd name, i.e. a canonical device name (one newline allowed).
    static func idName(_ buf: ArraySlice<UInt8>) -> String? {
        var b = Array(buf)
        if b.last == UInt8(ascii: "\n") { b.removeLast() }
        let s = String(decoding: b, as: UTF8.self)
        guard s.hasPrefix("dax") else { return nil }
        let parts = s.dropFirst(3).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let r = Int32(parts[0]), let n = Int32(parts[1]),
              "dax\(r).\(n)" == s else { return nil }
        return s
    }

    /// drivers/device_dax/new_id: list the name, then driver_attach: every
    /// unbound device the driver matches is probed; probe failures are ignored.
    mutating func newIdStore(_ buf: ArraySlice<UInt8>) -> Err {
        guard let n = Self.idName(buf) else { return .EINVAL }
        driverIds.insert(n)
        for id in devs.keys.sorted() where !devs[id]!.bound && matches(id) {
            _ = probe(id)
        }
        return .OK
    }

    /// drivers/device_dax/remove_id.
    mutating func removeIdStore(_ buf: ArraySlice<UInt8>) -> Err {
        guard let n = Self.idName(buf) else { return .EINVAL }
        driverIds.remove(n)
        return .OK
    }

    /// drivers/device_dax/unbind.
    mutating func unbindStore(_ buf: ArraySlice<UInt8>) -> Err {
        guard let id = lookup(buf), devs[id]!.bound else { return .ENODEV }
        devs[id]!.bound = false
        return .OK
    }

    // MARK: the write(2) entry point

    /// write(2) of @value to @path, for the paths the random test uses.
    mutating func write(_ path: String, _ value: String) -> Err {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else { return .ENOENT }
        let buf = Array(value.utf8.prefix(4096))[...] // kernfs: at most PAGE_SIZE
        let (obj, attr) = (parts[0], parts[1])
        if obj == "region\(regionId)" {
            if ["id", "size", "align", "available_size", "seed"].contains(attr) { return .EACCES }
            guard attr == "create" || attr == "delete" else { return .ENOENT }
            if buf.isEmpty { return .OK } // sysfs_kf_write: a 0-byte write is a no-op
            return attr == "create" ? createStore(buf) : deleteStore(buf)
        }
        if obj == "device_dax" {
            guard ["bind", "unbind", "new_id", "remove_id"].contains(attr) else { return .ENOENT }
            if buf.isEmpty { return .OK }
            switch attr {
            case "bind": return bindStore(buf)
            case "unbind": return unbindStore(buf)
            case "new_id": return newIdStore(buf)
            default: return removeIdStore(buf)
            }
        }
        guard let id = devs.keys.first(where: { name($0) == obj }) else { return .ENOENT }
        switch attr {
        case "size", "align", "mapping":
            if buf.isEmpty { return .OK }
            if attr == "size" { return sizeStore(id, buf) }
            if attr == "align" { return alignStore(id, buf) }
            return mappingStore(id, buf)
        case "resource", "modalias", "numa_node": return .EACCES
        default: return .ENOENT
        }
    }

    // MARK: state

    var state: RegionSnapshot {
        RegionSnapshot(
            available: availSize(),
            seed: seed.map(name) ?? "",
            youngest: youngest.map(name) ?? "",
            devs: devs.keys.sorted().map { id in
                let d = devs[id]!
                return DevSnapshot(name: name(id), size: d.size, align: d.align, enabled: d.bound,
                                ranges: d.ranges.map { MapRange($0.start, $0.end, $0.pgoff) })
            })
    }
}
