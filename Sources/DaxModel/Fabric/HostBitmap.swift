/// A set of logical devices (hosts) 0...255 as the 32-byte bitmaps of
/// Dynamic Capacity List Tags (Reference Bitmap, Pending Reference Bitmap):
/// bit n set means LD n. Four words inline, no allocation.
public struct HostBitmap: Hashable, Sendable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    public init() {}

    public init(_ hosts: some Sequence<UInt16>) {
        for h in hosts { insert(h) }
    }

    public static func == (a: HostBitmap, b: HostBitmap) -> Bool { a.bytes == b.bytes }
    public func hash(into h: inout Hasher) { h.combine(bytes) }

    private func word(_ i: Int) -> UInt64 {
        switch i {
        case 0: words.0
        case 1: words.1
        case 2: words.2
        default: words.3
        }
    }

    private mutating func setWord(_ i: Int, _ v: UInt64) {
        switch i {
        case 0: words.0 = v
        case 1: words.1 = v
        case 2: words.2 = v
        default: words.3 = v
        }
    }

    /// True when `host` (below 256) is in the set; false for larger ids.
    public func contains(_ host: UInt16) -> Bool {
        guard host < 256 else { return false }
        return word(Int(host) / 64) >> UInt64(host % 64) & 1 == 1
    }

    /// Adds `host`; ids of 256 and above are ignored (no LD has them).
    public mutating func insert(_ host: UInt16) {
        guard host < 256 else { return }
        let i = Int(host) / 64
        setWord(i, word(i) | 1 << UInt64(host % 64))
    }

    public mutating func remove(_ host: UInt16) {
        guard host < 256 else { return }
        let i = Int(host) / 64
        setWord(i, word(i) & ~(1 << UInt64(host % 64)))
    }

    public var isEmpty: Bool { words.0 | words.1 | words.2 | words.3 == 0 }

    public var count: Int { (0..<4).reduce(0) { $0 + word($1).nonzeroBitCount } }

    /// Members in ascending order.
    public var hosts: [UInt16] { (0..<256).compactMap { contains(UInt16($0)) ? UInt16($0) : nil } }

    /// The 32 bytes as the spec lays them out: byte k bit b is LD 8k+b.
    public var bytes: [UInt8] {
        (0..<32).map { k in UInt8(truncatingIfNeeded: word(k / 8) >> UInt64(8 * (k % 8))) }
    }

    public var description: String { "\(hosts)" }
}
