/// The model's one sysfs entry point: read or write any attribute by path,
/// with the kernel's parsing, formatting, visibility and file modes.
///
/// Paths (relative, no leading slash):
/// - `regionR/<attr>`            region attributes (`dax_region/` in Linux)
/// - `daxR.N/<attr>`             device attributes
/// - `daxR.N/mappingK/<attr>`    range attributes
/// - `device_dax/{bind,unbind,new_id,remove_id}`   driver files
///
/// Errors follow kernfs: a path that does not exist is ENOENT; opening an
/// attribute against its mode is EACCES; then the store's own errno.
extension DaxBus {
    private enum Target {
        case region(Region, SysfsAttribute<Region>)
        case device(Device, SysfsAttribute<Device>)
        case range(DeviceRange, SysfsAttribute<DeviceRange>)
        case extent(Extent, SysfsAttribute<Extent>)
        case driver(String)
    }

    private func resolve(_ path: String) throws(DaxError) -> Target {
        var bytes = path
        guard let target = bytes.withUTF8({ resolve(bytes: $0) }) else {
            throw DaxError(.noEntry, "\(path): no such attribute")
        }
        return target
    }

    /// `resolve` on the path's bytes (kernfs compares bytes): nil when
    /// nothing is there. Allocates nothing but the short names it looks up.
    private func resolve(bytes: UnsafeBufferPointer<UInt8>) -> Target? {
        // The path's parts: one to three, split at "/".
        var cuts = (bytes.count, bytes.count)
        var count = 1
        for i in bytes.indices where bytes[i] == UInt8(ascii: "/") {
            count += 1
            switch count {
            case 2: cuts.0 = i
            case 3: cuts.1 = i
            default: return nil
            }
        }
        let first = bytes[..<cuts.0]
        let second = bytes[min(cuts.0 + 1, bytes.count)..<cuts.1]
        let third = bytes[min(cuts.1 + 1, bytes.count)...]
        func name(_ part: Slice<UnsafeBufferPointer<UInt8>>) -> String { String(decoding: part, as: UTF8.self) }
        switch count {
        case 2 where first.elementsEqual("device_dax".utf8):
            let file = name(second)
            guard ["bind", "unbind", "new_id", "remove_id"].contains(file) else { return nil }
            return .driver(file)
        case 2:
            if let r = SysfsName.parseRegion(first) {
                guard let region = region(id: r), let attr = Region.sysfsAttributes[name(second)],
                      region.isVisible(attr.name) else { return nil }
                return .region(region, attr)
            }
            guard let (r, n) = SysfsName.parseDevice(first), let device = region(id: r)?.device(id: n),
                  let attr = Device.sysfsAttributes[name(second)], device.isVisible(attr.name) else { return nil }
            return .device(device, attr)
        case 3 where first.starts(with: "region".utf8):
            guard let r = SysfsName.parseRegion(first), let region = region(id: r),
                  let k = SysfsName.parseExtent(second), let extent = region.extent(id: k),
                  let attr = Extent.sysfsAttributes[name(third)] else { return nil }
            return .extent(extent, attr)
        case 3:
            guard let (r, n) = SysfsName.parseDevice(first), let device = region(id: r)?.device(id: n),
                  let k = SysfsName.parseMapping(second), k < device.ranges.count,
                  let attr = DeviceRange.sysfsAttributes[name(third)] else { return nil }
            return .range(device.ranges[k], attr)
        default:
            return nil
        }
    }

    /// Reads `path` as the kernel prints it (trailing newline included).
    /// - Throws: ENOENT (no such attribute), EACCES (write-only).
    public func readAttribute(_ path: String) throws(DaxError) -> String {
        func denied() -> DaxError { DaxError(.permissionDenied, "\(path): attribute is write-only") }
        switch try resolve(path) {
        case let .region(region, attr):
            guard let show = attr.show else { throw denied() }
            return try show(region)
        case let .device(device, attr):
            guard let show = attr.show else { throw denied() }
            return try show(device)
        case let .range(range, attr):
            guard let show = attr.show else { throw denied() }
            return try show(range)
        case let .extent(extent, attr):
            guard let show = attr.show else { throw denied() }
            return try show(extent)
        case .driver:
            throw denied()
        }
    }

