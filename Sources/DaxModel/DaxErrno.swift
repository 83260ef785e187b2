/// A kernel errno value, as the model returns it.
///
/// An open struct over the raw number (the swift-system `Errno` shape): any
/// value round-trips, and the named values below are the ones the DAX bus
/// and this model use. Values are Linux x86-64 / generic ones.
public struct DaxErrno: Error, RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    init(_ raw: Int32) { self.rawValue = raw }

    /// Kernel errno `EPERM`: the capacity of a fabric host's region, tags
    /// included, is the device's to change (`Region.boundToFabric`).
    public static let notPermitted = DaxErrno(1)
    /// Kernel errno `ENOENT`: no such attribute, device, tag or path.
    public static let noEntry = DaxErrno(2)
    /// Kernel errno `E2BIG`: a group offers more extents than the limit.
    public static let argumentListTooLong = DaxErrno(7)
    /// Kernel errno `ENXIO`: no such device (delete), size-0 bind, bad align text.
    public static let noDeviceOrAddress = DaxErrno(6)
    /// Kernel errno `ENOMEM`: a `mapping` range overlaps or leaves the region.
    public static let noMemory = DaxErrno(12)
    /// Kernel errno `EACCES`: the attribute's mode forbids this access.
    public static let permissionDenied = DaxErrno(13)
    /// Kernel errno `EBUSY`: bound, sized, id 0, or referenced.
    public static let busy = DaxErrno(16)
    /// Kernel errno `EEXIST`: the id is already in use.
    public static let exists = DaxErrno(17)
    /// Kernel errno `EFBIG`: a state file is larger than the library reads.
    public static let fileTooLarge = DaxErrno(27)
    /// Kernel errno `ENODEV`: the object was deleted, or the driver has no such device.
    public static let noDevice = DaxErrno(19)
    /// Kernel errno `EINVAL`: unparsable or misaligned value.
    public static let invalidArgument = DaxErrno(22)
    /// Kernel errno `ENOSPC`: too little free space in the region.
    public static let noSpace = DaxErrno(28)
    /// Kernel errno `ERANGE`: a number overflowed while parsing, or a buffer is too small.
    public static let outOfRange = DaxErrno(34)
    /// Kernel errno `ENAMETOOLONG`: a path of 4096 bytes or more.
    public static let nameTooLong = DaxErrno(36)
    /// Kernel errno `EHOSTDOWN`: the modelled host panicked (panic_on_warn).
    public static let hostDown = DaxErrno(112)
    /// Kernel errno `ECANCELED`: dropped because its tag group was rejected.
    public static let canceled = DaxErrno(125)
    /// Kernel errno `EOPNOTSUPP`: the region kind does not offer this operation.
    public static let notSupported = DaxErrno(95)

    /// The C spelling, e.g. "ENOSPC", or "E<number>" for unnamed values.
    public var name: String {
        switch rawValue {
        case 1: "EPERM"
        case 2: "ENOENT"
        case 3: "ESRCH"
        case 4: "EINTR"
        case 5: "EIO"
        case 6: "ENXIO"
        case 7: "E2BIG"
        case 12: "ENOMEM"
        case 13: "EACCES"
        case 16: "EBUSY"
        case 14: "EFAULT"
        case 17: "EEXIST"
        case 19: "ENODEV"
        case 20: "ENOTDIR"
        case 21: "EISDIR"
        case 22: "EINVAL"
        case 27: "EFBIG"
        case 28: "ENOSPC"
        case 34: "ERANGE"
        case 36: "ENAMETOOLONG"
        case 112: "EHOSTDOWN"
        case 95: "EOPNOTSUPP"
        case 125: "ECANCELED"
        default: "E\(rawValue)"
        }
    }

    public var description: String { name }
}

/// A refused operation: the errno the kernel would give and a message that
/// names the object and, where there is one, the remedy.
public struct DaxError: Error, Sendable, CustomStringConvertible {
    public var errno: DaxErrno
    public var message: String

    public init(_ errno: DaxErrno, _ message: String) {
        self.errno = errno
        self.message = message
    }

    public var description: String { "\(errno.name): \(message)" }
}
