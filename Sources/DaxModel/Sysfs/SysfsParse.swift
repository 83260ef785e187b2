/// The kernel's number parsing for sysfs stores (lib/kstrtox.c), over the
/// bytes a writer passed: `kstrtoull`, `kstrtoint`, and the value rules of
/// `sysfs_streq`.
public enum SysfsParse {
    /// `kstrtoull(s, base)`: an optional leading '+', then digits in `base`
    /// (0 = auto: "0x" + hex digit → 16, leading "0" → 8, else 10), one
    /// optional trailing newline, nothing else.
    /// - Returns: the value, or EINVAL (no digits, stray bytes, '-'),
    ///   ERANGE (overflow, reported before stray bytes as the kernel does).
    public static func kstrtoull(_ bytes: some Collection<UInt8>, base: Int = 0) -> Result<UInt64, DaxErrno> {
        var s = Array(bytes)[...]
        if s.first == UInt8(ascii: "+") { s = s.dropFirst() }
        var base = base
        let lower = { (b: UInt8) -> UInt8 in b | 0x20 }
        func at(_ i: Int) -> UInt8? { s.count > i ? s[s.startIndex + i] : nil }
        if base == 0 {
            if at(0) == UInt8(ascii: "0") {
                if let x = at(1), lower(x) == UInt8(ascii: "x"), let d = at(2), hexValue(d) != nil {
                    base = 16
                } else {
                    base = 8
                }
            } else {
                base = 10
            }
        }
        if base == 16, at(0) == UInt8(ascii: "0"), let x = at(1), lower(x) == UInt8(ascii: "x") {
            s = s.dropFirst(2)
        }
        var value: UInt64 = 0
        var digits = 0
        var overflow = false
        let b = UInt64(base)
        for byte in s {
            guard let d = hexValue(byte), d < b else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: b)
            let (a, o2) = m.addingReportingOverflow(d)
            if o1 || o2 { overflow = true }
            value = a
            digits += 1
        }
        if overflow { return .failure(.outOfRange) }
        if digits == 0 { return .failure(.invalidArgument) }
        var rest = s.dropFirst(digits)
        if rest.first == UInt8(ascii: "\n") { rest = rest.dropFirst() }
        guard rest.isEmpty else { return .failure(.invalidArgument) }
        return .success(value)
    }

    /// `kstrtoint(s, 0)`: signed, one '-' or one '+' allowed (not both:
    /// after '-' the digits follow at once), must fit in Int32.
    public static func kstrtoint(_ bytes: some Collection<UInt8>) -> Result<Int32, DaxErrno> {
        let s = Array(bytes)
        if s.first == UInt8(ascii: "-") {
            if s.dropFirst().first == UInt8(ascii: "+") { return .failure(.invalidArgument) }
            switch kstrtoull(s.dropFirst()) {
            case .failure(let e): return .failure(e)
            case .success(let v):
                guard v <= UInt64(Int32.max) + 1 else { return .failure(.outOfRange) }
                return .success(Int32(truncatingIfNeeded: 0 &- Int64(v)))
            }
        }
        switch kstrtoull(s) {
        case .failure(let e): return .failure(e)
        case .success(let v):
            guard v <= UInt64(Int32.max) else { return .failure(.outOfRange) }
            return .success(Int32(truncatingIfNeeded: v))
        }
    }

    /// The `mapping` store's `range_parse`: "START-END", split at the first
    /// '-', each side `kstrtoull(…, 16)`; END inclusive.
    public static func range(_ bytes: some Collection<UInt8>) -> Result<(start: UInt64, last: UInt64), DaxErrno> {
        let s = Array(bytes)
        guard let dash = s.firstIndex(of: UInt8(ascii: "-")) else { return .failure(.invalidArgument) }
        let start: UInt64, last: UInt64
        switch kstrtoull(s[..<dash], base: 16) {
        case .failure(let e): return .failure(e)
        case .success(let v): start = v
        }
        switch kstrtoull(s[(dash + 1)...], base: 16) {
        case .failure(let e): return .failure(e)
        case .success(let v): last = v
        }
        return .success((start, last))
    }

    /// The written value with one trailing newline removed (`sysfs_streq`).
    static func stripNewline(_ bytes: [UInt8]) -> [UInt8] {
        bytes.last == UInt8(ascii: "\n") ? Array(bytes.dropLast()) : bytes
    }

    private static func hexValue(_ b: UInt8) -> UInt64? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt64(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt64(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt64(b - UInt8(ascii: "A") + 10)
        default: nil
        }
    }
}
