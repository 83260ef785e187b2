#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The C library calls the ABI layer makes, in one place: a mutex, one
// thread-specific slot for the last error, stderr for the default log,
// getenv for DAXM_LOG. No other file imports the C library.

/// A pthread mutex (rather than Synchronization.Mutex, which ThreadSanitizer
/// and helgrind misreport under contention; see reference/swift-cabi.md §7).
final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

/// Per-thread storage for `daxm_last_error`: one malloc'ed buffer per
/// thread, freed by the key's destructor when the thread exits.
enum ThreadError {
    static let capacity = 1024

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { free($0) }
        return key
    }()

    static func set(_ message: String) {
        var buffer = pthread_getspecific(key)
        if buffer == nil {
            buffer = malloc(capacity)
            guard buffer != nil else { return }
            pthread_setspecific(key, buffer)
        }
        guard let raw = buffer else { return }
        let bytes = raw.assumingMemoryBound(to: CChar.self)
        var n = 0
        for b in message.utf8 where n < capacity - 1 {
            bytes[n] = CChar(bitPattern: b)
            n += 1
        }
        bytes[n] = 0
    }

    static func get() -> UnsafePointer<CChar>? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return UnsafePointer(raw.assumingMemoryBound(to: CChar.self))
    }
}

func sys_stderr_write(_ line: String) {
    let bytes = Array(line.utf8)
    bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

func sys_getenv(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    return String(validatingCString: v)
}

/// Reads at most `limit` bytes of a C string (kernfs reads at most a page
/// of one write), so an unterminated buffer is not scanned without end.
func sys_bytes(_ s: UnsafePointer<CChar>, limit: Int = 4096) -> [UInt8] {
    let n = strnlen(s, limit)
    return UnsafeRawBufferPointer(start: s, count: n).map { $0 }
}
