/// Which Linux era a region follows where kernels differ observably.
///
/// Measured differences (shared reference: qemu-devdax.md, kernel-lab):
/// a `mapping` write whose length is not a multiple of max(align, 2 MiB)
/// fails ENXIO on 6.1 (the v5.10..v6.8 device_lock bus.c) and is a silent
/// no-op success on 6.12 (the rwsem bus.c, whose `rc` is overwritten).
public enum KernelProfile: Int32, Sendable, CaseIterable {
    case linux6_1 = 1
    case linux6_12 = 2

    /// True when an unaligned `mapping` length is refused with ENXIO.
    var refusesUnalignedMapping: Bool { self == .linux6_1 }
}
