import Testing
@testable import DaxModel

extension FabricFixture {
    /// A fixture around a fabric built elsewhere (a loaded state).
    init(wrapping fabric: Fabric) { self.fabric = fabric }
}

/// One seeded sequence of fabric-manager and host calls, the style of
/// `FabricRandomTests`, that can drive two fabrics in lockstep: a copy of
/// the driver makes the same calls, and host devices are named by (host,
/// id) so they mean the same device on a loaded copy. Each step returns
/// what the calls answered.
struct FabricDriver {
    typealias F = FabricFixture
    var rng: SplitMix64
    var knownTags: [DaxTag] = []
    var devices: [(UInt16, Int)] = []
    let hostCount: Int

    init(seed: UInt64, hostCount: Int) {
        rng = SplitMix64(seed: seed)
        self.hostCount = hostCount
    }

    static func show<T>(_ body: () throws -> T) -> String {
        do {
            return "\(try body())"
        } catch let error as FabricError {
            return "refused \(error.code)"
        } catch {
            return "refused \(error)"
        }
    }

    mutating func step(_ f: F) -> String {
        let host = UInt16(rng.below(hostCount))
        let region = UInt8(rng.below(2))
        let mine = f.list(host)
        let dev = f.dev
        switch rng.weighted([20, 8, 10, 10, 7, 4, 4, 6, 6, 20, 4, 3, 2]) {
        case 0:
            let tag = rng.chance(60) ? F.tag(UInt8(1 + rng.below(40))) : DaxTag.untagged
            let policy: AddSelectionPolicy = rng.pick([.free, .contiguous])
            if !tag.isUntagged { knownTags.append(tag) }
            let req = DCAddRequest(hostId: host, policy: policy, region: region, length: 2 * F.mib * UInt64(1 + rng.below(8)), tag: tag)
            return "add \(Self.show { try dev.initiateAdd(req) })"
        case 1:
            let at = UInt64(rng.below(500)) * 2
            let tag = rng.chance(50) ? F.tag(UInt8(41 + rng.below(40))) : DaxTag.untagged
            let req = DCAddRequest(hostId: host, policy: .prescriptive,
                                   extents: [F.ext(at, 2 * UInt64(1 + rng.below(3)), tag, region: UInt64(region))])
            return "prescriptive \(Self.show { try dev.initiateAdd(req) })"
        case 2:
            guard !knownTags.isEmpty else { return "no tag" }
            let req = DCAddRequest(hostId: host, policy: .enableSharedAccess, region: region, tag: rng.pick(knownTags))
            return "share \(Self.show { try dev.initiateAdd(req) })"
        case 3:
            guard let e = mine.isEmpty ? nil : rng.pick(mine) else { return "nothing to release" }
            let sanitize = rng.chance(20)
            if e.tag.isUntagged || rng.chance(50) {
                return "release \(f.release(host: host, .prescriptive, sanitize: sanitize, extents: [e]))"
            }
            return "release tag \(f.release(host: host, sanitize: sanitize, tag: e.tag))"
        case 4:
            if let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) {
                return "force tag \(f.release(host: host, forced: true, tag: tag))"
            } else if let e = mine.first {
                return "force \(f.release(host: host, .prescriptive, forced: true, extents: [e]))"
            }
            return "nothing to force"
        case 5:
            guard let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) else { return "no tag" }
            return "reference \(Self.show { try dev.addReference(tag: tag) })"
        case 6:
            guard let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) else { return "no tag" }
            return "unreference \(Self.show { try dev.removeReference(tag: tag) })"
        case 7:
            // A job claims a tag on the host: a later release is deferred.
            guard let h = f.fabric.host(host), let e = h.view.first(where: { !$0.tag.isUntagged }) else { return "no job" }
            guard let d = try? h.region.createDevice() else { return "no device" }
            do {
                try d.claimTag(e.tag)
                devices.append((host, d.id))
                return "claimed \(d.name) size \(d.size)"
            } catch {
                try? h.region.deleteDevice(d)
                return "claim refused \(error.errno.rawValue)"
            }
        case 8:
            guard !devices.isEmpty else { return "no device" }
            let (h, id) = devices.remove(at: rng.below(devices.count))
            guard let region = f.fabric.host(h)?.region, let d = region.device(id: id) else { return "device gone" }
            let shrink = (try? d.resize(to: 0)) != nil
            let delete = (try? region.deleteDevice(d)) != nil
            return "deleted \(h):\(id) \(shrink) \(delete)"
        case 9:
            return "delivered \(rng.chance(70) ? f.fabric.run() : f.fabric.deliver(to: host))"
        case 10:
            return "manager events \(f.fmEvents())"
        case 11:
            return "answers \(f.fabric.hosts.map { $0.takeAnswers().map { "\($0.0) \($0.1)" } })"
        default:
            let r = Int(region)
            let spec = dev.regionSpec(r)
            let sanitize = !(spec?.sanitizeOnRelease ?? false)
            return "configure \(Self.show { try dev.setRegionConfig(region: r, blockSize: spec?.blockSize ?? 0, sanitizeOnRelease: sanitize) })"
        }
    }
}

