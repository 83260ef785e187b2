/// An inclusive physical address range `[start, last]`, the kernel's
/// `struct range`. Never empty: `last >= start`.
public struct Span: Hashable, Sendable, CustomStringConvertible {
    public var start: UInt64
    public var last: UInt64

    /// Returns nil when `length` is 0 or `start + length - 1` passes 2^64 - 1.
    public init?(start: UInt64, length: UInt64) {
        guard length > 0 else { return nil }
        let (last, overflow) = start.addingReportingOverflow(length - 1)
        guard !overflow else { return nil }
        self.start = start
        self.last = last
    }

    /// Returns nil when `last < start`.
    public init?(start: UInt64, last: UInt64) {
        guard last >= start else { return nil }
        self.start = start
        self.last = last
    }

    /// Length in bytes. A span is at most 2^64 - 1 bytes long in practice
    /// (regions are validated on creation), so this never wraps there.
    public var length: UInt64 { last &- start &+ 1 }

    public func contains(_ other: Span) -> Bool { other.start >= start && other.last <= last }

    public var description: String { "0x\(String(start, radix: 16))-0x\(String(last, radix: 16))" }
}
