import Dispatch
import Foundation
import Synchronization
import Testing
@testable import CDaxModel

/// The context lock's two sides, without a model: shared holders run side
/// by side, and never while an exclusive holder is inside (issue 9 item 5;
/// `ContextLock`). The C area `pins` checks what the library does with it.
@Suite struct ContextLockTests {
    /// Who is inside, as each holder sees it.
    final class Inside: Sendable {
        let readers = Atomic<Int>(0)
        let writer = Atomic<Int>(0)
        let overlaps = Atomic<Int>(0)
        let sharedEntries = Atomic<Int>(0)
        let sharedTogether = Atomic<Int>(0)
        let writerDone = Atomic<Bool>(false)
    }

    /// Counts threads at the start line.
    final class Barrier: Sendable {
        let ready = Atomic<Int>(0)
    }

    /// Runs `body(0..<n)` on n threads of their own that start together
    /// (a barrier), and waits for all of them.
    private static func together(_ n: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let barrier = Barrier()
        let done = DispatchSemaphore(value: 0)
        for worker in 0..<n {
            Thread {
                barrier.ready.wrappingAdd(1, ordering: .relaxed)
                while barrier.ready.load(ordering: .relaxed) < n {}
                body(worker)
                done.signal()
            }.start()
        }
        for _ in 0..<n { done.wait() }
    }

    /// Spins a little inside a hold, so that an overlap has time to show.
    private static func linger(_ inside: Inside, shared: Bool) {
        for _ in 0..<50 {
            if shared ? inside.writer.load(ordering: .relaxed) != 0 : inside.readers.load(ordering: .relaxed) != 0 {
                inside.overlaps.wrappingAdd(1, ordering: .relaxed)
                return
            }
        }
    }

    /// One writer among readers; with 20 threads, more than the lock's
    /// 16 slots, so that some readers share a slot.
    @Test(arguments: [(4, 20_000), (20, 2_000)])
    func sharedAndExclusiveHoldersNeverOverlap(threads: Int, writerRounds: Int) {
        let lock = ContextLock()
        let inside = Inside()
        ContextLockTests.together(threads) { worker in
            if worker == 0 {
                for _ in 0..<writerRounds {
                    lock.lock()
                    inside.writer.store(1, ordering: .relaxed)
                    ContextLockTests.linger(inside, shared: false)
                    inside.writer.store(0, ordering: .relaxed)
                    lock.unlock()
                }
                inside.writerDone.store(true, ordering: .relaxed)
                return
            }
            var rounds = 0
            while !inside.writerDone.load(ordering: .relaxed) || rounds < 1000 {
                rounds += 1
                guard let slot = lock.lockShared() else {
                    lock.withLock {}  // what a call does when it cannot go shared
                    continue
                }
                if inside.readers.wrappingAdd(1, ordering: .relaxed).newValue > 1 {
                    inside.sharedTogether.wrappingAdd(1, ordering: .relaxed)
                }
                inside.sharedEntries.wrappingAdd(1, ordering: .relaxed)
                ContextLockTests.linger(inside, shared: true)
                inside.readers.wrappingSubtract(1, ordering: .relaxed)
                lock.unlockShared(slot)
            }
        }
        #expect(inside.overlaps.load(ordering: .relaxed) == 0, "a shared and an exclusive holder were inside together")
        #expect(inside.sharedEntries.load(ordering: .relaxed) > 0)
        #expect(inside.readers.load(ordering: .relaxed) == 0 && inside.writer.load(ordering: .relaxed) == 0)
    }

    /// Shared holders do not exclude each other: two threads are seen
    /// inside at once (the point of the lock).
    @Test func sharedHoldersRunTogether() {
        let lock = ContextLock()
        let inside = Inside()
        ContextLockTests.together(2) { _ in
            for _ in 0..<200_000 where inside.sharedTogether.load(ordering: .relaxed) == 0 {
                guard let slot = lock.lockShared() else { continue }
                if inside.readers.wrappingAdd(1, ordering: .relaxed).newValue > 1 {
                    inside.sharedTogether.wrappingAdd(1, ordering: .relaxed)
                }
                for _ in 0..<100 { _ = inside.writer.load(ordering: .relaxed) }
                inside.readers.wrappingSubtract(1, ordering: .relaxed)
                lock.unlockShared(slot)
            }
        }
        #expect(inside.sharedTogether.load(ordering: .relaxed) > 0, "two shared holders never met")
    }
}
