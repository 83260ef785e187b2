import Testing
@testable import DaxModel

/// FreeSpace against a byte-granular oracle: a Set of free 2 MiB slots.
@Suite struct FreeSpaceTests {
    static let unit: UInt64 = 2 << 20

    private func span(_ slot: Int, _ count: Int) -> DaxModel.Span {
        DaxModel.Span(start: 0x1_0000_0000 + UInt64(slot) * Self.unit, length: UInt64(count) * Self.unit)!
    }

    @Test func takeSplitsAndGiveMerges() {
        var free = FreeSpace(span(0, 8))
        let ok451 = free.take(span(2, 2))
        #expect(ok451)
        #expect(free.holes == [span(0, 2), span(4, 4)])
        #expect(free.total == 6 * Self.unit)
        let ok591 = free.take(span(1, 2))
        #expect(!ok591, "a span that is partly busy is refused")
        #expect(free.holes == [span(0, 2), span(4, 4)], "a refused take changes nothing")
        let ok762 = free.give(span(2, 1))
        #expect(ok762)
        #expect(free.holes == [span(0, 3), span(4, 4)])
        let ok857 = free.give(span(3, 1))
        #expect(ok857)
        #expect(free.holes == [span(0, 8)], "giving the last gap merges both neighbours")
        let ok986 = free.give(span(7, 2))
        #expect(!ok986, "giving back free space is refused, not trapped")
        #expect(free.total == 8 * Self.unit)
    }

    @Test func takeOutsideIsRefused() {
        var free = FreeSpace(span(4, 4))
        let ok1209 = free.take(span(0, 1))
        #expect(!ok1209)
        let ok1249 = free.take(span(7, 2))
        #expect(!ok1249)
        #expect(free.lowest == span(4, 4))
        #expect(free.isFree(span(5, 3)) && !free.isFree(span(3, 2)))
    }

    @Test(arguments: 0..<40)
    func randomAgainstSlotOracle(seed: Int) {
        var rng = FreeSpaceRNG(seed: UInt64(seed))
        let slots = 64
        var free = FreeSpace(span(0, slots))
        var oracle = Set(0..<slots)
        for _ in 0..<300 {
            let a = Int(rng.next() % UInt64(slots)), n = 1 + Int(rng.next() % 6)
            guard a + n <= slots else { continue }
            let s = span(a, n)
            let wanted = Set(a..<(a + n))
            if rng.next() % 2 == 0 {
                let ok1907 = free.take(s)
                #expect(ok1907 == wanted.isSubset(of: oracle), "seed \(seed)")
                if wanted.isSubset(of: oracle) { oracle.subtract(wanted) }
            } else {
                let ok2088 = free.give(s)
                #expect(ok2088 == wanted.isDisjoint(with: oracle), "seed \(seed)")
                if wanted.isDisjoint(with: oracle) { oracle.formUnion(wanted) }
            }
            #expect(free.total == UInt64(oracle.count) * Self.unit, "seed \(seed)")
            // Holes are exactly the maximal runs of free slots.
            var runs: [DaxModel.Span] = []
            var i = 0
            while i < slots {
                if oracle.contains(i) {
                    var j = i
                    while j < slots, oracle.contains(j) { j += 1 }
                    runs.append(span(i, j - i))
                    i = j
                } else { i += 1 }
            }
            #expect(free.holes == runs, "seed \(seed)")
        }
    }
}

/// SplitMix64, private to these tests.
private struct FreeSpaceRNG: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
