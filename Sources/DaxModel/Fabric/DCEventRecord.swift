/// The Dynamic Capacity event types. 0-3 go to a host's DC event log; 4
/// and 5 are reported only to the fabric manager.
public enum DCEventType: UInt8, Sendable, CaseIterable {
    case addCapacity = 0x00
    case releaseCapacity = 0x01
    case forcedCapacityRelease = 0x02
    case regionConfigurationUpdated = 0x03
    case addCapacityResponse = 0x04
    case capacityReleased = 0x05
}

/// One Dynamic Capacity event record, the message the device sends: to a
/// host through that host's DC event log (types 0-3), or to the fabric
/// manager through its own queue (types 4-5, with `hostId` set). An
/// operation on several extents is a chain of records, `more` set on all
/// but the last. A value type, so a host could live in another process.
public struct DCEventRecord: Hashable, Sendable {
    public var type: DCEventType
    /// Set on fabric-manager records (the host that answered); 0 on host
    /// records, which never carry it.
    public var hostId: UInt16
    /// The DC region (0-7): the extent's region, or the updated region for
    /// Region Configuration Updated.
    public var regionIndex: UInt8
    /// The chain goes on with the next record.
    public var more: Bool
    public var extent: DCExtentRecord
    /// The addressed LD's remaining extent and tag budget when posted.
    public var availableExtents: UInt32
    public var availableTags: UInt32

    public init(type: DCEventType, hostId: UInt16 = 0, regionIndex: UInt8, more: Bool,
                extent: DCExtentRecord, availableExtents: UInt32 = 0, availableTags: UInt32 = 0) {
        self.type = type
        self.hostId = hostId
        self.regionIndex = regionIndex
        self.more = more
        self.extent = extent
        self.availableExtents = availableExtents
        self.availableTags = availableTags
    }
}

/// What a host sends the device through its mailbox, as a message.
public enum HostAnswer: Hashable, Sendable {
    /// Add Dynamic Capacity Response (4802h): the extents of the oldest
    /// pending offer the host accepts (none: it refuses them all).
    case addResponse(host: UInt16, accepted: [DCRange])
    /// Release Dynamic Capacity (4803h): extents the host gives back.
    case release(host: UInt16, extents: [DCRange])

    public var host: UInt16 {
        switch self {
        case .addResponse(let h, _), .release(let h, _): h
        }
    }
}
