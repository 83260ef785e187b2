/// What the host tells the device (or fabric manager): the model's side of
/// the CXL mailbox answers, queued per model and drained by the embedder.
public struct DaxEvent: Sendable {
    public enum Kind: Int32, Sendable {
        /// A group closed: the Add Dynamic Capacity Response. `records`
        /// lists every offered extent with its result.
        case groupAnswered = 1
        /// A release request found referenced extents; they are now
        /// `releasing` and will be reported by `released` later.
        case releaseDeferred = 2
        /// Extents given back (Release Dynamic Capacity), or a release of a
        /// range that held no extent, acknowledged at once.
        case released = 3
        /// A forced release was logged and ignored (the default, as Linux).
        case forcedReleaseIgnored = 4
        /// A forced release removed extents at once (revoke mode).
        case forcedReleaseApplied = 5
        /// A device lost the memory of revoked extents (`device` names it).
        case deviceLostMemory = 6
        /// A write reached a kernel WARN (`warning` says which).
        case kernelWarning = 7
    }

    public var kind: Kind
    public var regionId: Int
    /// The add group or release request this answers.
    public var requestId: UInt64
    public var records: [ExtentRecord]
    /// The device concerned, for `deviceLostMemory` and `kernelWarning`.
    public var device: String?
    /// The warning, for `kernelWarning`.
    public var warning: KernelWarning? = nil
}

/// One extent in an event: where it is, and for group answers whether it
/// was accepted (`result == nil`) or why not.
public struct ExtentRecord: Sendable, Hashable {
    public var offset: UInt64
    public var length: UInt64
    public var tag: DaxTag
    public var sequence: UInt32
    /// nil: accepted / released; otherwise the reason as an errno.
    public var result: DaxErrno?
    public var reason: String

    public init(_ offer: ExtentOffer, result: DaxErrno? = nil, reason: String = "") {
        offset = offer.offset
        length = offer.length
        tag = offer.tag
        sequence = offer.sequence
        self.result = result
        self.reason = reason
    }
}
