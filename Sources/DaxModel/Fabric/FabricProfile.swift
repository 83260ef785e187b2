/// Which device the fabric model imitates where devices differ. Every
/// difference is one property below, read where the device makes that
/// decision (the README's Profiles table lists them side by side).
///
/// - `spec`: CXL r3.2 as fabric.md §5.2 reads it (the default).
/// - `qemu`: upstream QEMU's DCD emulation and its FM API 5600h-5605h
///   (fabric.md §1.6, §5.5): one host; the Host ID ignored except by Get
///   DC Region Extent Lists; Prescriptive add and release only; no tag
///   bookkeeping (0 tags, the manager's tags and sequence numbers passed to
///   the host as written) and tags dropped on accept; no fabric-manager
///   events; no 5606h-5608h; Forced Removal only skips a check; no
///   sanitize; an 8-record event log that drops what does not fit; an
///   extent list generation number that never changes. The hosts stay
///   the Linux host model: they keep the tags they saw in the records.
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
    /// Access is never advertised there). Others are Invalid Input.
    var addPolicyMask: UInt16 {
        switch self {
        case .spec, .mhsld: 0b111
        case .qemu: 0b100
        }
    }

    /// Release removal policies offered (bit 0 tag-based, bit 1
    /// prescriptive). Others are Invalid Input.
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

    /// Get Host DC Region Configuration, Initiate Add and Initiate Release
    /// read the Host ID. Without (qemu), they act on host 0 whatever the
    /// field says, and 5601h answers with Host ID 0; Get DC Region Extent
    /// Lists still refuses another id (Invalid Input), as QEMU does.
    var readsHostId: Bool { self != .qemu }

    /// The device keeps tags: a new allocation needs a tag no capacity has
    /// (Invalid Input), tags count against each host's tag budget, and the
    /// device numbers each tag's extents 0..n-1. Without (qemu: 0 tags
    /// supported), the extents of an offer go to the host as the manager
    /// wrote them, tag and sequence number included, unchecked.
    var tracksTags: Bool { self != .qemu }

    /// The tag budget each host gets whatever the device spec asks (qemu: 0).
    var fixedTagBudget: Int? { tracksTags ? nil : 0 }

    /// Accepted extents keep their tag and sequence number. Without (qemu),
    /// the device files what a host accepts with a null tag and sequence 0,
    /// so Get DC Region Extent Lists shows them so; the host keeps the tag
    /// it read in the Add Capacity record.
    var keepsTagsOnAccept: Bool { self != .qemu }

    /// `record` as the device files it once a host accepted it.
    func acceptedRecord(_ record: DCExtentRecord) -> DCExtentRecord {
        keepsTagsOnAccept ? record : DCExtentRecord(dpa: record.dpa, length: record.length)
    }

    /// Each consumed host answer gives the fabric manager an Add Capacity
    /// Response or Capacity Released chain. Without (qemu), the manager's
    /// queue stays empty: it learns the outcome only by polling 5603h.
    var reportsToManager: Bool { self != .qemu }

    /// The extent list generation number changes whenever the list does.
    /// Without (qemu: nothing increments it), it stays 0.
    var countsListGeneration: Bool { self != .qemu }

    /// Forced Removal revokes at once (Forced Capacity Release records,
    /// dead offers). Without (qemu), the flag only skips the pending check,
    /// whose ranges the fully-backed check refuses anyway: a forced release
    /// is an ordinary one (Release Capacity records, Invalid Physical
    /// Address for pending capacity).
    var forcedRemoval: Bool { self != .qemu }

    /// Sanitize on Release exists: regions may be configured for it, Get
    /// DCD Info reports which can change it, and a release asking for it on
    /// a region that cannot is Invalid Input. Without (qemu: mask 0, flags
    /// 0), a region may not sanitize, 5602h cannot change the setting
    /// (Unsupported) and a release's Sanitize flag is ignored.
    var sanitizeOnRelease: Bool { self != .qemu }

    /// The depth of each host's DC event log whatever the device spec asks
    /// (qemu: 8, its fixed log size).
    var fixedEventLogDepth: Int? { self == .qemu ? 8 : nil }

    /// A command whose records would overflow the host's event log answers
    /// Retry Required and changes nothing (forced removal aside). Without
    /// (qemu), the command succeeds and the records that do not fit are
    /// dropped and counted (`eventLogOverflows`): a chain can lose its
    /// closing record.
    var retryWhenLogFull: Bool { self != .qemu }

    /// Add and release records name the extent's DC region. Without
    /// (qemu), they carry region 0; Region Configuration Updated still
    /// names its region.
    var recordsNameRegion: Bool { self != .qemu }

    /// Release Capacity records are the device's: one per accepted extent
    /// (or part of one) the request covers, with the device's tag. Under
    /// qemu they are the manager's extent list copied as written (a range
    /// may span extents; the tag and sequence are the manager's), so only
    /// a manager that remembers a tag can release tagged capacity from a
    /// Linux host.
    var releaseRecordsAsRequested: Bool { self == .qemu }

    /// The code for a Prescriptive extent (add or release) not inside one
    /// DC region: Invalid Extent List, or Invalid Physical Address under
    /// qemu (its malformed-list check).
    var outsideRegionsCode: CXLReturnCode { self == .qemu ? .invalidPhysicalAddress : .invalidExtentList }

    /// A Prescriptive add may list extents in several DC regions (qemu);
    /// otherwise one offer stays in one region (Invalid Extent List).
    var offerMaySpanRegions: Bool { self == .qemu }
}
