import DaxModel
import DaxModelHeader

// Importing a real /sys/bus/dax (or a captured copy of one) into a
// context: regions with the kernel's ids, devices with their ranges, page
// offsets, aligns and bound state, seed and youngest. Views of imported
// devices map the real /dev/daxR.N.

/// Reads one region directory (the parent of its dax devices) and its
/// devices into a snapshot. All reading happens here; the model checks it.
private struct SysfsReader {
    let root: String

    func text(_ path: String) -> String? {
        sys_read_text(path).map { $0.hasSuffix("\n") ? String($0.dropLast()) : $0 }
    }

    func number(_ path: String) throws(DaxErrorBox) -> UInt64 {
        guard let t = text(path) else { throw DaxErrorBox(.noEntry, "import: cannot read \(path)") }
        guard case .success(let v) = SysfsParse.kstrtoull(Array(t.utf8)) else {
            throw DaxErrorBox(.invalidArgument, "import: \(path) holds \"\(t.prefix(40))\", not a number")
        }
        return v
    }

    func signed(_ path: String) -> Int {
        guard let t = text(path), let v = Int(t) else { return -1 }
        return max(v, -1)
    }

    /// The kernel release under `root`, to pick a profile: before 6.9 the
    /// bus used device locks (the 6.1 profile), from 6.9 the rwsems (6.12).
    func profile() -> KernelProfile {
        guard let release = text(root + "/proc/sys/kernel/osrelease") else { return .linux6_12 }
        let parts = release.split(separator: ".").prefix(2).compactMap { Int($0.prefix { $0.isNumber }) }
        guard parts.count == 2 else { return .linux6_12 }
        return (parts[0], parts[1]) < (6, 9) ? .linux6_1 : .linux6_12
    }

    func snapshot(regionDir: String, devices: [(name: String, id: Int, dir: String)],
                  profile: KernelProfile) throws(DaxErrorBox) -> RegionSnapshot {
        let attrs = regionDir + "/dax_region"
        let id = Int(try number(attrs + "/id"))
        var spec = RegionSpec(start: 0, size: try number(attrs + "/size"))
        spec.id = id
        spec.align = try number(attrs + "/align")
        spec.kind = sys_exists(attrs + "/available_size") ? .dynamic : .staticRegion
        spec.profile = profile
        var snaps: [RegionSnapshot.DeviceSnapshot] = []
        var starts: [UInt64] = [], lasts: [UInt64] = [], idleResource: UInt64?
        for dev in devices {
            var ranges: [(start: UInt64, last: UInt64, pageOffset: UInt64)] = []
            var k = 0
            while sys_exists("\(dev.dir)/mapping\(k)") {
                let m = "\(dev.dir)/mapping\(k)"
                ranges.append((try number(m + "/start"), try number(m + "/end"), try number(m + "/page_offset")))
                k += 1
            }
            let size = try number(dev.dir + "/size")
            let total = ranges.reduce(UInt64(0)) { $0 &+ ($1.last &- $1.start &+ 1) }
            guard total == size else {
                throw DaxErrorBox(.invalidArgument, "import: \(dev.name) has size \(size) but its mappings hold \(total)")
            }
            if ranges.isEmpty { idleResource = idleResource ?? (try? number(dev.dir + "/resource")) }
            starts += ranges.map(\.start)
            lasts += ranges.map(\.last)
            spec.targetNode = signed(dev.dir + "/target_node")
            spec.numaNode = signed(dev.dir + "/numa_node")
            let path = root == "/" ? "/dev/\(dev.name)" : "\(root)/dev/\(dev.name)"
            snaps.append(.init(id: dev.id, align: try number(dev.dir + "/align"), bound: sys_exists(dev.dir + "/driver"),
                               ranges: ranges, path: path))
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
            let available = try number(attrs + "/available_size")
            let used = snaps.reduce(UInt64(0)) { sum, d in d.ranges.reduce(sum) { $0 &+ ($1.last &- $1.start &+ 1) } }
            guard used <= spec.size, available == spec.size - used else {
                throw DaxErrorBox(.invalidArgument,
                                  "import: region\(id)/available_size is \(available), but its size \(spec.size) minus the devices' \(used) bytes differs")
            }
        }
        let seed = spec.kind == .dynamic ? deviceId(text(attrs + "/seed")) : nil
        let youngest = spec.kind == .dynamic ? deviceId(text(attrs + "/create")) : nil
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
        var base = String(decoding: sys_bytes(root), as: UTF8.self)
        while base.count > 1, base.hasSuffix("/") { base.removeLast() }
        let reader = SysfsReader(root: base)
        let prefix = base == "/" ? "" : base
        let devicesDir = prefix + "/sys/bus/dax/devices"
        guard let names = sys_list_dir(devicesDir) else {
            throw DaxErrorBox(.noEntry, "import: \(devicesDir) cannot be read")
        }
        var groups: [String: [(name: String, id: Int, dir: String)]] = [:]
        for name in names.sorted() {
            guard let (_, n) = parseDaxName(name), let dir = sys_realpath("\(devicesDir)/\(name)") else { continue }
            guard let slash = dir.lastIndex(of: "/") else { continue }
            groups[String(dir[..<slash]), default: []].append((name, n, dir))
        }
        let profile = reader.profile()
        var snapshots: [RegionSnapshot] = []
        for (regionDir, devices) in groups.sorted(by: { $0.key < $1.key }) {
            guard sys_exists(regionDir + "/dax_region") else { continue }  // not a dax-bus region
            snapshots.append(try reader.snapshot(regionDir: regionDir, devices: devices, profile: profile))
        }
        guard !snapshots.isEmpty else { throw DaxErrorBox(.noEntry, "import: no dax region under \(devicesDir)") }
        for snap in snapshots {
            try box { () throws(DaxError) in _ = try c.model.importRegion(snap) }
        }
        return Int32(clamping: snapshots.count)
    }
}
