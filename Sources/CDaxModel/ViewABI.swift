import DaxModel
import DaxModelHeader

// struct daxm_view: a process mapping of one device's memory, emulated
// (the region's backing file, range by range; on a fabric host, the
// fabric's memory through the host's decoding, FabricMemory.swift) or a
// real /dev/daxR.N.

/// One mapping of a device, owned by the C caller from daxm_dev_map until
/// daxm_view_unmap. It keeps the device object alive and counted in
/// `Device.views`, which holds the device like a bound one.
final class View: @unchecked Sendable {
    let device: Device
    weak var context: Context?
    let address: UnsafeMutableRawPointer
    let length: Int
    /// `device.lostBytes` when mapped: a change means revoked extents.
    let lostBytesAtMap: UInt64
    /// A fabric host's view: the decoded pieces of the device's memory it
    /// maps (host DPA to physical). Empty for every other view.
    let pieces: [HostMemoryPiece]
    var revoked = false
    var unmapped = false

    init(device: Device, context: Context, address: UnsafeMutableRawPointer, length: Int,
         pieces: [HostMemoryPiece] = []) {
        self.device = device
        self.context = context
        self.address = address
        self.length = length
        self.lostBytesAtMap = device.lostBytes
        self.pieces = pieces
    }

    static func from(_ handle: UnsafeMutableRawPointer?) -> View? {
        guard let handle else { return nil }
        return Unmanaged<View>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
    }
}

extension Context {
    /// The region's emulated memory, created on first use. Lock held.
    func backing(for region: Region) throws(DaxErrorBox) -> Int32 {
        if let fd = backings[region.id] { return fd }
        switch sys_backing_file(name: "daxmodel-\(region.name)", size: region.size) {
        case .success(let fd):
            backings[region.id] = fd
            return fd
        case .failure(let e):
            throw DaxErrorBox(e, "\(region.name): cannot create its emulated memory (\(e.name))", priority: Priority.err)
        }
    }

    /// After every call, with the lock held: discard released sparse
    /// capacity, and make views of devices that lost memory inaccessible.
    func afterCall() {
        guard model.takeUpkeep() else { return }
        for warning in model.takeWarnings() { pendingLog.append((Priority.warning, warning.text)) }
        for region in model.regions {
            let spans = region.takeReleasedSpans()
            guard !spans.isEmpty, let fd = backings[region.id] else { continue }
            for span in spans { sys_punch_hole(fd: fd, offset: span.start &- region.start, length: span.length) }
        }
        for view in views.values where !view.revoked && view.device.lostBytes != view.lostBytesAtMap {
            sys_revoke(view.address, length: view.length)
            view.revoked = true
            pendingLog.append((Priority.err, "\(view.device.name): lost memory to a forced release; its view is revoked"))
        }
    }

