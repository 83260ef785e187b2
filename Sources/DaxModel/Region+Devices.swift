/// Device creation and deletion: the region's `create` and `delete`
/// stores (`create_store`, `delete_store`, `__devm_create_dev_dax`).
extension Region {
    /// The `create` store: a new 0-size device with the lowest free id,
    /// recorded as `youngest`, and as `seed` if there is none.
    /// - Throws: EOPNOTSUPP (static region), ENOSPC (available_size is 0,
    ///   or every id 0...INT_MAX is in use: the kernel's ida fails).
    @discardableResult
    public func createDevice() throws(DaxError) -> Device {
        guard !isDeleted else { throw DaxError(.noDevice, "\(name): region was removed") }
        guard kind != .staticRegion else {
            throw DaxError(.notSupported, "\(name): static regions have no create")
        }
        guard availableSize > 0 else {
            throw DaxError(.noSpace, "\(name): no available space to create a device in")
        }
        guard let id = ids.allocate() else {
            throw DaxError(.noSpace, "\(name): every device id up to \(IdAllocator.maxId) is in use")
        }
        let device = Device(id: id, region: self)
        insert(device)
        if seed == nil { seed = device }
        youngest = device
        model?.promise(device.size == 0 && self.device(id: device.id) === device && ids.isUsed(device.id),
                       "\(name): create did not file a 0-size \(device.name)")
        return device
    }

    /// The producer's first device (`daxR.0`, or the static namespace's
    /// id): the whole region, or 0-size when idle. Never the seed.
    func addInitialDevice(id: Int, idle: Bool, bound: Bool) {
        guard ids.claim(id) else { return }
        let device = Device(id: id, region: self)
        insert(device)
        if !idle {
            device.allocRange(span, in: self)
            device.isBound = bound
        }
    }

    /// The `delete` store for `device`.
    /// - Throws: ENXIO (not a device of this region), EBUSY (id 0, a
    ///   non-zero size, or bound), EOPNOTSUPP (static region).
    public func deleteDevice(_ device: Device) throws(DaxError) {
        guard kind != .staticRegion else {
            throw DaxError(.notSupported, "\(name): static regions have no delete")
        }
        guard !device.isDeleted, device.region === self, devicesById[device.id] === device else {
            throw DaxError(.noDeviceOrAddress, "\(name): \(device.name) is not a device of this region")
        }
        guard device.id != 0 else {
            throw DaxError(.busy, "\(device.name): device id 0 is always kept; resize it to 0 instead")
        }
        guard !device.isBound, device.views == 0 else {
            throw DaxError(.busy, "\(device.name): device is enabled or mapped; disable and unmap it before deleting")
        }
        guard device.size == 0 else {
            throw DaxError(.busy, "\(device.name): device has size; resize it to 0 before deleting")
        }
        // Retire before the tables let go: the caller may hold the only
        // other (unretained) reference, a pointer handed to C.
        model?.retire(device, handedOut: device.handedOut)
        withExtendedLifetime(device) {
            remove(device)
            ids.release(device.id)
            if seed === device { seed = nil }
            if youngest === device { youngest = nil }
            device.isDeleted = true
        }
        model?.promise(self.device(id: device.id) == nil && !ids.isUsed(device.id),
                       "\(name): delete left \(device.name) filed or its id taken")
    }

    /// Marks the region, its devices and ranges deleted (model teardown)
    /// and drops the links between them, so objects an embedder still
    /// holds keep only what they point to alive and no cycle is left.
    func tearDown() {
        for device in devices {
            for range in device.ranges {
                range.isDeleted = true
                range.device = nil
            }
            device.ranges = []
            device.isDeleted = true
            device.region = nil
        }
        for extent in sparse.byOrder.values { extent.region = nil }
        // Pools and their members point at each other: break the cycles.
        for pool in sparse.pools.values { pool.core?.removeAll() }
        sparse = SparseState()
        extentSide.removeAll()
        removeAllDevices()
        seed = nil
        youngest = nil
        isDeleted = true
    }
}
