import DaxModel
import DaxModelHeader

// Importing a real /sys/bus/dax (or a captured copy of one) into a
// context: regions with the kernel's ids, devices with their ranges, page
// offsets, aligns and bound state, seed and youngest. Views of imported
// devices map the real /dev/daxR.N.

/// Reads one region directory (the parent of its dax devices) and its
/// devices into a snapshot. All reading happens here; the model checks it.
private struct SysfsReader {
    let root: SysPath

    func text(_ path: SysPath) -> String? {
        sys_read_text(path).map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
    }

    func number(_ path: SysPath) throws(DaxErrorBox) -> UInt64 {
        guard let t = text(path) else { throw DaxErrorBox(.noEntry, "import: cannot read \(path)") }
        guard case .success(let v) = SysfsParse.kstrtoull(Array(t.utf8)) else {
            throw DaxErrorBox(.invalidArgument, "import: \(path) holds \"\(t.prefix(40))\", not a number")
        }
        return v
    }

    func signed(_ path: SysPath) -> Int {
        guard let t = text(path), let v = Int(t) else { return -1 }
        return max(v, -1)
    }

    /// The kernel release under `root`, to pick a profile: before 6.9 the
    /// bus used device locks (the 6.1 profile), from 6.9 the rwsems (6.12).
    func profile() -> KernelProfile {
        guard let release = text(root.appending("proc/sys/kernel/osrelease")) else { return .linux6_12 }
        let parts = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        guard parts.count == 2 else { return .linux6_12 }
        return (parts[0], parts[1]) < (6, 9) ? .linux6_1 : .linux6_12
    }

    func snapshot(regionDir: SysPath, devices: [(name: String, id: Int, dir: SysPath)],
                  profile: KernelProfile) throws(DaxErrorBox) -> RegionSnapshot {
        let attrs = regionDir.appending("dax_region")
        let idPath = attrs.appending("id")
        guard let id = Int(exactly: try number(idPath)), id <= Int(Int32.max) else {
            throw DaxErrorBox(.invalidArgument, "import: \(idPath) holds a region id above \(Int32.max)")
        }
        var spec = RegionSpec(start: 0, size: try number(attrs.appending("size")))
        spec.id = id
        spec.align = try number(attrs.appending("align"))
        spec.kind = sys_exists(attrs.appending("available_size")) ? .dynamic : .staticRegion
        spec.profile = profile
        var snaps: [RegionSnapshot.DeviceSnapshot] = []
        var starts: [UInt64] = [], lasts: [UInt64] = [], idleResource: UInt64?
        for dev in devices {
            var ranges: [(start: UInt64, last: UInt64, pageOffset: UInt64)] = []
            var k = 0
            while sys_exists(dev.dir.appending("mapping\(k)")) {
                let m = dev.dir.appending("mapping\(k)")
                ranges.append((try number(m.appending("start")), try number(m.appending("end")), try number(m.appending("page_offset"))))
                k += 1
            }
            let size = try number(dev.dir.appending("size"))
            let total = ranges.reduce(UInt64(0)) { $0 &+ ($1.last &- $1.start &+ 1) }
            guard total == size else {
                throw DaxErrorBox(.invalidArgument, "import: \(dev.name) has size \(size) but its mappings hold \(total)")
            }
            if ranges.isEmpty { idleResource = idleResource ?? (try? number(dev.dir.appending("resource"))) }
            starts += ranges.map(\.start)
            lasts += ranges.map(\.last)
            spec.targetNode = signed(dev.dir.appending("target_node"))
            spec.numaNode = signed(dev.dir.appending("numa_node"))
            let path = root.appending("dev").appending(dev.name)
            guard path.bytes.count < SysPath.limit else {
                throw DaxErrorBox(.nameTooLong, "import: the device path for \(dev.name) would be 4096 bytes or longer")
            }
            snaps.append(.init(id: dev.id, align: try number(dev.dir.appending("align")), bound: sys_exists(dev.dir.appending("driver")),
                               ranges: ranges, path: path.bytes))
            if spec.kind == .staticRegion { spec.staticDeviceId = dev.id }
        }
        // The region start is not an attribute: a device without ranges
        // reports it as `resource`; otherwise the ranges must pin it down.
        if let start = idleResource {
            spec.start = start
        } else if let low = starts.min(), let high = lasts.max(), high &- spec.size &+ 1 == low || spec.kind == .staticRegion {
            spec.start = low
        } else {
            throw DaxErrorBox(.invalidArgument, "import: cannot tell where region\(id) starts (no idle device, and its ranges leave room)")
        }
        func deviceId(_ name: String?) -> Int? {
            guard let name, let (r, n) = parseDaxName(name), r == id else { return nil }
            return n
        }
        if spec.kind == .dynamic {
            let available = try number(attrs.appending("available_size"))
            let used = snaps.reduce(UInt64(0)) { sum, d in d.ranges.reduce(sum) { $0 &+ ($1.last &- $1.start &+ 1) } }
            guard used <= spec.size, available == spec.size - used else {
                throw DaxErrorBox(.invalidArgument,
                                  "import: region\(id)/available_size is \(available), but its size \(spec.size) minus the devices' \(used) bytes differs")
            }
        }
        let seed = spec.kind == .dynamic ? deviceId(text(attrs.appending("seed"))) : nil
        let youngest = spec.kind == .dynamic ? deviceId(text(attrs.appending("create"))) : nil
        return RegionSnapshot(spec: spec, devices: snaps, seed: seed, youngest: youngest)
    }
}

