/// A CXL command return code (the spec's Command Return Codes table), as a
/// fabric-manager command or a host mailbox answer reports it. The C layer
/// returns these as positive numbers; 0 is success.
public enum CXLReturnCode: UInt16, Sendable, CaseIterable, CustomStringConvertible {
    case success = 0x00
    case invalidInput = 0x02
    case unsupported = 0x03
    case internalError = 0x04
    case retryRequired = 0x05
    case busy = 0x06
    case invalidPhysicalAddress = 0x0F
    case invalidSecurityState = 0x13
    case invalidPayloadLength = 0x16
    case resourcesExhausted = 0x1D
    case invalidExtentList = 0x1E

    /// The spec's name of the code ("Invalid Input"), static storage.
    public var name: StaticString {
        switch self {
        case .success: "Success"
        case .invalidInput: "Invalid Input"
        case .unsupported: "Unsupported"
        case .internalError: "Internal Error"
        case .retryRequired: "Retry Required"
        case .busy: "Busy"
        case .invalidPhysicalAddress: "Invalid Physical Address"
        case .invalidSecurityState: "Invalid Security State"
        case .invalidPayloadLength: "Invalid Payload Length"
        case .resourcesExhausted: "Resources Exhausted"
        case .invalidExtentList: "Invalid Extent List"
        }
    }

    public var description: String { "\(name)" }
}

/// A refused fabric command: the return code the device gives and a
/// message naming the field at fault. Built on the failure path only.
public struct FabricError: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: CXLReturnCode
    public var message: String

    public init(_ code: CXLReturnCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
