/// Which device the fabric model imitates where devices differ.
///
/// - `spec`: CXL r3.2 as fabric.md §5.2 reads it (the default).
/// - `qemu`: upstream QEMU's DCD emulation (fabric.md §5.5): one host,
///   prescriptive only. Designed here, not implemented yet: the device
///   refuses to build with it (Unsupported).
/// - `mhsld`: QEMU's out-of-tree multi-headed single logical device: up
///   to 8 heads, exclusive block ownership reserved at offer and reclaimed
///   at response, no sharing, no tag references or tag lists.
public enum FabricProfile: Int32, Sendable, CaseIterable {
    case spec = 1
    case qemu = 2
    case mhsld = 3

    /// Most hosts (logical devices or heads) the profile allows.
    public var maxHosts: Int {
        switch self {
        case .spec: 256
        case .qemu: 1
        case .mhsld: 8
        }
    }

    /// Add selection policies offered (Get DCD Info bits 0-2; Enable Shared
    /// Access is never advertised there).
    var addPolicyMask: UInt16 {
        switch self {
        case .spec, .mhsld: 0b111
        case .qemu: 0b100
        }
    }

    /// Release removal policies offered (bit 0 tag-based, bit 1 prescriptive).
    var releasePolicyMask: UInt16 {
        switch self {
        case .spec, .mhsld: 0b11
        case .qemu: 0b10
        }
    }

    /// Enable Shared Access and Sharable regions exist.
    var sharing: Bool { self == .spec }

    /// Add Reference, Remove Reference and List Tags (r3.2) exist.
    var tagCommands: Bool { self == .spec }

    /// The model implements this profile.
    var implemented: Bool { self != .qemu }
}
