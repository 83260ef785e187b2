import Testing
@testable import DaxModel

/// IdAllocator (the kernel's ida: lowest free id first, 0...INT_MAX)
/// against a set of used ids, over random allocations, claims of any id
/// (loaded and imported files choose them) and releases.
@Suite struct IdAllocatorTests {
    @Test func lowestFreeIdIsReused() {
        var ids = IdAllocator()
        #expect((0..<5).map { _ in ids.allocate() } == [0, 1, 2, 3, 4])
        ids.release(3)
        ids.release(1)
        ids.release(1)
        #expect(ids.allocate() == 1)
        #expect(ids.allocate() == 3)
        #expect(ids.allocate() == 5)
    }

    @Test func claimLeavesLowerIdsFree() {
        var ids = IdAllocator()
        let claims = [ids.claim(3), ids.claim(3), ids.claim(-1), ids.claim(1)]
        #expect(claims == [true, false, false, true])
        #expect([ids.allocate(), ids.allocate(), ids.allocate()] == [0, 2, 4])
    }

    @Test(arguments: [1, 2, 3, 4])
    func matchesASetOfUsedIds(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let limit = seed == 4 ? 40 : 5_000  // seed 4: runs out of ids often
        var ids = IdAllocator(limit: limit)
        var used = Set<Int>()
        for step in 0..<20_000 {
            switch rng.below(8) {
            case 0..<3:
                let lowest = (0...limit).first { !used.contains($0) }
                let got = ids.allocate()
                #expect(got == lowest, "step \(step): allocate")
                if let got { used.insert(got) }
            case 3..<5:
                // Mostly near the used ids, sometimes far above, sometimes out of range.
                let id = rng.below(10) == 0 ? Int(rng.below(UInt64(limit) + 3)) - 1 : Int(rng.below(UInt64(min(limit, 200) + 1)))
                let free = id >= 0 && id <= limit && !used.contains(id)
                #expect(ids.claim(id) == free, "step \(step): claim \(id)")
                if free { used.insert(id) }
            default:
                // Mostly a used id (the lowest used at or above a random point).
                var id = Int(rng.below(UInt64(limit) + 1))
                if rng.below(4) != 0, let some = (id...limit).first(where: { used.contains($0) }) { id = some }
                ids.release(id)
                used.remove(id)
            }
            if step % 97 == 0 {
                for id in -1...(min(limit, 300) + 1) { #expect(ids.isUsed(id) == used.contains(id), "step \(step): isUsed(\(id))") }
            }
        }
    }

    /// Claiming INT_MAX leaves every lower id free, lowest first; nothing
    /// above INT_MAX is handed out or claimed.
    @Test func highClaimsFreeEverythingBelow() {
        var ids = IdAllocator()
        let claims = [ids.claim(IdAllocator.maxId), ids.claim(IdAllocator.maxId + 1), ids.claim(-1)]
        #expect(claims == [true, false, false])
        let first = (0..<10_000).map { _ in ids.allocate() }
        #expect(first == (0..<10_000).map { Optional($0) })
        let again = [ids.claim(5_000_000), ids.claim(5_000_000)]
        #expect(again == [true, false])
        let next = ids.allocate()
        #expect(next == 10_000)
        ids.release(IdAllocator.maxId)
        #expect(!ids.isUsed(IdAllocator.maxId))
        #expect(ids.isUsed(5_000_000))

        var full = IdAllocator(limit: 3)
        let four = (0..<4).map { _ in full.allocate() }
        #expect(four == [0, 1, 2, 3])
        let none = full.allocate()
        #expect(none == nil)
        full.release(2)
        let two = [full.allocate(), full.allocate()]
        #expect(two == [2, nil])
    }
}
