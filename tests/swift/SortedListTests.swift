import Testing
@testable import DaxModel

/// SortedList against a plain sorted array of (key, serial) pairs, over
/// random inserts, appends, removals and searches, with block splits and
/// empty blocks exercised (several thousand entries, 512 per block).
@Suite struct SortedListTests {
    @Test(arguments: [1, 2, 3])
    func matchesASortedArray(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var list = SortedList<Int>()
        var model: [(key: UInt64, serial: Int)] = []
        var serial = 0
        let keySpace: UInt64 = seed == 1 ? 64 : 100_000  // seed 1: many equal keys
        for step in 0..<20_000 {
            switch rng.below(10) {
            case 0..<5:
                let key = rng.below(keySpace)
                list.insert(serial, key: key)
                let at = model.partitionPoint { $0.key <= key }
                model.insert((key, serial), at: at)
                serial += 1
            case 5:
                let key = (model.last?.key ?? 0) + rng.below(3)
                let appended = list.append(serial, key: key)
                #expect(appended)
                model.append((key, serial))
                serial += 1
                if let lastKey = model.last?.key, lastKey > 0 {
                    let refused = !list.append(-1, key: lastKey - 1)
                    #expect(refused, "append below the last key is refused")
                }
            case 6..<9:
                guard !model.isEmpty else { continue }
                let victim = model[rng.below(model.count)]
                let removed = list.remove(victim.key) { $0 == victim.serial }
                #expect(removed, "step \(step)")
                model.removeAll { $0.serial == victim.serial }
            default:
                let key = rng.below(keySpace)
                let lower = list.lowerBound(key).map { list[$0].value }
                #expect(lower == model.first { $0.key >= key }?.serial, "lowerBound(\(key)) at step \(step)")
                let upper = list.upperBound(key).map { list[$0].value }
                #expect(upper == model.first { $0.key > key }?.serial, "upperBound(\(key)) at step \(step)")
                let before = list.lastBefore(key).map { list[$0].value }
                #expect(before == model.last { $0.key < key }?.serial, "lastBefore(\(key)) at step \(step)")
            }
            if step % 997 == 0 || step == 19_999 {
                #expect(list.count == model.count)
                #expect(list.values == model.map(\.serial), "order at step \(step)")
                #expect(list.blocks.allSatisfy { !$0.isEmpty && $0.count <= SortedList<Int>.blockCapacity })
                // Walking backwards visits the same entries.
                var back: [Int] = []
                var p = list.lastPosition
                while let q = p { back.append(list[q].value); p = list.position(before: q) }
                #expect(back.reversed() == model.map(\.serial))
            }
        }
        let missing = list.remove(UInt64.max) { _ in true }
        #expect(!missing, "removing a missing key finds nothing")
        list.removeAll()
        #expect(list.isEmpty && list.first == nil && list.lowerBound(0) == nil)
    }

    @Test func idAllocatorHandsOutTheLowestFreeId() {
        var ids = IdAllocator()
        #expect((0..<2000).map { _ in ids.allocate() } == Array(0..<2000))
        for id in stride(from: 1999, through: 0, by: -3) { ids.release(id) }
        ids.release(1999)  // twice: ignored
        let freed = stride(from: 1999, through: 0, by: -3).sorted()
        #expect(freed.map { _ in ids.allocate() } == freed)
        #expect(ids.allocate() == 2000)
        #expect(ids.isUsed(5) && !ids.isUsed(2001))
        let first = ids.claim(3000), second = ids.claim(3000)
        #expect(first && !second && ids.allocate() == 2001)
    }
}