    /// Maps `device` with `prot`. Lock held.
    func map(_ device: Device, prot: Int32) throws(DaxErrorBox) -> View {
        guard let region = device.region else { throw DaxErrorBox(.noDevice, "\(device.name) was deleted") }
        guard device.size > 0, let length = Int(exactly: device.size) else {
            throw DaxErrorBox(.noDeviceOrAddress, "\(device.name): cannot map a device of size 0")
        }
        let align = Int(clamping: max(device.align, 4096))
        let address: UnsafeMutableRawPointer
        var pieces: [HostMemoryPiece] = []
        if let bytes = device.path {
            let path = SysPath(bytes: bytes)
            let fd: Int32
            switch sys_open(path, writable: prot & sys_prot_write != 0) {
            case .success(let f): fd = f
            case .failure(let e): throw DaxErrorBox(e, "\(device.name): cannot open \(path) (\(e.name))")
            }
            defer { sys_close(fd) }
            switch sys_map_device(fd: fd, length: length, align: align, prot: prot) {
            case .success(let p): address = p
            case .failure(let e): throw DaxErrorBox(e, "\(device.name): mmap of \(path) failed (\(e.name))")
            }
        } else if let binding = fabricBinding, binding.region == ObjectIdentifier(region) {
            (address, pieces) = try mapFabric(device, binding, prot: prot, length: length, align: align)
            sys_advise_huge(address, length: length)
        } else {
            let fd = try backing(for: region)
            switch sys_reserve(length: length, align: align) {
            case .success(let p): address = p
            case .failure(let e): throw DaxErrorBox(e, "\(device.name): cannot reserve \(length) bytes (\(e.name))")
            }
            for range in device.ranges {
                let at = address + Int(clamping: range.pageOffset &* DeviceRange.pageSize)
                if let e = sys_map_fixed(at: at, length: Int(clamping: range.length), prot: prot, fd: fd,
                                         offset: range.start &- region.start) {
                    sys_unmap(address, length: length)
                    throw DaxErrorBox(e, "\(device.name): mapping mapping\(range.index) failed (\(e.name))")
                }
            }
            sys_advise_huge(address, length: length)
        }
        device.views += 1
        let view = View(device: device, context: self, address: address, length: length, pieces: pieces)
        views[ObjectIdentifier(view)] = view
        return view
    }
}

@implementation @c public func daxm_dev_map(
    _ dev: OpaquePointer?, _ prot: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { c, d throws(DaxErrorBox) in
        guard let out else { throw DaxErrorBox(.invalidArgument, "\(d.name): view out-pointer is NULL", priority: Priority.err) }
        let known = sys_prot_read | sys_prot_write
        guard prot & ~known == 0, prot & sys_prot_read != 0 else {
            throw DaxErrorBox(.invalidArgument, "\(d.name): prot 0x\(String(prot, radix: 16)) must be PROT_READ, optionally with PROT_WRITE")
        }
        let view = try c.map(d, prot: prot)
        out.pointee = OpaquePointer(Unmanaged.passRetained(view).toOpaque())
        return 0
    }
}

@implementation @c public func daxm_dev_set_path(_ dev: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        guard d.views == 0 else { throw DaxErrorBox(.busy, "\(d.name): device is mapped; unmap its views first") }
        guard let path else {
            d.path = nil
            return 0
        }
        guard case .success(let p) = SysPath.from(path), !p.isEmpty else {
            throw DaxErrorBox(.invalidArgument, "\(d.name): device path is empty or longer than 4095 bytes")
        }
        d.path = p.bytes
        return 0
    }
}

@implementation @c public func daxm_view_get_addr(_ view: OpaquePointer?) -> UnsafeMutableRawPointer? {
    guard let v = View.from(UnsafeMutableRawPointer(view)), !v.unmapped else { return nil }
    return v.address
}

@implementation @c public func daxm_view_get_size(_ view: OpaquePointer?) -> UInt64 {
    guard let v = View.from(UnsafeMutableRawPointer(view)), !v.unmapped else { return 0 }
    return UInt64(v.length)
}

@implementation @c public func daxm_view_get_dev(_ view: OpaquePointer?) -> OpaquePointer? {
    guard let v = View.from(UnsafeMutableRawPointer(view)), let c = v.context else { return nil }
    return c.lock.withLock { v.device.isDeleted ? nil : v.device.pointer }
}

@implementation @c public func daxm_view_unmap(_ view: OpaquePointer?) -> Int32 {
    guard let v = View.from(UnsafeMutableRawPointer(view)) else {
        reportUnlogged(.invalidArgument, "daxm_view_unmap: view is NULL")
        return errnoResult(.invalidArgument)
    }
    if let c = v.context {
        c.lock.withLock {
            if !v.unmapped { v.device.views &-= 1 }
            c.views[ObjectIdentifier(v)] = nil
        }
    }
    if !v.unmapped { sys_unmap(v.address, length: v.length) }
    v.unmapped = true
    Unmanaged.passUnretained(v).release()
    return 0
}
