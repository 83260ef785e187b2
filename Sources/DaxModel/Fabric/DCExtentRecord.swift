/// One Dynamic Capacity extent as the device describes it on the wire (the
/// 40-byte extent record): start DPA, length, tag, shared sequence number.
/// The value the device's event records, extent lists and fabric-manager
/// events carry.
public struct DCExtentRecord: Hashable, Sendable, CustomStringConvertible {
    /// Device physical address, in the addressed host's (LD's) DPA space.
    public var dpa: UInt64
    public var length: UInt64
    public var tag: DaxTag
    /// Shared extent sequence number: dense 0..n-1 over one host's extents
    /// of a tag in a Sharable region as offered (a host that gave part of
    /// them back keeps the others' numbers); reserved (0 here for
    /// untagged) otherwise.
    public var sequence: UInt16

    public init(dpa: UInt64, length: UInt64, tag: DaxTag = .untagged, sequence: UInt16 = 0) {
        self.dpa = dpa
        self.length = length
        self.tag = tag
        self.sequence = sequence
    }

    /// The byte range, nil for length 0 or a wrap.
    public var span: Span? { Span(start: dpa, length: length) }

    public var description: String {
        "dpa 0x\(String(dpa, radix: 16)) len 0x\(String(length, radix: 16)) tag \(tag) seq \(sequence)"
    }
}

/// A DPA range in a host's mailbox answer (Add Dynamic Capacity Response,
/// Release Dynamic Capacity): start and length, nothing else.
public struct DCRange: Hashable, Sendable {
    public var dpa: UInt64
    public var length: UInt64

    public init(dpa: UInt64, length: UInt64) {
        self.dpa = dpa
        self.length = length
    }
}
