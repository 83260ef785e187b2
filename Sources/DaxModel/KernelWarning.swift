/// A kernel WARN that a sysfs write reaches: what the real kernel prints
/// as a stack dump (and panics on with panic_on_warn=1) while answering
/// the write with an ordinary errno. The sites, their triggers and their
/// log lines were settled by reading the Debian 6.1 and 6.12 sources and
/// reproducing each one in the kernel referee (tests/kernel).
public struct KernelWarning: Sendable, Equatable {
    /// One WARN call site in the kernel.
    public enum Site: String, CaseIterable, Sendable {
        /// bus.c `alloc_dev_dax_range`: dev_WARN_ONCE on a 0-size
        /// allocation for a device that already has ranges.
        case allocDevDaxRange = "alloc_dev_dax_range"
        /// memremap.c `pagemap_range` (inlined into `memremap_pages`): the
        /// first page of a range already belongs to a live page map.
        case conflictFirstPage = "memremap_pages:first"
        /// The same for the last page of the range.
        case conflictLastPage = "memremap_pages:last"
        /// pgalloc.h via `phys_pmd_init`: WARN_ON_ONCE when the direct map
        /// must split a 2 MiB page a failed probe left behind.
        case splitLargePage = "phys_pmd_init"
        /// pgalloc.h via `phys_pud_init`: WARN_ON_ONCE when the direct map
        /// must split a 1 GiB page a failed probe left behind (the CPU has
        /// pdpe1gb, as x86-64 servers and QEMU's `-cpu max` do).
        case splitGiBPage = "phys_pud_init"
        /// memory_hotplug.c `__add_pages` (`check_pfn_span`): a range not a
        /// whole number of 2 MiB subsections in pages.
        case misalignedAddPages = "__add_pages"
        /// init_64.c `add_pages`: WARN_ON_ONCE on `__add_pages` failing.
        case addPagesFailed = "add_pages"

        /// The function as the WARNING line names it.
        public var function: String {
            switch self {
            case .allocDevDaxRange: "alloc_dev_dax_range"
            case .conflictFirstPage, .conflictLastPage: "memremap_pages"
            case .splitLargePage: "phys_pmd_init"
            case .splitGiBPage: "phys_pud_init"
            case .misalignedAddPages: "__add_pages"
            case .addPagesFailed: "add_pages"
            }
        }

        /// The source file as the WARNING line names it.
        public var file: String {
            switch self {
            case .allocDevDaxRange: "drivers/dax/bus.c"
            case .conflictFirstPage, .conflictLastPage: "mm/memremap.c"
            case .splitLargePage, .splitGiBPage: "arch/x86/include/asm/pgalloc.h"
            case .misalignedAddPages: "mm/memory_hotplug.c"
            case .addPagesFailed: "arch/x86/mm/init_64.c"
            }
        }

        /// The line in the Debian kernel of `profile` (6.1.192, 6.12.118).
        public func line(_ profile: KernelProfile) -> Int {
            let old = profile == .linux6_1
            return switch self {
            case .allocDevDaxRange: old ? 816 : 854
            case .conflictFirstPage: old ? 183 : 184
            case .conflictLastPage: old ? 190 : 191
            case .splitLargePage: 75
            case .splitGiBPage: 108
            case .misalignedAddPages: old ? 328 : 414
            case .addPagesFailed: old ? 978 : 986
            }
        }

        /// _ONCE sites print only the first time per boot.
        public var once: Bool {
            switch self {
            case .allocDevDaxRange, .splitLargePage, .splitGiBPage, .addPagesFailed: true
            case .conflictFirstPage, .conflictLastPage, .misalignedAddPages: false
            }
        }
    }

    public var site: Site
    public var profile: KernelProfile
    public var regionId: Int
    /// The device the write concerned ("daxR.N").
    public var device: String
    /// The line the kernel prints before the WARNING line; "" for WARN_ON.
    public var message: String
    /// This warning panicked the model (panic_on_warn).
    public var panicked = false

    public init(site: Site, profile: KernelProfile, regionId: Int, device: String, message: String, panicked: Bool = false) {
        self.site = site
        self.profile = profile
        self.regionId = regionId
        self.device = device
        self.message = message
        self.panicked = panicked
    }

    /// The log text: "dax0.1: kernel WARN at drivers/dax/bus.c:816
    /// alloc_dev_dax_range: dax dax0.1: 0-size allocation must be first
    /// (once per boot; with panic_on_warn=1 the host panics here)".
    public var text: String {
        let what = message.isEmpty ? "" : ": \(message)"
        let once = site.once ? "once per boot; " : ""
        let panic = panicked ? "panic_on_warn=1: the host panicked here" : "with panic_on_warn=1 the host panics here"
        return "\(device): kernel WARN at \(site.file):\(site.line(profile)) \(site.function)\(what) (\(once)\(panic))"
    }
}

/// What the kernel's direct map holds for one 2 MiB block of physical
/// memory that a probe mapped: one 2 MiB page, or a table of 4 KiB pages.
/// Blocks not listed are unmapped. (A GiB mapped by one 1 GiB page has no
/// blocks: see `DaxBus.directMapGiB`.)
public enum DirectMapBlock: String, Sendable {
    case largePage = "large"
    case pageTable = "table"
}
