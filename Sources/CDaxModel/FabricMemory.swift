import DaxModel
import DaxModelHeader

// The fabric's memory: the bytes of the Dynamic Capacity device, shared by
// its hosts. A view of a device on a host context maps the device's
// memory through that host's decoding (DCDevice.decoding(host:)), so two hosts
// sharing a tag see the same bytes.

/// The device's memory: one sparse shared-memory file spanning the DC DPA
/// range (from region 0's base to the last region's end), created on first
/// use, offset = physical address - `base`. Owned by the fabric; every host
/// binding holds it too, so it lives while a host context does (live views
/// keep their pages after it closes).
///
/// Locks: `lock` guards only `fd`, and nothing is taken under it (it comes
/// after the fabric's lock and a host context's).
final class FabricMemory: @unchecked Sendable {
    let base: UInt64
    let size: UInt64
    private let lock = Lock()
    private var fd: Int32 = -1

    init(span: Span) {
        base = span.start
        size = span.length
    }

    deinit {
        if fd >= 0 { sys_close(fd) }
    }

    /// The memory file, created on first use. Any lock may be held.
    func file() throws(DaxErrorBox) -> Int32 {
        try lock.withLock { () throws(DaxErrorBox) -> Int32 in
            if fd >= 0 { return fd }
            switch sys_backing_file(name: "daxmodel-fabric", size: size) {
            case .success(let f):
                fd = f
                return f
            case .failure(let e):
                throw DaxErrorBox(e, "the fabric cannot create its memory (\(e.name))", priority: Priority.err)
            }
        }
    }

    /// Discards the bytes of physical `span`: they read back as zeros. A
    /// file not created yet holds nothing to discard.
    func discard(_ span: Span) {
        lock.withLock {
            guard fd >= 0, span.start >= base else { return }
            sys_punch_hole(fd: fd, offset: span.start &- base, length: span.length)
        }
    }
}

/// What a host can reach, as the fabric last pushed it: the device's
/// `decoding(host:)` (a copy that shares the device's storage until either
/// changes). Guarded by the host context's lock; written only by the fabric
/// (fabric lock, then host lock), read by the host's daxm_dev_map.
final class HostMemoryTable: @unchecked Sendable {
    var decoding = HostDecoding()
}

extension Context {
    /// Maps the ranges of `device` (on the fabric-bound region) through
    /// the host's decoding into the fabric's memory. DPAs the device no
    /// longer decodes for this host (force-released capacity a Linux host
    /// kept) stay inaccessible. A writable view of read-only capacity is
    /// EACCES, as mmap(2) answers for a read-only file. Lock held.
    func mapFabric(_ device: Device, _ binding: FabricBinding, prot: Int32, length: Int,
                   align: Int) throws(DaxErrorBox) -> (UnsafeMutableRawPointer, [HostMemoryPiece]) {
        var plan: [(Int, HostMemoryPiece)] = []
        for range in device.ranges {
            for p in binding.table.decoding.pieces(in: range.start, length: range.length) {
                if p.readOnly, prot & sys_prot_write != 0 {
                    throw DaxErrorBox(.permissionDenied, "\(device.name): 0x\(String(p.dpa, radix: 16)) is read-only capacity (a Read-Only DC region): map it PROT_READ")
                }
                // Inside the view (`length` bytes, an Int): no overflow.
                plan.append((Int(clamping: range.pageOffset &* DeviceRange.pageSize &+ (p.dpa &- range.start)), p))
            }
        }
        let fd = try binding.memory.file()
        let address: UnsafeMutableRawPointer
        switch sys_reserve(length: length, align: align) {
        case .success(let a): address = a
        case .failure(let e): throw DaxErrorBox(e, "\(device.name): cannot reserve \(length) bytes (\(e.name))")
        }
        for (offset, p) in plan {
            let at = address + offset
            if let e = sys_map_fixed(at: at, length: Int(clamping: p.length), prot: prot, fd: fd,
                                     offset: p.physical &- binding.memory.base) {
                sys_unmap(address, length: length)
                throw DaxErrorBox(e, "\(device.name): mapping 0x\(String(p.dpa, radix: 16)) (physical 0x\(String(p.physical, radix: 16))) failed (\(e.name))")
            }
        }
        return (address, plan.map(\.1))
    }

    /// Takes the host's new decoding (the fabric pushes it, fabric lock and
    /// this context's lock held) and revokes every view that maps memory the
    /// host no longer reaches the same way: a forced release, whether the
    /// host kept the extent (Linux) or drops it at its next delivery.
    func takeMemoryMap(_ decoding: HostDecoding, table: HostMemoryTable) {
        table.decoding = decoding
        for view in views.values where !view.revoked && !view.pieces.allSatisfy(decoding.holds) {
            sys_revoke(view.address, length: view.length)
            view.revoked = true
            pendingLog.append((Priority.err, "\(view.device.name): the fabric revoked memory it mapped (a forced release); its view is revoked"))
        }
    }

    /// A host that is down (its context closed) loses the device's memory:
    /// its views of fabric memory are revoked. Lock held.
    func revokeFabricViews() {
        for view in views.values where !view.revoked && !view.pieces.isEmpty {
            sys_revoke(view.address, length: view.length)
            view.revoked = true
        }
    }
}

extension FabricHandle {
    /// Pushes host `id`'s decoding to its context if the device changed it
    /// since the last push. Fabric lock and the host's lock held.
    func pushMemoryMap(to c: Context, host id: UInt16) {
        let i = Int(id)
        let stamp = fabric.device.memoryStamp(host: id)
        guard i < pushedStamps.count, pushedStamps[i] != stamp, let binding = c.fabricBinding else { return }
        pushedStamps[i] = stamp
        c.takeMemoryMap(fabric.device.decoding(host: id), table: binding.table)
    }

    /// After a command or delivery (fabric lock held): every host whose
    /// decoding changed gets it, under its own lock (views revoked first),
    /// then the capacity the device sanitized is discarded from the
    /// memory. Host log lines go to `after`.
    func syncMemory(function: StaticString, _ after: inout [() -> Void]) {
        let device = fabric.device
        if device.memoryStamp != pushedAll {
            pushedAll = device.memoryStamp
            for (i, c) in hosts.enumerated() where pushedStamps[i] != device.memoryStamp(host: UInt16(i)) {
                c.lock.lock()
                if c.closed {
                    pushedStamps[i] = device.memoryStamp(host: UInt16(i))
                    c.lock.unlock()
                    continue
                }
                pushMemoryMap(to: c, host: UInt16(i))
                let notes = c.pendingLog
                if !notes.isEmpty { c.pendingLog = [] }
                c.lock.unlock()
                if !notes.isEmpty { after.append { c.flush(notes, [], function: function) } }
            }
        }
        for span in device.takeSanitizedSpans() { memory.discard(span) }
    }
}
