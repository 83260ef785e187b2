/// The kind of a DAX region, as the kernel's region flags encode it.
public enum RegionKind: Int32, Sendable, CaseIterable {
    /// pmem devdax namespace (`IORESOURCE_DAX_STATIC`): one device covers the
    /// region; size and align are read-only; no create/seed/delete/mapping.
    case staticRegion = 1
    /// hmem or CXL RAM region: devices are created, resized, mapped, deleted.
    case dynamic = 2
    /// CXL Dynamic Capacity region: capacity only inside extents.
    case sparse = 3
}