/// Saving and loading a fabric with all its hosts (issue 15 item 5):
/// round trips from random states, the same calls giving the same answers
/// on the original and the loaded copy, refusals of damaged documents, and
/// damaged documents that never trap.
@Suite struct FabricStateTests {
    typealias F = FabricFixture

    /// Everything a manager or a host can observe, one labelled line each.
    static func observe(_ fabric: Fabric) -> [String] {
        let d = fabric.device
        var out: [String] = []
        out.append("info \(d.getDCDInfo())")
        out.append("tags \(FabricDriver.show { try d.listTags(startIndex: 0, maxTags: 1 << 16) })")
        out.append("manager queue \(Array(d.fmEvents[d.fmHead...]))")
        out.append("consumed \(d.answersConsumed) totals \(d.capacityTotals)")
        out.append("sanitized \(d.sanitizedSpans) requested \(d.sanitizeRequested.sorted())")
        for r in 0..<d.regionCount {
            out.append("region \(r) \(String(describing: d.regionSpec(r)))")
            out.append("region \(r) runs \(d.regions[r].blocks.runs.map { "\($0.span) \($0.owner)" }) free \(d.regions[r].blocks.free.holes)")
        }
        for host in fabric.hosts {
            let id = host.id, ld = d.hosts[Int(id)]
            out.append("config \(id) \(FabricDriver.show { try d.getHostRegionConfig(host: id, regionCount: 8, startRegion: 0) })")
            out.append("list \(id) \(FabricDriver.show { try d.getExtentList(host: id, count: 1 << 20, startIndex: 0) })")
            out.append("log \(id) \(ld.log) overflowed \(d.eventLogOverflows(host: id))")
            out.append("offers \(id) \(ld.liveGroups.map { "\($0.id) dead \($0.dead) esa \($0.sharedAccess) \($0.extents.map(\.record))" })")
            out.append("pending \(id) \(ld.pending.values.map(\.record))")
            out.append("bus \(id) \(ranked(host.bus.stateDocument(), inBus: true).serialized())")
            out.append("view \(id) \(host.view)")
            out.append("stale \(id) \(host.staleExtents.sorted { $0.dpa < $1.dpa })")
            out.append("answers \(id) \(host.answers.map { "\($0.0) \($0.1)" })")
            out.append("outstanding \(id) \(host.outstandingReleases.sorted { $0.key < $1.key })")
        }
        out.append("invariants \(d.checkInvariants())")
        out.append("mismatches \(fabric.viewMismatches())")
        return out
    }

    /// The first line where two observations differ, nil when equal.
    static func difference(_ a: [String], _ b: [String]) -> String? {
        guard a != b else { return nil }
        for (x, y) in zip(a, b) where x != y { return "\(x)\n  !=\n\(y)" }
        return "\(a.count) lines != \(b.count) lines"
    }

    /// `doc` with each host bus's extent orders and device serials
    /// replaced by their ranks. The context format saves those numbers
    /// but not the counters that hand out the next ones, so a loaded bus
    /// numbers new extents and devices from the highest saved one: the
    /// same order (all they are used for), other numbers.
    static func ranked(_ doc: JSONValue, inBus: Bool = false) -> JSONValue {
        switch doc {
        case .object(let members):
            return .object(members.map { ($0.0, ranked($0.1, inBus: inBus || $0.0 == "bus")) })
        case .array(let items):
            var out = items.map { ranked($0, inBus: inBus) }
            guard inBus else { return .array(out) }
            for key in ["order", "serial"] {
                let values = out.compactMap { item -> UInt64? in if case .uint(let v)? = item[key] { v } else { nil } }
                guard values.count == out.count, !out.isEmpty else { continue }
                let sorted = values.sorted()
                out = out.map { item in
                    guard case .object(let m) = item, case .uint(let v)? = item[key] else { return item }
                    let rank = UInt64(sorted.partitionPoint { $0 < v })
                    return .object(m.map { $0.0 == key ? ($0.0, .uint(rank)) : $0 })
                }
            }
            return .array(out)
        default:
            return doc
        }
    }

