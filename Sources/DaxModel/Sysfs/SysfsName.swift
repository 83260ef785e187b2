/// Object names as sysfs spells them: "regionR", "daxR.N", "mappingK".
enum SysfsName {
    /// A non-negative decimal number without sign or leading zeros
    /// (other than "0" itself), fitting in Int32.
    static func number(_ s: Substring) -> Int? {
        guard !s.isEmpty, s.count <= 10, s.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        if s.count > 1, s.first == "0" { return nil }
        guard let v = Int(s), v <= Int(Int32.max) else { return nil }
        return v
    }

    static func parseRegion(_ s: Substring) -> Int? {
        guard s.hasPrefix("region") else { return nil }
        return number(s.dropFirst(6))
    }

    /// "daxR.N", with one trailing newline tolerated (`sysfs_streq`).
    static func parseDevice(_ s: Substring) -> (region: Int, id: Int)? {
        var s = s
        if s.last == "\n" { s = s.dropLast() }
        guard s.hasPrefix("dax"), let dot = s.firstIndex(of: ".") else { return nil }
        guard let r = number(s[s.index(s.startIndex, offsetBy: 3)..<dot]),
              let n = number(s[s.index(after: dot)...]) else { return nil }
        return (r, n)
    }

    static func parseExtent(_ s: Substring) -> Int? {
        guard s.hasPrefix("extent") else { return nil }
        return number(s.dropFirst(6))
    }

    static func parseMapping(_ s: Substring) -> Int? {
        guard s.hasPrefix("mapping") else { return nil }
        return number(s.dropFirst(7))
    }
}
