/// The device directory `daxR.N/` (`dev_dax_attributes`, `dev_dax_visible`)
/// and its `mappingK/` children (`dax_mapping_attributes`).
extension Device {
    static let sysfsAttributes: [String: SysfsAttribute<Device>] = {
        let list: [SysfsAttribute<Device>] = [
            .readWrite("size", { SysfsFormat.decimal($0.size) }, { device, value throws(DaxError) in
                let v = try SysfsParse.kstrtoull(value).orThrow("\(device.name)/size", value)
                try device.resize(to: v)
            }),
            .readWrite("align", { SysfsFormat.decimal($0.align) }, { device, value throws(DaxError) in
                // align_store maps every parse failure, overflow included, to ENXIO.
                guard case .success(let v) = SysfsParse.kstrtoull(value) else {
                    let text = String(decoding: value.prefix(64), as: UTF8.self)
                    throw DaxError(.noDeviceOrAddress, "\(device.name)/align: \"\(text)\" is not a valid number")
                }
                try device.setAlign(v)
            }),
            .writeOnly("mapping") { device, value throws(DaxError) in
                let r = try SysfsParse.range(value).orThrow("\(device.name)/mapping", value)
                try device.addMapping(start: r.start, last: r.last)
            },
            .readOnly("target_node") { SysfsFormat.decimal($0.targetNode) },
            .readOnly("numa_node") { SysfsFormat.decimal($0.numaNode) },
            .readOnly("resource") { SysfsFormat.hex($0.resource) },
            .readOnly("modalias") { _ in "dax:t0\n" },
        ] + SysfsTag.deviceAttributes()
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// `dev_dax_visible`: no `mapping` on static regions (sparse regions
    /// keep it, and refuse writes with EOPNOTSUPP), `tag` and `uuid` only on
    /// sparse regions, no `target_node` when it is negative; static regions
    /// make size and align read-only.
    func isVisible(_ attribute: String) -> Bool {
        switch attribute {
        case "mapping": region?.kind != .staticRegion
        case "tag", "uuid": region?.kind == .sparse
        case "target_node": targetNode >= 0
        default: true
        }
    }

    func isReadOnly(_ attribute: String) -> Bool {
        region?.kind == .staticRegion && (attribute == "size" || attribute == "align")
    }
}

extension DeviceRange {
    static let sysfsAttributes: [String: SysfsAttribute<DeviceRange>] = {
        let list: [SysfsAttribute<DeviceRange>] = [
            .readOnly("start") { SysfsFormat.hex($0.start) },
            .readOnly("end") { SysfsFormat.hex($0.last) },
            .readOnly("page_offset") { SysfsFormat.hex($0.pageOffset) },
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()
}