    /// The first differing line of two texts, with its neighbours.
    static func textDifference(_ a: String, _ b: String) -> String? {
        guard a != b else { return nil }
        let x = a.split(separator: "\n", omittingEmptySubsequences: false), y = b.split(separator: "\n", omittingEmptySubsequences: false)
        let i = zip(x, y).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(x.count, y.count)
        let context = max(0, i - 6)..<i
        return "line \(i): \(x[context].joined(separator: "\n"))\n- \(i < x.count ? x[i] : "(end)")\n+ \(i < y.count ? y[i] : "(end)")"
    }

    /// Saves `fabric`, checks the document survives text, and loads it.
    static func roundTrip(_ fabric: Fabric, sourceLocation: SourceLocation = #_sourceLocation) throws -> Fabric {
        let doc = fabric.stateDocument()
        let text = doc.serialized()
        let parsed = try JSONValue.parse(Array(text.utf8)).get()
        #expect(parsed == doc, "the document survives its text", sourceLocation: sourceLocation)
        let loaded = try Fabric.restore(from: parsed)
        let drift = textDifference(text, loaded.stateDocument().serialized())
        #expect(drift == nil, "saving the loaded fabric gives another document: \(drift ?? "")", sourceLocation: sourceLocation)
        #expect(loaded.device.checkInvariants() == [], sourceLocation: sourceLocation)
        #expect(loaded.viewMismatches() == fabric.viewMismatches(), sourceLocation: sourceLocation)
        let diff = difference(observe(fabric), observe(loaded))
        #expect(diff == nil, "\(diff ?? "")", sourceLocation: sourceLocation)
        return loaded
    }

    /// The in-flight and after-the-fact situations a saved state holds.
    static func features(_ fabric: Fabric) -> Set<String> {
        var out = Set<String>()
        let d = fabric.device
        if d.pendingFMEventCount > 0 { out.insert("manager records") }
        if !d.sanitizeRequested.isEmpty { out.insert("sanitize requested") }
        if d.tags.values.contains(where: { $0.fmReference }) { out.insert("manager reference") }
        if d.tags.values.contains(where: { $0.sharable && $0.lists.count > 1 }) { out.insert("tag shared by two hosts") }
        for host in fabric.hosts {
            let ld = d.hosts[Int(host.id)]
            if !ld.log.isEmpty { out.insert("records in a log") }
            if ld.log.contains(where: { $0.type == .forcedCapacityRelease }) { out.insert("forced record unread") }
            if ld.overflowed > 0 { out.insert("log overflowed") }
            if ld.liveGroups.contains(where: \.dead) { out.insert("dead offer") }
            if ld.liveGroups.contains(where: { !$0.dead }) { out.insert("live offer") }
            if ld.liveGroups.contains(where: \.sharedAccess) { out.insert("shared access offer") }
            if !host.staleExtents.isEmpty { out.insert("stale extent") }
            if !host.outstandingReleases.isEmpty { out.insert("outstanding release") }
            if !host.bus.tapped.isEmpty { out.insert("host event unreported") }
            if host.region.devices.count > 1 { out.insert("host devices") }
        }
        if !fabric.viewMismatches().isEmpty { out.insert("views differ") }
        return out
    }

    struct Setup: Sendable, CustomStringConvertible {
        var seed: UInt64
        var profile: FabricProfile
        var revoke: Bool
        var logDepth: Int
        var description: String { "seed \(seed) \(profile) revoke \(revoke) log \(logDepth)" }

        func fixture() throws -> F {
            try F(hosts: 4, sharable: profile == .spec, logDepth: logDepth, maxExtents: 40, maxTags: 6, revoke: revoke,
                  profile: profile) {
                if seed % 2 == 0 { $0.regions[1].sharable = false }
            }
        }
    }

    static let setups = [
        Setup(seed: 11, profile: .spec, revoke: false, logDepth: 24),
        Setup(seed: 12, profile: .spec, revoke: true, logDepth: 24),
        Setup(seed: 13, profile: .spec, revoke: false, logDepth: 3),
        Setup(seed: 14, profile: .mhsld, revoke: true, logDepth: 16),
        Setup(seed: 15, profile: .spec, revoke: true, logDepth: 5),
    ]

