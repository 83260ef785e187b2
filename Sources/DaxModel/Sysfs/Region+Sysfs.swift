/// The region directory `regionR/`: the kernel's `dax_region_attributes`
/// with `dax_region_visible` (a static region hides available_size,
/// create, seed and delete).
extension Region {
    static let sysfsAttributes: [String: SysfsAttribute<Region>] = {
        let list: [SysfsAttribute<Region>] = [
            .readOnly("id") { SysfsFormat.decimal($0.id) },
            .readOnly("size") { SysfsFormat.decimal($0.size) },
            .readOnly("align") { SysfsFormat.decimal($0.align) },
            .readOnly("available_size") { SysfsFormat.decimal($0.availableSize) },
            .readWrite("create", { ($0.youngest?.name ?? "") + "\n" }, { region, value throws(DaxError) in
                try region.storeCreate(value)
            }),
            .readOnly("seed") { ($0.seed?.name ?? "") + "\n" },
            .writeOnly("delete") { region, value throws(DaxError) in try region.storeDelete(value) },
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    func isVisible(_ attribute: String) -> Bool {
        switch attribute {
        case "available_size", "create", "seed", "delete": kind != .staticRegion
        default: true
        }
    }

    /// `create_store`: `kstrtoint`, only 1 is accepted.
    func storeCreate(_ value: [UInt8]) throws(DaxError) {
        let v = try SysfsParse.kstrtoint(value).orThrow("\(name)/create", value)
        guard v == 1 else { throw DaxError(.invalidArgument, "\(name)/create: only \"1\" is accepted") }
        try createDevice()
    }

    /// `delete_store`: the name of one of this region's devices.
    func storeDelete(_ value: [UInt8]) throws(DaxError) {
        let text = String(decoding: value, as: UTF8.self)
        guard let (r, n) = SysfsName.parseDevice(Substring(text)), r == id, let device = device(id: n) else {
            let shown = String(decoding: SysfsParse.stripNewline(value).prefix(64), as: UTF8.self)
            throw DaxError(.noDeviceOrAddress, "\(name)/delete: no device \"\(shown)\" in this region")
        }
        try deleteDevice(device)
    }
}
