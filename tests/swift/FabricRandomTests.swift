import Testing
@testable import DaxModel

/// Seeded random sequences of fabric-manager and host calls, checked after
/// every step (issue 15 item 7): device invariants; no block held by two
/// hosts unless one tag shares it; each host's view equals the device's
/// list for it once messages are delivered; capacity conserved; one
/// manager record chain per consumed host answer; generation numbers
/// change exactly when the payload they cover does.
@Suite struct FabricRandomTests {
    typealias F = FabricFixture

    struct Snapshot: Equatable {
        var lists: [[DCExtentRecord]]
        var generations: [UInt32]
        var tags: [TagListEntry]
        var tagGeneration: UInt32
    }

    static func snapshot(_ f: F) -> Snapshot {
        let hosts = (0..<f.dev.hostCount).map { UInt16($0) }
        let tagPage = try? f.dev.listTags(startIndex: 0, maxTags: 1 << 16)
        return Snapshot(lists: hosts.map { f.list($0) }, generations: hosts.map { f.generation($0) },
                        tags: tagPage?.entries ?? [], tagGeneration: tagPage?.generation ?? 0)
    }

    @Test("random manager and host calls keep every fabric invariant", arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomSequence(seed: UInt64) throws {
        let revoke = seed % 2 == 1
        let f = try F(hosts: 4, logDepth: 24, maxExtents: 40, maxTags: 6, revoke: revoke) {
            if seed > 4 { $0.regions[1].sharable = false }
        }
        var rng = SplitMix64(seed: seed)
        var devices: [(UInt16, Device)] = []
        var chains = 0
        var knownTags: [DaxTag] = []
        var trace: [String] = []
        for step in 0..<400 {
            let before = Self.snapshot(f)
            let host = UInt16(rng.below(4))
            let region = UInt8(rng.below(2))
            let mine = f.list(host)
            let op = rng.weighted([22, 8, 10, 10, 8, 4, 4, 6, 6, 25])
            let logBefore = (0..<4).map { (try? f.dev.takeEventRecords(host: UInt16($0))) ?? [] }
            for (h, records) in logBefore.enumerated() { f.dev.hosts[h].log = records }
            trace.append("step \(step) op \(op) host \(host) region \(region)")
            if trace.count > 12 { trace.removeFirst() }
            switch op {
            case 0:
                let tag = rng.chance(60) ? F.tag(UInt8(1 + rng.below(40))) : DaxTag.untagged
                let policy: AddSelectionPolicy = rng.pick([.free, .contiguous])
                f.add(host: host, policy, region: region, mib: 2 * UInt64(1 + rng.below(8)), tag: tag)
                if !tag.isUntagged { knownTags.append(tag) }
            case 1:
                let at = UInt64(rng.below(500)) * 2
                let tag = rng.chance(50) ? F.tag(UInt8(41 + rng.below(40))) : DaxTag.untagged
                f.add(host: host, .prescriptive, extents: [F.ext(at, 2 * UInt64(1 + rng.below(3)), tag, region: UInt64(region))])
            case 2:
                if let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) {
                    f.add(host: host, .enableSharedAccess, region: region, tag: tag)
                }
            case 3:
                if let e = mine.isEmpty ? nil : rng.pick(mine) {
                    if e.tag.isUntagged || rng.chance(50) {
                        f.release(host: host, .prescriptive, sanitize: rng.chance(20), extents: [e])
                    } else {
                        f.release(host: host, sanitize: rng.chance(20), tag: e.tag)
                    }
                }
            case 4:
                // Forced: accepted capacity, or a pending offer.
                if let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) {
                    f.release(host: host, forced: true, tag: tag)
                } else if let e = mine.first {
                    f.release(host: host, .prescriptive, forced: true, extents: [e])
                }
            case 5:
                if let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) { _ = F.code { try f.dev.addReference(tag: tag) } }
            case 6:
                if let tag = knownTags.isEmpty ? nil : rng.pick(knownTags) { _ = F.code { try f.dev.removeReference(tag: tag) } }
            case 7:
                // A job claims a tag on the host: a later release is deferred.
                let hostModel = try #require(f.fabric.host(host))
                if let e = hostModel.view.first(where: { !$0.tag.isUntagged }),
                   let dev = try? hostModel.region.createDevice() {
                    if (try? dev.claimTag(e.tag)) != nil { devices.append((host, dev)) } else { try? hostModel.region.deleteDevice(dev) }
                }
            case 8:
                if !devices.isEmpty {
                    let (h, dev) = devices.remove(at: rng.below(devices.count))
                    let region = try #require(f.fabric.host(h)).region
                    if !dev.isDeleted {
                        try? dev.resize(to: 0)
                        try? region.deleteDevice(dev)
                    }
                }
            default:
                if rng.chance(70) { f.fabric.run() } else { f.fabric.deliver(to: host) }
            }
            var consumedChains = 0
            while let e = f.dev.nextFMEvent() {
                #expect(e.type == .addCapacityResponse || e.type == .capacityReleased)
                if !e.more { consumedChains += 1 }
            }
            chains += consumedChains
            for h in f.fabric.hosts { _ = h.takeAnswers() }
            let bad = f.dev.checkInvariants()
            #expect(bad.isEmpty, "seed \(seed) step \(step): \(bad)")
            #expect(chains == f.dev.answersConsumed, "seed \(seed) step \(step): one manager chain per host answer")
            let c = f.dev.capacityTotals
            #expect(c.free + c.reserved + c.owned + c.shared == c.total)
            // Every accepted extent reaches blocks its host owns, or a tag's shared blocks.
            for h in 0..<4 {
                for e in f.dev.hosts[h].accepted {
                    let owner = f.dev.blockOwner(at: e.physical)
                    let tag = e.record.tag
                    let ok = owner == .owned(host: UInt16(h)) || (!tag.isUntagged && owner == .shared(tag: tag))
                    #expect(ok, "seed \(seed) step \(step): \(e.record) of host \(h) reaches blocks of \(String(describing: owner))")
                }
            }
            // Views agree once nothing is in flight: no record in a host's
            // log, no completed release waiting in a host's event tap.
            let quiet = (0..<4).allSatisfy { f.dev.eventLogCount(host: UInt16($0)) == 0 && f.dev.eventLogOverflows(host: UInt16($0)) == 0 }
                && f.fabric.hosts.allSatisfy { $0.bus.tapped.isEmpty }
            if quiet {
                let mismatches = f.fabric.viewMismatches()
                #expect(mismatches.isEmpty, "seed \(seed) step \(step): \(mismatches) after \(trace)")
                if !mismatches.isEmpty { break }
            }
            let after = Self.snapshot(f)
            for h in 0..<4 {
                #expect((before.lists[h] != after.lists[h]) == (before.generations[h] != after.generations[h]),
                        "seed \(seed) step \(step): host \(h) generation vs list")
            }
            #expect((before.tags != after.tags) == (before.tagGeneration != after.tagGeneration),
                    "seed \(seed) step \(step): tag generation vs tag list")
            if !bad.isEmpty { break }
        }
        // The sequence did exercise the fabric.
        #expect(chains > 40 && f.dev.tagGeneration > 20, "seed \(seed): \(chains) chains")
        f.fabric.run()
        #expect(f.fabric.viewMismatches().isEmpty || (0..<4).contains { f.dev.eventLogOverflows(host: UInt16($0)) > 0 })
    }
}
