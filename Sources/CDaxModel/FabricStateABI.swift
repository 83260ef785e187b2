import DaxModel
import DaxModelHeader

// struct daxm_fabric's saved state: the device and every host as one
// document (format libdaxmodel-fabric-state, Fabric+State.swift), with a
// context's file rules (StateFile, StateABI.swift).

extension FabricHandle {
    /// The fabric's state document. Fabric lock held; takes every host
    /// context's lock, in host order (fabric before host, as a delivery
    /// does; nothing takes two host locks otherwise), so that no host bus
    /// changes while the document is built.
    /// - Throws: ENODEV when a host's context was closed by unbalanced
    ///   daxm_unref calls (its model is gone: the fabric cannot be saved).
    func stateDocument() throws(FabricFailure) -> JSONValue {
        var locked = 0
        defer {
            for c in hosts.prefix(locked) { c.lock.unlock() }
        }
        for (i, c) in hosts.enumerated() {
            c.lock.lock()
            locked += 1
            guard !c.closed else {
                throw .misuse(.noDevice, "host \(i)'s context was closed by an unbalanced daxm_unref: its model is gone")
            }
        }
        return fabric.stateDocument()
    }
}

/// What daxm_fabric_save takes out of the fabric's lock.
private enum FabricSnapshot {
    case failed(Int32)
    case taken(JSONValue, SysPath, FabricHandle)
}

@implementation @c public func daxm_fabric_save(_ fabric: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    let snapshot: FabricSnapshot = withFabric(fabric, fallback: { .failed($0) }) { f, _ throws(FabricFailure) in
        guard let path else { throw .misuse(.invalidArgument, "path is NULL") }
        switch StateFile.path(path, saving: true) {
        case .success(let file): return .taken(try f.stateDocument(), file, f)
        case .failure(let e): throw .misuse(e.errno, e.message)
        }
    }
    switch snapshot {
    case .failed(let code):
        return code
    case .taken(let doc, let file, let f):
        // Serialized and written with no lock held: commands and
        // deliveries go on meanwhile; the file holds the fabric as it was
        // when the document was taken.
        guard let e = StateFile.write(doc, to: file) else { return 0 }
        let text = "daxm_fabric_save: \(e.message)"
        ThreadError.set(text)
        f.log(Priority.err, text, function: "daxm_fabric_save")
        return errnoResult(e.errno)
    }
}

@implementation @c public func daxm_fabric_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    loadState(path, out, function: "daxm_fabric_load", format: Fabric.stateFormat) { doc throws(DaxError) in
        try FabricHandle(restoring: doc)
    }
}
