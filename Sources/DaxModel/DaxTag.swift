/// The 16-byte tag of a CXL Dynamic Capacity extent (the kernel's `uuid`,
/// earlier `tag`); all-zero means untagged.
public struct DaxTag: Hashable, Sendable, CustomStringConvertible {
    /// The 16 bytes as two words, inline: no allocation or array hashing
    /// per tag, which every extent, device and tag pool key holds.
    private var high: UInt64
    private var low: UInt64

    /// The 16 bytes in the order written.
    public var bytes: [UInt8] {
        (0..<16).map { i in UInt8(truncatingIfNeeded: (i < 8 ? high : low) >> (8 * (7 - UInt64(i % 8)))) }
    }

    /// The null tag: untagged capacity.
    public static let untagged = DaxTag(high: 0, low: 0)

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    private init(unchecked bytes: [UInt8]) {
        var h: UInt64 = 0, l: UInt64 = 0
        for (i, b) in bytes.prefix(16).enumerated() {
            if i < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        self.init(high: h, low: l)
    }

    /// Nil unless exactly 16 bytes are given.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        self.init(unchecked: Array(bytes))
    }

    /// Parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" (either case, one
    /// trailing newline allowed), the way the kernel's `uuid_parse` reads
    /// it; the bytes are taken in the order written (`%pUb`).
    public init?(uuidString: some StringProtocol) {
        var s = Array(uuidString.utf8)
        if s.last == UInt8(ascii: "\n") { s.removeLast() }
        guard s.count == 36 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var i = 0
        while i < 36 {
            if [8, 13, 18, 23].contains(i) {
                guard s[i] == UInt8(ascii: "-") else { return nil }
                i += 1
                continue
            }
            guard let hi = DaxTag.nibble(s[i]), let lo = DaxTag.nibble(s[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        self.init(unchecked: out)
    }

    public var isUntagged: Bool { high == 0 && low == 0 }

    /// Lower-case 8-4-4-4-12 form, as the kernel's `%pUb` prints it.
    public var uuidString: String {
        var s = ""
        for (i, b) in bytes.enumerated() {
            if [4, 6, 8, 10].contains(i) { s += "-" }
            s += String(b >> 4, radix: 16) + String(b & 0xf, radix: 16)
        }
        return s
    }

    public var description: String { isUntagged ? "untagged" : uuidString }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
