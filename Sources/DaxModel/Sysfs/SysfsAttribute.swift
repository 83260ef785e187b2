/// One sysfs attribute of an object: a show and/or store function, the
/// shape of `DEVICE_ATTR_RO/RW/WO` in drivers/dax/bus.c. An attribute with
/// no show is write-only (reads fail EACCES at open, as kernfs does for a
/// 0200 file); one with no store is read-only.
/// The tables hold stateless closures only, so sharing them is safe.
struct SysfsAttribute<Object>: @unchecked Sendable {
    typealias Show = (Object) throws(DaxError) -> String
    typealias Store = (Object, [UInt8]) throws(DaxError) -> Void

    let name: String
    let show: Show?
    let store: Store?

    static func readOnly(_ name: String, _ show: @escaping Show) -> Self {
        Self(name: name, show: show, store: nil)
    }

    static func writeOnly(_ name: String, _ store: @escaping Store) -> Self {
        Self(name: name, show: nil, store: store)
    }

    static func readWrite(_ name: String, _ show: @escaping Show, _ store: @escaping Store) -> Self {
        Self(name: name, show: show, store: store)
    }
}

/// Kernel number formatting for sysfs shows.
enum SysfsFormat {
    /// `%#llx`: "0x…" in lower case; the kernel prints zero as "0x0".
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) + "\n" }
    static func decimal(_ v: some BinaryInteger) -> String { "\(v)\n" }
}

extension Result where Failure == DaxErrno {
    /// Unwraps a parse result, turning its errno into a `DaxError` that
    /// names the attribute and the bad value.
    func orThrow(_ what: String, _ value: [UInt8]) throws(DaxError) -> Success {
        switch self {
        case .success(let v): return v
        case .failure(let e):
            let text = String(decoding: value.prefix(64), as: UTF8.self)
            let reason = e == .outOfRange ? "overflows" : "is not a valid number"
            throw DaxError(e, "\(what): \"\(text)\" \(reason)")
        }
    }
}