    /// Writes `value` (the bytes of one write(2)) to `path`.
    /// - Throws: ENOENT, EACCES, then the store's errno.
    /// A write of 0 bytes passes the open-time checks and then never
    /// reaches the store (`sysfs_kf_write` returns 0 for an empty count).
    /// `written` is the byte count of the write(2) when it differs from
    /// `value.count` (a value cut at a NUL: the store still runs).
    public func writeAttribute(_ path: String, _ value: [UInt8], written: Int? = nil) throws(DaxError) {
        func denied() -> DaxError { DaxError(.permissionDenied, "\(path): attribute is read-only") }
        let empty = (written ?? value.count) == 0
        switch try resolve(path) {
        case let .region(region, attr):
            guard let store = attr.store else { throw denied() }
            if empty { return }
            try store(region, value)
        case let .device(device, attr):
            guard let store = attr.store, !device.isReadOnly(attr.name) else { throw denied() }
            if empty { return }
            try store(device, value)
        case .range:
            throw denied()
        case let .extent(extent, attr):
            guard let store = attr.store else { throw denied() }
            if empty { return }
            try store(extent, value)
        case .driver(let file):
            if empty { return }
            try storeDriver(file, value)
        }
    }

    /// The device_dax driver files. `bind`/`unbind` take a device name;
    /// `new_id`/`remove_id` maintain the driver's id list, which the 6.12
    /// profile requires before a dynamic (kmem-typed) device can bind.
    private func storeDriver(_ file: String, _ value: [UInt8]) throws(DaxError) {
        let text = String(decoding: SysfsParse.stripNewline(value), as: UTF8.self)
        // bus_find_device_by_name: sysfs_streq with the whole write, so one
        // trailing newline is ignored and a second one names no device.
        let device = self.device(named: String(decoding: value, as: UTF8.self))
        switch file {
        case "bind":
            guard let device, let region = device.region else {
                throw DaxError(.noDevice, "device_dax/bind: no device \"\(text.prefix(64))\"")
            }
            if region.profile == .linux6_12, region.kind != .staticRegion, !driverIds.contains(device.name) {
                throw DaxError(.noDevice, "device_dax/bind: \(device.name) does not match device_dax; write it to new_id first")
            }
            try device.enable()
        case "unbind":
            guard let device, device.isBound else {
                throw DaxError(.noDevice, "device_dax/unbind: \"\(text.prefix(64))\" is not bound")
            }
            try device.disable()
        case "new_id", "remove_id":
            // do_id_store: "dax%d.%d", then sysfs_streq with the name it formats.
            let raw = String(decoding: value, as: UTF8.self)
            guard SysfsName.parseDevice(Substring(raw)) != nil else {
                throw DaxError(.invalidArgument, "device_dax/\(file): \"\(text.prefix(64))\" is not a device name")
            }
            if file == "remove_id" {
                driverIds.remove(text)
                return
            }
            let profile = device?.region?.profile ?? regions.first?.profile ?? .linux6_12
            if profile == .linux6_12 { driverIds.insert(text) }
            probeUnbound(profile: profile)
        default:
            throw DaxError(.noEntry, "device_dax/\(file): no such attribute")
        }
    }

    /// `driver_attach` after a new_id: every unbound device with a size that
    /// matches the driver is probed, in the order the devices were created
    /// (the bus's device list); probe failures leave it unbound.
    private func probeUnbound(profile: KernelProfile) {
        var candidates: [Device] = []
        for region in regions {
            for device in region.devices where !device.isBound && device.size > 0 {
                let matches = profile == .linux6_1 || region.kind == .staticRegion
                    || region.profile == .linux6_1 || driverIds.contains(device.name)
                if matches { candidates.append(device) }
            }
        }
        candidates.sort { $0.serial < $1.serial }
        for device in candidates where panic == nil { try? device.enable() }
    }
}
