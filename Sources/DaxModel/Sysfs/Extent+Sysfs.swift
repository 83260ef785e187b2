/// `regionR/extentK/` on sparse regions (the DCD series' `extentX.Y`
/// directory, with the model's reference count and state added), and the
/// tag attributes of sparse-region devices.
extension Extent {
    static let sysfsAttributes: [String: SysfsAttribute<Extent>] = {
        let list: [SysfsAttribute<Extent>] = [
            .readOnly("offset") { SysfsFormat.hex($0.offset) },
            .readOnly("length") { SysfsFormat.hex($0.length) },
            .readWrite("tag", { $0.tag.uuidString + "\n" }, { extent, value throws(DaxError) in
                let tag = try SysfsTag.parse(value, what: "\(extent.name)/tag")
                guard let region = extent.region else { throw DaxError(.noDevice, "\(extent.name): extent was released") }
                try region.retag(extent, to: tag, wholeGroup: false)
            }),
            .readOnly("sequence") { SysfsFormat.decimal($0.sequence) },
            .readOnly("refcount") { SysfsFormat.decimal($0.refcount) },
            .readOnly("state") { $0.state.name + "\n" },
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()
}

/// Tag values as the sysfs text carries them: a UUID, or "untagged".
enum SysfsTag {
    static func parse(_ value: [UInt8], what: String, allowZero: Bool = false) throws(DaxError) -> DaxTag {
        let text = String(decoding: SysfsParse.stripNewline(value), as: UTF8.self)
        if text == "untagged" || (allowZero && text == "0") { return .untagged }
        guard let tag = DaxTag(uuidString: text) else {
            throw DaxError(.invalidArgument, "\(what): \"\(text.prefix(64))\" is not a UUID or \"untagged\"")
        }
        return tag
    }

    /// `daxR.N/tag`: store selects, show prints the selection or an empty line.
    static func deviceAttributes() -> [SysfsAttribute<Device>] {
        [
            .readWrite("tag", { ($0.tag?.description ?? "") + "\n" }, { device, value throws(DaxError) in
                try device.selectTag(try parse(value, what: "\(device.name)/tag"))
            }),
            .readWrite("uuid", { ($0.tag ?? .untagged).uuidString + "\n" }, { device, value throws(DaxError) in
                try device.claimTag(try parse(value, what: "\(device.name)/uuid", allowZero: true))
            }),
        ]
    }
}