/// "daxR.N" → (R, N).
private func parseDaxName(_ name: String) -> (Int, Int)? {
    guard name.hasPrefix("dax"), let dot = name.firstIndex(of: ".") else { return nil }
    guard let r = Int(name[name.index(name.startIndex, offsetBy: 3)..<dot]), let n = Int(name[name.index(after: dot)...]),
          r >= 0, n >= 0 else { return nil }
    return (r, n)
}

@implementation @c public func daxm_ctx_import_sysfs(_ ctx: OpaquePointer?, _ root: UnsafePointer<CChar>?) -> Int32 {
    withContext(ctx, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let root else { throw DaxErrorBox(.invalidArgument, "daxm_ctx_import_sysfs: root is NULL", priority: Priority.err) }
        let base: SysPath
        switch SysPath.from(root) {
        case .success(let p): base = p.trimmed
        case .failure(let e): throw DaxErrorBox(e, "daxm_ctx_import_sysfs: root is 4096 bytes or longer")
        }
        let reader = SysfsReader(root: base)
        let devicesDir = base.appending("sys/bus/dax/devices")
        guard let names = sys_list_dir(devicesDir) else {
            throw DaxErrorBox(.noEntry, "import: \(devicesDir) cannot be read")
        }
        // Devices grouped by their parent directory (the region), keyed by
        // the parent's bytes.
        var groups: [[UInt8]: [(name: String, id: Int, dir: SysPath)]] = [:]
        for name in names.sorted() {
            guard let (_, n) = parseDaxName(name), let dir = sys_realpath(devicesDir.appending(name)) else { continue }
            groups[dir.directory.bytes, default: []].append((name, n, dir))
        }
        let profile = reader.profile()
        var snapshots: [RegionSnapshot] = []
        for (regionDir, devices) in groups.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            let dir = SysPath(bytes: regionDir)
            guard sys_exists(dir.appending("dax_region")) else { continue }  // not a dax-bus region
            snapshots.append(try reader.snapshot(regionDir: dir, devices: devices, profile: profile))
        }
        guard !snapshots.isEmpty else { throw DaxErrorBox(.noEntry, "import: no dax region under \(devicesDir)") }
        for snap in snapshots {
            try box { () throws(DaxError) in _ = try c.model.importRegion(snap) }
        }
        return Int32(clamping: snapshots.count)
    }
}
