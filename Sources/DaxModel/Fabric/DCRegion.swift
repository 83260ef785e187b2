/// How one DC region of the device is laid out and configured (what Get
/// Host DC Region Configuration reports for it).
public struct DCRegionSpec: Hashable, Sendable {
    /// Start DPA; a multiple of 256 MiB.
    public var base: UInt64
    /// Decode length in bytes; a non-zero multiple of 256 MiB.
    public var decodeLength: UInt64
    /// Block size: a power of two from 64 bytes to 2^51, in `supportedBlockSizes`.
    public var blockSize: UInt64
    /// Supported block sizes, bit n meaning 2^n (bits 5:0 and 63:52 zero);
    /// 0 means "only `blockSize`".
    public var supportedBlockSizes: UInt64 = 0
    /// The DSMAS Sharable flag: Enable Shared Access may reach its capacity.
    public var sharable = false
    /// The DSMAS Read-Only flag (reported; hosts map it read-only: the
    /// pieces of `DCDevice.decoding(host:)` say so).
    public var readOnly = false
    /// Released capacity is sanitized (Attributes2 bit 0).
    public var sanitizeOnRelease = false
    /// Set DC Region Configuration may change `sanitizeOnRelease`, and a
    /// release may ask for sanitizing (Get DCD Info's sanitize mask bit).
    public var sanitizeConfigurable = true

    public init(base: UInt64, decodeLength: UInt64, blockSize: UInt64 = 2 << 20) {
        self.base = base
        self.decodeLength = decodeLength
        self.blockSize = blockSize
    }

    /// 256 MiB, the unit of region bases, decode lengths and total capacity.
    public static let unit: UInt64 = 256 << 20

    var blockSizeMask: UInt64 { supportedBlockSizes == 0 ? blockSize : supportedBlockSizes | blockSize }

    static func validBlockSize(_ size: UInt64, mask: UInt64) -> Bool {
        size.nonzeroBitCount == 1 && size >= 64 && size < 1 << 52 && mask & size != 0
    }
}

/// One DC region of the device: its configuration and the ownership of
/// each of its blocks.
struct DCRegion: Sendable {
    var spec: DCRegionSpec
    let index: Int
    let span: Span
    var blocks: BlockMap

    init(index: Int, spec: DCRegionSpec, span: Span) {
        self.index = index
        self.spec = spec
        self.span = span
        blocks = BlockMap(span: span)
    }

    /// True when `span` starts and ends on block boundaries.
    func aligned(_ s: Span) -> Bool {
        (s.start &- span.start) % spec.blockSize == 0 && s.length % spec.blockSize == 0
    }
}