    @Test("random states save and load exactly, and the loaded copy answers the same calls the same way", arguments: setups)
    func randomRoundTrips(setup: Setup) throws {
        let a = try setup.fixture()
        var drive = FabricDriver(seed: setup.seed, hostCount: 4)
        var copy: (F, FabricDriver)?
        var loads = 0
        var shared = false
        var seen = Set<String>()
        for step in 0..<240 {
            if step % 16 == 0 {
                if let (b, _) = copy {
                    let drift = Self.textDifference(Self.ranked(a.fabric.stateDocument()).serialized(),
                                                    Self.ranked(b.fabric.stateDocument()).serialized())
                    #expect(drift == nil, "\(setup) step \(step): the copy drifted: \(drift ?? "")")
                }
                let loaded = try Self.roundTrip(a.fabric)
                seen.formUnion(Self.features(a.fabric))
                copy = (F(wrapping: loaded), drive)
                loads += 1
            }
            let answer = drive.step(a)
            if answer.hasPrefix("share [") { shared = true }
            if let (b, driver) = copy {
                var other = driver
                let copied = other.step(b)
                #expect(copied == answer, "\(setup) step \(step): \(answer) on the original, \(copied) on the loaded copy")
                copy = (b, other)
            }
            let bad = a.dev.checkInvariants()
            #expect(bad.isEmpty, "\(setup) step \(step): \(bad)")
            if !bad.isEmpty { break }
        }
        #expect(loads == 15)
        // Saved with messages in flight, not only in quiet states.
        let wanted: Set = ["records in a log", "live offer", "manager records", "host devices", "views differ"]
        #expect(seen.isSuperset(of: wanted), "\(setup): saved states had only \(seen.sorted())")
        // The sequences reached the states worth saving.
        #expect(a.dev.answersConsumed > 20, "\(setup)")
        #expect(shared == (setup.profile == .spec), "\(setup): Enable Shared Access succeeded where it can")
        _ = try Self.roundTrip(a.fabric)
    }

    @Test("a fresh fabric and one with 256 hosts round trip")
    func edges() throws {
        _ = try Self.roundTrip(try F().fabric)
        let wide = try F(hosts: 256)
        wide.add(host: 255, .free, mib: 4, tag: F.tag(1))
        wide.fabric.run()
        wide.add(host: 200, .enableSharedAccess, tag: F.tag(1))
        let loaded = try Self.roundTrip(wide.fabric)
        #expect(loaded.hosts.count == 256 && F(wrapping: loaded).list(255).count == 1)
    }

