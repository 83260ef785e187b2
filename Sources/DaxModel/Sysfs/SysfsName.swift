/// Object names as sysfs spells them: "regionR", "daxR.N", "mappingK".
///
/// Parsed as bytes (UTF-8), as the kernel compares them: no Unicode
/// grapheme or canonical-equivalence work, which made every attribute
/// path cost tens of thousands of instructions.
enum SysfsName {
    /// A non-negative decimal number without sign or leading zeros
    /// (other than "0" itself), fitting in Int32.
    static func number<Bytes: Collection<UInt8>>(_ s: Bytes) -> Int? {
        guard !s.isEmpty, s.count <= 10 else { return nil }
        if s.count > 1, s.first == UInt8(ascii: "0") { return nil }
        var value = 0
        for b in s {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))  // at most 10 digits: no overflow
        }
        return value <= Int(Int32.max) ? value : nil
    }

    /// The number after `prefix`, as in "region7" or "extent12".
    private static func numbered<Bytes: Collection<UInt8>>(_ s: Bytes, _ prefix: StaticString) -> Int? {
        let p = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard s.starts(with: p) else { return nil }
        return number(s.dropFirst(p.count))
    }

    static func parseRegion<Bytes: Collection<UInt8>>(_ s: Bytes) -> Int? { numbered(s, "region") }

    static func parseExtent<Bytes: Collection<UInt8>>(_ s: Bytes) -> Int? { numbered(s, "extent") }

    static func parseMapping<Bytes: Collection<UInt8>>(_ s: Bytes) -> Int? { numbered(s, "mapping") }

    /// "daxR.N", with one trailing newline tolerated (`sysfs_streq`).
    static func parseDevice<Bytes: BidirectionalCollection<UInt8>>(_ s: Bytes) -> (region: Int, id: Int)? {
        var s = s[...]
        if s.last == UInt8(ascii: "\n") { s = s.dropLast() }
        guard s.starts(with: "dax".utf8), let dot = s.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        guard let r = number(s[s.index(s.startIndex, offsetBy: 3)..<dot]),
              let n = number(s[s.index(after: dot)...]) else { return nil }
        return (r, n)
    }

    /// `parseDevice` of a string's bytes.
    static func parseDevice(_ s: Substring) -> (region: Int, id: Int)? { parseDevice(s.utf8) }
}
