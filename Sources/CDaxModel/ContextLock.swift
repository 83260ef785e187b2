import Synchronization

/// The context's lock: exclusive for every call that may change the
/// model, shared for the hot calls that only read it or move an accepted
/// extent's pin count (`withShared`). Two threads in shared calls write
/// no cache line in common, so they do not slow each other down (issue 9:
/// two threads on one context keep one thread's throughput).
///
/// A reader-biased lock after the kernel's per-CPU rw-semaphore, with a
/// slot per thread instead of per CPU:
/// - A shared caller adds one to its thread's slot, then looks at the
///   writer flag. If a writer is in or waiting, it takes its one back and
///   the call runs exclusively instead (`lockShared` returns nil).
/// - An exclusive caller takes the mutex, raises the writer flag, then
///   waits until every slot a thread ever used reads zero. Shared calls
///   are a few hundred instructions, so the wait is short.
/// Both sides' accesses to the flag, `used` and the slots are
/// sequentially consistent, so one of them always sees the other (on
/// x86-64 the loads are plain moves: the increment's locked add and the
/// flag's exchange are the fences). A shared caller's slot decrement is a
/// release and the writer's wait reads it, so pins moved by shared callers
/// are seen by the next exclusive one; the writer flag's clearing is a
/// release and the reader's load reads it, so shared callers see
/// everything the exclusive one wrote.
///
/// Nothing may take the lock exclusively while holding it shared (on one
/// thread that would wait forever for its own slot): shared bodies only
/// read the model and move pins, and log nothing.
final class ContextLock: @unchecked Sendable {
    /// Slots per lock; threads beyond share a slot (correct, slower).
    static let slotCount = 16
    /// Each word gets its own cache-line pair (the adjacent-line
    /// prefetcher moves lines in pairs).
    private static let lineBytes = 128

    private let mutex = Lock()
    /// Line 0: the writer flag and the count of slots in use; then one
    /// line per slot.
    private let lines: UnsafeMutableRawPointer

    init() {
        let bytes = ContextLock.lineBytes * (1 + ContextLock.slotCount)
        lines = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: ContextLock.lineBytes)
        writer.initialize(to: Atomic(0))
        used.initialize(to: Atomic(0))
        for i in 0..<ContextLock.slotCount { slot(i).initialize(to: Atomic(0)) }
    }

    deinit {
        writer.deinitialize(count: 1)
        used.deinitialize(count: 1)
        for i in 0..<ContextLock.slotCount { slot(i).deinitialize(count: 1) }
        lines.deallocate()
    }

    /// 1 while an exclusive caller holds or waits for the model.
    private var writer: UnsafeMutablePointer<Atomic<Int>> {
        lines.assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// One more than the highest slot a shared caller ever used: the
    /// slots an exclusive caller waits on.
    private var used: UnsafeMutablePointer<Atomic<Int>> {
        (lines + MemoryLayout<Atomic<Int>>.stride).assumingMemoryBound(to: Atomic<Int>.self)
    }

    /// Shared callers inside, counted per thread slot.
    @inline(__always)
    private func slot(_ i: Int) -> UnsafeMutablePointer<Atomic<Int>> {
        (lines + ContextLock.lineBytes * (1 + i)).assumingMemoryBound(to: Atomic<Int>.self)
    }

    // MARK: Exclusive

    func lock() {
        mutex.lock()
        writer.pointee.store(1, ordering: .sequentiallyConsistent)
        let n = used.pointee.load(ordering: .sequentiallyConsistent)
        for i in 0..<n {
            var spins = 0
            while slot(i).pointee.load(ordering: .sequentiallyConsistent) != 0 {
                // Spin, then yield, then sleep: a shared holder that was
                // descheduled (an oversubscribed machine, a stopped
                // thread) gets the CPU instead of a writer burning it.
                spins += 1
                if spins > 1024 { sys_nap(microseconds: 50) } else if spins > 64 { sys_yield() }
            }
        }
    }

    func unlock() {
        writer.pointee.store(0, ordering: .releasing)
        mutex.unlock()
    }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock()
        defer { unlock() }
        return try body()
    }

    // MARK: Shared

    /// Enters shared: the slot to give to `unlockShared`, or nil when an
    /// exclusive caller holds or waits for the lock (then nothing was taken).
    @inline(__always)
    func lockShared() -> Int? {
        let i = ThreadSlot.current & (ContextLock.slotCount - 1)
        // Sequentially consistent, as every access of the handshake: the
        // raise this load sees (maybe another thread's) then precedes
        // this thread's increment in the one order all of them follow,
        // so a writer that reads `used` after it sees the raise.
        if i >= used.pointee.load(ordering: .sequentiallyConsistent) { raiseUsed(above: i) }
        let s = slot(i)
        s.pointee.wrappingAdd(1, ordering: .sequentiallyConsistent)
        if writer.pointee.load(ordering: .sequentiallyConsistent) != 0 {
            s.pointee.wrappingSubtract(1, ordering: .releasing)
            return nil
        }
        return i
    }

    @inline(__always)
    func unlockShared(_ i: Int) {
        slot(i).pointee.wrappingSubtract(1, ordering: .releasing)
    }

    /// Makes `used` cover slot `i` (the first shared call of a thread
    /// with a new slot).
    @inline(never)
    private func raiseUsed(above i: Int) {
        var current = used.pointee.load(ordering: .relaxed)
        while current <= i {
            let (done, seen) = used.pointee.compareExchange(
                expected: current, desired: i + 1, ordering: .sequentiallyConsistent)
            if done { return }
            current = seen
        }
    }
}