    @Test("each host bus is anchored where the caller says")
    func anchors() throws {
        let f = try Self.richFixture()
        let anchors = (0..<3).map { _ in ModelAnchor() }
        let loaded = try Fabric.restore(from: f.fabric.stateDocument()) { anchors[Int($0)] }
        for h in loaded.hosts { #expect(h.bus.anchor === anchors[Int(h.id)] && h.region.anchor === anchors[Int(h.id)]) }
    }

    @Test("lost and unread messages survive a round trip: dropped forced records, dead offers, unreported releases")
    func messagesInFlight() throws {
        let f = try F(hosts: 2, logDepth: 2, revoke: false)
        for at in [0, 8, 16] as [UInt64] {
            #expect(f.add(host: 0, .prescriptive, extents: [F.ext(at, 4)]) == .success)
            f.fabric.run()
        }
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(32, 4, F.tag(1))]) == .success)
        f.fabric.run()
        // A job maps tag 1; its release is asked for and deferred.
        let region = f.fabric.hosts[0].region
        let job = try region.createDevice()
        try job.claimTag(F.tag(1))
        #expect(f.release(host: 0, tag: F.tag(1)) == .success)
        f.fabric.deliver(to: 0)
        // Two offers fill the log; one is then killed by force.
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(64, 2)]) == .success)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(72, 2)]) == .success)
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(72, 2)]) == .success)
        // Forced releases of accepted extents find the log full: dropped.
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 4), F.ext(8, 4)]) == .success)
        #expect(f.dev.eventLogOverflows(host: 0) == 2)
        // The job ends: the release completes on the host, unreported.
        try job.resize(to: 0)
        try region.deleteDevice(job)
        #expect(!f.fabric.hosts[0].bus.tapped.isEmpty && !f.fabric.viewMismatches().isEmpty)
        // The host's user read its own events: the host still reports.
        while f.fabric.hosts[0].bus.nextEvent() != nil {}
        let doc = f.fabric.stateDocument()
        let loaded = F(wrapping: try Self.roundTrip(f.fabric))
        // Both deliver the same way and end the same.
        #expect(f.fabric.run() == loaded.fabric.run())
        #expect(Self.difference(Self.observe(f.fabric), Self.observe(loaded.fabric)) == nil)
        #expect(f.list(0) == [F.ext(16, 4), F.ext(64, 2)])
        // One dropped record explains one extent the host still holds.
        Self.refuse(Self.set(doc, ["device", "lds", 0, "overflowed"], .uint(1)), "hosts[0].bus", "does not list")
        // The unreported release explains an extent the device still lists.
        Self.refuse(Self.set(doc, ["hosts", 0, "tapped"], .array([])), "hosts[0].bus", "lacks")
    }

    // MARK: refusals

    /// Three hosts: host 0 holds an untagged extent it kept after a forced
    /// release (stale) and Sharable tag A (manager reference); host 1
    /// shares A through Enable Shared Access, maps it in a device and was
    /// asked to release it (deferred), and holds an untagged extent; host
    /// 2 holds tag B in the region that is not Sharable, an untagged
    /// extent, and an offer it has not read. Manager records wait.
    static let tagA = F.tag(1), tagB = F.tag(2)

    static func richFixture() throws -> F {
        let f = try F(hosts: 3, revoke: false) { $0.regions[1].sharable = false }
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(0, 8)]) == .success)
        #expect(f.add(host: 0, .prescriptive, extents: [F.ext(16, 4, tagA), F.ext(24, 4, tagA)]) == .success)
        f.fabric.run()
        #expect(f.add(host: 1, .enableSharedAccess, tag: tagA) == .success)
        #expect(f.add(host: 1, .prescriptive, extents: [F.ext(128, 8)]) == .success)
        #expect(f.add(host: 2, .prescriptive, extents: [F.ext(0, 4, tagB, region: 1)]) == .success)
        #expect(f.add(host: 2, .prescriptive, extents: [F.ext(64, 8)]) == .success)
        f.fabric.run()
        try f.dev.addReference(tag: tagA)
        let job = try #require(f.fabric.host(1)).region
        try job.createDevice().claimTag(tagA)
        #expect(f.release(host: 1, tag: tagA) == .success)
        f.fabric.deliver(to: 1)
        #expect(f.release(host: 0, .prescriptive, forced: true, extents: [F.ext(0, 8)]) == .success)
        f.fabric.deliver(to: 0)
        #expect(f.add(host: 2, .free, mib: 2) == .success)
        #expect(f.dev.checkInvariants() == [])
        #expect(f.fabric.hosts[0].staleExtents.count == 1 && f.fabric.hosts[1].outstandingReleases.count == 1)
        #expect(f.dev.pendingFMEventCount > 0 && f.dev.eventLogCount(host: 2) == 1)
        return f
    }

    enum Step: Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, CustomStringConvertible {
        case key(String), index(Int)
        init(stringLiteral s: String) { self = .key(s) }
        init(integerLiteral i: Int) { self = .index(i) }
        var description: String {
            switch self {
            case .key(let k): k
            case .index(let i): "[\(i)]"
            }
        }
    }

    /// `doc` with the value at `path` replaced by `change(value)`, or
    /// removed when that is nil. A path that does not exist changes nothing.
    static func edit(_ doc: JSONValue, _ path: ArraySlice<Step>, _ change: (JSONValue) -> JSONValue?) -> JSONValue? {
        guard let first = path.first else { return change(doc) }
        switch (doc, first) {
        case (.object(let members), .key(let k)):
            return .object(members.compactMap { key, v in
                key != k ? (key, v) : edit(v, path.dropFirst(), change).map { (key, $0) }
            })
        case (.array(var items), .index(let i)) where items.indices.contains(i):
            if let v = edit(items[i], path.dropFirst(), change) { items[i] = v } else { items.remove(at: i) }
            return .array(items)
        default:
            return doc
        }
    }

    static func set(_ doc: JSONValue, _ path: [Step], _ value: JSONValue?) -> JSONValue {
        edit(doc, path[...], { _ in value }) ?? .null
    }

    static func value(_ doc: JSONValue, _ path: [Step]) -> JSONValue? {
        var v: JSONValue? = doc
        for step in path {
            switch (v, step) {
            case (.object(let m)?, .key(let k)): v = m.first { $0.0 == k }?.1
            case (.array(let a)?, .index(let i)) where a.indices.contains(i): v = a[i]
            default: return nil
            }
        }
        return v
    }

    /// The index of the first element of the array at `path` whose `key` is `value`.
    static func index(_ doc: JSONValue, _ path: [Step], where key: String, is wanted: JSONValue) -> Int? {
        guard case .array(let items)? = value(doc, path) else { return nil }
        return items.firstIndex { $0[key] == wanted }
    }

    static func refuse(_ doc: JSONValue, _ needles: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try Fabric.restore(from: doc)
            Issue.record("a damaged document loaded; expected \(needles)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.errno == .invalidArgument, sourceLocation: sourceLocation)
            for n in needles { #expect(error.message.contains(n), "\(error.message)", sourceLocation: sourceLocation) }
        }
    }

    @Test("damaged documents are refused with EINVAL naming the field")
    func refusals() throws {
        let f = try Self.richFixture()
        let doc = f.fabric.stateDocument()
        _ = try Self.roundTrip(f.fabric)
        let mib = F.mib, base = F.base
        let lds: [Step] = ["device", "lds"]
        func acceptedIndex(_ h: Int, dpa: UInt64) throws -> Int {
            try #require(Self.index(doc, lds + [.index(h), "accepted"], where: "dpa", is: .uint(dpa)))
        }
        // The envelope.
        Self.refuse(Self.set(doc, ["format"], .string(DaxBus.stateFormat)), "state field format")
        Self.refuse(Self.set(doc, ["version"], .uint(2)), "state field version")
        Self.refuse(Self.set(doc, ["device"], nil), "state field device is missing")
        Self.refuse(Self.set(doc, ["hosts", 2], nil), "state field hosts", "holds 2 hosts")
        Self.refuse(Self.set(doc, ["device", "profile"], .string("cxl")), "device.profile")
        Self.refuse(Self.set(doc, ["device", "profile"], .string("qemu")), "does not describe a device")
        Self.refuse(Self.set(doc, ["device", "regions", 0, "base"], .uint(base + mib)), "does not describe a device")
        // Host ids and indexes out of range.
        Self.refuse(Self.set(doc, ["device", "fm_events", 0, "host"], .uint(3)), "device.fm_events[0].host")
        Self.refuse(Self.set(doc, ["device", "fm_events", 0, "type"], .uint(1)), "device.fm_events[0].type")
        Self.refuse(Self.set(doc, ["device", "fm_events", 0, "region"], .uint(2)), "device.fm_events[0].region")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "lists", 0, "host"], .uint(9)), "device.tags[0].lists[0].host")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "accepted"], .array([.uint(0), .uint(7)])), "device.tags[0].accepted[1]")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "home"], .uint(5)), "device.tags[0].home")
        Self.refuse(Self.set(doc, lds + [1, "id"], .uint(2)), "device.lds[1].id")
        Self.refuse(Self.set(doc, lds + [2, "log", 0, "type"], .uint(4)), "device.lds[2].log[0].type")
        Self.refuse(Self.set(doc, lds + [2, "log", 0, "region"], .uint(8)), "device.lds[2].log[0].region")
        // Overlapping ownership: host 2's untagged extent moved onto host 1's.
        let u2 = try acceptedIndex(2, dpa: base + 64 * mib)
        let onto1 = Self.set(Self.set(doc, lds + [2, "accepted", .index(u2), "dpa"], .uint(base + 128 * mib)),
                             lds + [2, "accepted", .index(u2), "physical"], .uint(base + 128 * mib))
        Self.refuse(onto1, "device.lds[2].accepted[\(u2)].physical", "overlaps")
        // ... or onto tag A's shared blocks: the tag's span is then another host's.
        let ontoA = Self.set(Self.set(doc, lds + [2, "accepted", .index(u2), "dpa"], .uint(base + 16 * mib)),
                             lds + [2, "accepted", .index(u2), "physical"], .uint(base + 16 * mib))
        Self.refuse(Self.set(ontoA, lds + [2, "accepted", .index(u2), "length"], .uint(4 * mib)), "device.tags[0].spans[0]")
        // A block owned twice within one host's list.
        let a0 = try acceptedIndex(1, dpa: base + 128 * mib)
        Self.refuse(Self.set(doc, lds + [1, "accepted", .index(a0), "physical"], .uint(base + 130 * mib)), "lds[1].accepted[\(a0)].physical")
        // Inconsistent tags.
        Self.refuse(Self.set(doc, ["device", "tags", 0, "spans", 0, "start"], .uint(base + 17 * mib)), "device.tags[0].spans[0]", "aligned")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "spans", 0, "start"], .uint(base + 24 * mib)), "device.tags[0].spans[1]", "twice")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "spans", 0, "start"], .uint(base + 18 * mib)), "device.tags[0].lists", "physical address")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "spans", 1], nil), "device.tags[0].lists", "physical address")
        // Host 1 reaches tag A through Enable Shared Access: its extents'
        // physical addresses follow the tag's capacity.
        let esa = try acceptedIndex(1, dpa: base + 16 * mib)
        Self.refuse(Self.set(doc, lds + [1, "accepted", .index(esa), "physical"], .uint(base + 18 * mib)), "device.tags[0].lists", "physical address")
        Self.refuse(Self.set(doc, lds + [1, "accepted", .index(esa), "home"], .uint(1)), "device.lds[1].accepted[\(esa)].home")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "lists", 1, "extents", 0, "sequence"], .uint(1)), "device.tags[0].lists", "does not hold")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "lists", 1], nil), "device.tags[0]")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "accepted"], .array([.uint(0)])), "device.tags[0].accepted")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "pending"], .array([.uint(2)])), "device.tags[0].pending")
        Self.refuse(Self.set(doc, ["device", "tags", 0, "established"], .bool(false)), "device.tags[0].established")
        Self.refuse(Self.set(doc, ["device", "tags", 1, "fm_reference"], .bool(true)), "device.tags[1].fm_reference")
        Self.refuse(Self.set(doc, ["device", "tags", 1, "serial"], .uint(0)), "device.tags[1].serial")
        Self.refuse(Self.set(doc, ["device", "tags", 1, "tag"], .string(Self.tagA.uuidString)), "device.tags[1].tag", "twice")
        Self.refuse(Self.set(doc, ["device", "tags", 1], nil), "names no tag")
        let t2 = try acceptedIndex(2, dpa: base + F.gib)
        Self.refuse(Self.set(doc, lds + [2, "accepted", .index(t2), "sequence"], .uint(3)), "device.tags[1].lists")
        Self.refuse(Self.set(doc, lds + [2, "accepted", .index(t2), "physical"], .uint(base + F.gib + 2 * mib)), "lds[2].accepted[\(t2)].physical")
        // Counters, budgets, sanitizing.
        Self.refuse(Self.set(doc, ["device", "next_group_id"], .uint(2)), "group")
        Self.refuse(Self.set(doc, ["device", "next_tag_serial"], .uint(1)), "device.tags[1].serial")
        Self.refuse(Self.set(doc, ["device", "answers_consumed"], .uint(0)), "device.answers_consumed")
        Self.refuse(Self.set(doc, ["device", "tag_generation"], .int(-1)), "device.tag_generation")
        Self.refuse(Self.set(doc, lds + [0, "max_extents"], .uint(1)), "device.lds[0].max_extents")
        Self.refuse(Self.set(doc, lds + [0, "max_tags"], .uint(0)), "device.lds[0].max_tags")
        Self.refuse(Self.set(doc, lds + [2, "max_extents"], .uint(100)), "hosts[2].bus", "not a fabric host's bus")
        Self.refuse(Self.set(doc, ["device", "sanitize_requested"], .array([.uint(base)])), "device.sanitize_requested[0]")
        Self.refuse(Self.set(doc, ["device", "sanitized_spans"], .array([.object([("start", .uint(0)), ("length", .uint(mib))])])),
                    "device.sanitized_spans[0]")
        // Offers.
        Self.refuse(Self.set(doc, lds + [2, "offers", 0, "id"], .uint(0)), "device.lds[2].offers[0].id")
        Self.refuse(Self.set(doc, lds + [2, "offers", 0, "shared_access"], .bool(true)), "device.lds[2].offers[0].extents[0].tag")
        Self.refuse(Self.set(doc, lds + [2, "offers", 0, "extents"], .array([])), "device.lds[2].offers[0].extents")
        // Hosts and their buses.
        Self.refuse(Self.set(doc, ["hosts", 1, "bus", "version"], .uint(9)), "state field hosts[1].bus.version")
        Self.refuse(Self.set(doc, ["hosts", 1, "id"], .uint(0)), "hosts[1].id")
        Self.refuse(Self.set(doc, ["hosts", 0, "bus", "regions", 0, "sanitize"], .bool(true)), "hosts[0].bus", "not a fabric host's bus")
        Self.refuse(Self.set(doc, ["hosts", 2, "bus", "regions", 0, "extents", 0], nil), "hosts[2].bus", "lacks")
        Self.refuse(Self.set(doc, ["hosts", 0, "stale_extents"], .array([])), "hosts[0].bus", "does not list")
        Self.refuse(Self.set(doc, ["hosts", 0, "stale_extents", 0, "dpa"], .uint(0)), "hosts[0].stale_extents[0]")
        Self.refuse(Self.set(doc, ["hosts", 1, "outstanding", 0, "extents"], .uint(0)), "hosts[1].outstanding[0].extents")
        // Fewer than the request still has to report (fuzz: new-load-outstanding-count-below-releasing).
        Self.refuse(Self.set(doc, ["hosts", 1, "outstanding", 0, "extents"], .uint(1)), "hosts[1].outstanding", "still to report")
        Self.refuse(Self.set(doc, ["hosts", 1, "answers", 0, "code"], .uint(0x99)), "hosts[1].answers[0].code")
        Self.refuse(Self.set(doc, ["hosts", 1, "answers", 0, "kind"], .string("hello")), "hosts[1].answers[0].kind")
    }

    // MARK: damaged documents never trap

    /// Every place in a document: the paths to each value, root included.
    static func paths(_ v: JSONValue, _ prefix: [Step], into out: inout [[Step]]) {
        out.append(prefix)
        switch v {
        case .object(let members): for (k, x) in members { paths(x, prefix + [.key(k)], into: &out) }
        case .array(let items): for (i, x) in items.enumerated() { paths(x, prefix + [.index(i)], into: &out) }
        default: break
        }
    }

    /// Ways to damage one value: delete it, change its type, nudge it.
    static func damages(of v: JSONValue, _ rng: inout SplitMix64) -> [JSONValue?] {
        var out: [JSONValue?] = [nil, .null]
        switch v {
        case .uint(let n):
            out += [.uint(n &+ 1), .uint(n &- 1), .uint(0), .uint(.max), .int(-1), .uint(n ^ 1 << UInt64(rng.below(64))),
                    .uint(n &+ 2 << 20), .string("\(n)")]
        case .int(let n): out += [.int(n &+ 1), .uint(0), .int(.min)]
        case .bool(let b): out += [.bool(!b), .uint(1)]
        case .string(let s): out += [.string("untagged"), .string(F.tag(UInt8(1 + rng.below(3))).uuidString), .string(s + "x")]
        case .array(let items):
            out += [.array([]), .array(items + items.prefix(1)), .array(items.reversed())]
        case .object: out += [.object([])]
        default: break
        }
        return out
    }

    @Test("damaged documents never trap: each is refused or loads a fabric whose invariants hold and keeps working",
          arguments: [21, 22] as [UInt64])
    func mutations(seed: UInt64) throws {
        // Seed 21: hosts ignore forced releases (stale extents); seed 22:
        // hosts revoke, and a log of 4 records overflows.
        let source = try F(hosts: 3, logDepth: seed == 21 ? 8 : 4, maxExtents: 16, maxTags: 4, revoke: seed == 22) {
            $0.regions[1].sharable = false
        }
        var drive = FabricDriver(seed: seed, hostCount: 3)
        for _ in 0..<90 { _ = drive.step(source) }
        let doc = source.fabric.stateDocument()
        _ = try Self.roundTrip(source.fabric)
        var all: [[Step]] = []
        Self.paths(doc, [], into: &all)
        var rng = SplitMix64(seed: seed)
        // Every device field with every damage; host buses (whose own
        // loader is fuzzed with the context's state) sampled.
        var cases: [([Step], JSONValue?)] = []
        for path in all where path.first != "hosts" || path.count <= 1 {
            guard let original = Self.value(doc, path) else { continue }
            for damage in Self.damages(of: original, &rng) where !(path.isEmpty && damage == nil) { cases.append((path, damage)) }
        }
        let hostPaths = all.filter { $0.first == "hosts" && $0.count > 1 }
        for _ in 0..<600 where !hostPaths.isEmpty {
            let path = rng.pick(hostPaths)
            guard let original = Self.value(doc, path) else { continue }
            cases.append((path, rng.pick(Self.damages(of: original, &rng))))
        }
        var loaded = 0, refused = 0
        for (path, damage) in cases {
            let damaged = Self.set(doc, path, damage)
            let label = "\(path.map(\.description).joined(separator: ".")) = \(String(describing: damage))"
            let fabric: Fabric
            do {
                fabric = try Fabric.restore(from: damaged)
            } catch {
                #expect(error.errno == .invalidArgument && error.message.hasPrefix("state "), "\(label): \(error.message)")
                // Only debug builds run the full invariant list on load;
                // the loader's own checks must have refused first.
                #expect(!error.message.hasPrefix("state field device is inconsistent"), "\(label): \(error.message)")
                refused += 1
                continue
            }
            loaded += 1
            #expect(fabric.device.checkInvariants() == [], "\(label)")
            let again = fabric.stateDocument()
            #expect((try? Fabric.restore(from: again).stateDocument()) == again, "\(label): a loaded damaged document saves and loads")
            // It keeps working.
            let f = F(wrapping: fabric)
            var more = FabricDriver(seed: rng.next(), hostCount: 3)
            for _ in 0..<12 {
                _ = more.step(f)
                let bad = f.dev.checkInvariants()
                #expect(bad.isEmpty, "\(label): \(bad)")
                if !bad.isEmpty { break }
            }
        }
        #expect(refused > 1000 && loaded > 100, "\(refused) refused, \(loaded) loaded")
    }
}
