import DaxModel
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

// The C library calls the ABI layer makes, in one place: a mutex, two
// thread-specific slots (the last error, the thread's reader slot),
// sched_yield and nanosleep, stderr for the default log, getenv for
// DAXM_LOG. No other file imports the C library.

/// A pthread mutex (rather than Synchronization.Mutex, which ThreadSanitizer
/// and helgrind misreport under contention; see reference/swift-cabi.md §7).
final class Lock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Each mutex gets cache lines of its own: two contexts' locks side by
    /// side in one line would make threads on different contexts slow each
    /// other down (false sharing).
    private static let lineBytes = 128

    init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Lock.lineBytes, alignment: Lock.lineBytes)
        mutex = raw.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        // Adaptive: a waiter spins briefly before it sleeps. Critical
        // sections here are a few hundred instructions, so two threads on
        // one context mostly find the lock free again within the spin
        // instead of paying a futex sleep and wake-up per hand-over.
        #if canImport(Glibc)
        var attr = pthread_mutexattr_t()
        pthread_mutexattr_init(&attr)
        pthread_mutexattr_settype(&attr, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        pthread_mutex_init(mutex, &attr)
        pthread_mutexattr_destroy(&attr)
        #else
        pthread_mutex_init(mutex, nil)  // musl has no adaptive type
        #endif
    }

    deinit {
        pthread_mutex_destroy(mutex)
        UnsafeMutableRawPointer(mutex).deallocate()
    }

    @inline(__always)
    func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }
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

    /// Empties this thread's message (if it has a buffer at all).
    static func clear() {
        guard let raw = pthread_getspecific(key) else { return }
        raw.assumingMemoryBound(to: CChar.self)[0] = 0
    }

    static func get() -> UnsafePointer<CChar>? {
        guard let raw = pthread_getspecific(key) else { return nil }
        return UnsafePointer(raw.assumingMemoryBound(to: CChar.self))
    }
}

/// A small number per thread for `ContextLock`'s reader slots: threads
/// get 0, 1, 2, ... in the order of their first shared call, kept in a
/// thread-specific key. Two threads that start together get different
/// numbers; numbers are not reused when threads exit.
enum ThreadSlot {
    private static let next = Atomic<Int>(0)

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    @inline(__always)
    static var current: Int {
        let k = key
        if let stored = pthread_getspecific(k) { return Int(bitPattern: stored) &- 1 }
        return assign(k)
    }

    @inline(never)
    private static func assign(_ k: pthread_key_t) -> Int {
        let n = next.wrappingAdd(1, ordering: .relaxed).oldValue & Int(Int32.max)
        pthread_setspecific(k, UnsafeRawPointer(bitPattern: n &+ 1))
        return n
    }
}

/// Gives the CPU away while a waiter spins (ContextLock's exclusive side).
func sys_yield() { _ = sched_yield() }

/// Sleeps a little while a waiter has spun long (ContextLock).
func sys_nap(microseconds: Int) {
    var ts = timespec(tv_sec: 0, tv_nsec: microseconds * 1000)
    _ = nanosleep(&ts, nil)
}

func sys_stderr_write(_ line: String) {
    let bytes = Array(line.utf8)
    bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
}

func sys_getenv(_ name: String) -> String? {
    guard let v = getenv(name) else { return nil }
    return String(validatingCString: v)
}

/// A file path as the bytes the caller gave: Linux paths are bytes, not
/// text, so they reach the kernel unchanged; only messages show them as
/// text (invalid UTF-8 shown as U+FFFD).
struct SysPath: CustomStringConvertible {
    /// PATH_MAX: a path and its NUL fit in 4096 bytes.
    static let limit = 4096

    /// The path without its NUL.
    private(set) var bytes: [UInt8]

    init(bytes: [UInt8]) { self.bytes = bytes }
    init(_ text: String) { bytes = Array(text.utf8) }

    /// The caller's C string; ENAMETOOLONG when no NUL comes within
    /// 4096 bytes (the kernel's limit for one path).
    static func from(_ s: UnsafePointer<CChar>) -> Result<SysPath, DaxErrno> {
        let bytes = sys_bytes(s, limit: limit)
        return bytes.count < limit ? .success(SysPath(bytes: bytes)) : .failure(.nameTooLong)
    }

    var isEmpty: Bool { bytes.isEmpty }
    var description: String { String(decoding: bytes, as: UTF8.self) }

    /// `self + "/" + component`.
    func appending(_ component: String) -> SysPath {
        var out = bytes
        if out.last != UInt8(ascii: "/") { out.append(UInt8(ascii: "/")) }
        out += component.utf8
        return SysPath(bytes: out)
    }

    /// The path without trailing slashes ("/" stays "/").
    var trimmed: SysPath {
        var out = bytes
        while out.count > 1, out.last == UInt8(ascii: "/") { out.removeLast() }
        return SysPath(bytes: out)
    }

    /// Everything before the last "/" ("." when there is none, "/" for a
    /// file at the root).
    var directory: SysPath {
        guard let slash = bytes.lastIndex(of: UInt8(ascii: "/")) else { return SysPath(".") }
        return slash == 0 ? SysPath("/") : SysPath(bytes: Array(bytes[..<slash]))
    }

    func withCString<R>(_ body: (UnsafePointer<CChar>) -> R) -> R {
        (bytes + [0]).withUnsafeBufferPointer { buf in
            buf.withMemoryRebound(to: CChar.self) { c in
                guard let base = c.baseAddress else { return body("") }
                return body(base)
            }
        }
    }
}

/// Reads at most `limit` bytes of a C string (kernfs reads at most a page
/// of one write), so an unterminated buffer is not scanned without end.
func sys_bytes(_ s: UnsafePointer<CChar>, limit: Int = 4096) -> [UInt8] {
    let n = strnlen(s, limit)
    return UnsafeRawBufferPointer(start: s, count: n).map { $0 }
}

// MARK: memory: memfd backing, mappings, hole punching

/// A sparse, anonymous shared-memory file of `size` bytes for a region's
/// emulated memory: POSIX shm (tmpfs), unlinked at once, or an unlinked
/// temporary file when /dev/shm is missing. (memfd_create and fallocate
/// need _GNU_SOURCE, which Swift's Glibc module does not define.)
func sys_backing_file(name: String, size: UInt64) -> Result<Int32, DaxErrno> {
    guard let length = off_t(exactly: size) else { return .failure(.noMemory) }
    var fd: Int32 = -1
    for attempt in 0..<16 {
        let shmName = "/\(name)-\(getpid())-\(attempt)"
        fd = shmName.withCString { shm_open($0, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600) }
        if fd >= 0 {
            _ = shmName.withCString { shm_unlink($0) }
            break
        }
        if errno != EEXIST { break }
    }
    if fd < 0 {
        var template = Array("/tmp/daxmodel-XXXXXX".utf8CString)
        fd = template.withUnsafeMutableBufferPointer { buf in
            guard let base = buf.baseAddress else { return -1 }
            let f = mkstemp(base)
            if f >= 0 { unlink(base) }
            return f
        }
    }
    guard fd >= 0 else { return .failure(DaxErrno(rawValue: errno)) }
    guard ftruncate(fd, length) == 0 else {
        let e = errno
        close(fd)
        return .failure(DaxErrno(rawValue: e))
    }
    return .success(fd)
}

func sys_close(_ fd: Int32) { _ = close(fd) }

func sys_open(_ path: SysPath, writable: Bool) -> Result<Int32, DaxErrno> {
    let fd = path.withCString { open($0, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC) }
    return fd >= 0 ? .success(fd) : .failure(DaxErrno(rawValue: errno))
}

/// Reserves `length` bytes of address space aligned to `align` (a power of
/// two), inaccessible until ranges are mapped over it.
func sys_reserve(length: Int, align: Int) -> Result<UnsafeMutableRawPointer, DaxErrno> {
    let (total, overflow) = length.addingReportingOverflow(align)
    guard !overflow else { return .failure(.noMemory) }
    guard let base = mmap(nil, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0),
          base != MAP_FAILED else { return .failure(DaxErrno(rawValue: errno)) }
    let start = UInt(bitPattern: base)
    let aligned = (start &+ UInt(align) &- 1) & ~(UInt(align) &- 1)
    let head = Int(aligned &- start)
    if head > 0 { munmap(base, head) }
    let tail = total - head - length
    if tail > 0, let end = UnsafeMutableRawPointer(bitPattern: aligned &+ UInt(length)) { munmap(end, tail) }
    guard let window = UnsafeMutableRawPointer(bitPattern: aligned) else { return .failure(.noMemory) }
    return .success(window)
}

/// Maps `length` bytes of `fd` at `offset` over `at` (MAP_SHARED|MAP_FIXED).
func sys_map_fixed(at: UnsafeMutableRawPointer, length: Int, prot: Int32, fd: Int32, offset: UInt64) -> DaxErrno? {
    guard let off = off_t(exactly: offset) else { return .noMemory }
    let p = mmap(at, length, prot, MAP_SHARED | MAP_FIXED, fd, off)
    return p == MAP_FAILED ? DaxErrno(rawValue: errno) : nil
}

/// Maps `length` bytes of `fd` from offset 0 at an address aligned to
/// `align`: the way a DAX character device must be mapped.
func sys_map_device(fd: Int32, length: Int, align: Int, prot: Int32) -> Result<UnsafeMutableRawPointer, DaxErrno> {
    switch sys_reserve(length: length, align: align) {
    case .failure(let e): return .failure(e)
    case .success(let window):
        if let e = sys_map_fixed(at: window, length: length, prot: prot, fd: fd, offset: 0) {
            munmap(window, length)
            return .failure(e)
        }
        return .success(window)
    }
}

/// Replaces a mapping with inaccessible memory: accesses then fault.
func sys_revoke(_ at: UnsafeMutableRawPointer, length: Int) {
    _ = mmap(at, length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0)
}

func sys_unmap(_ at: UnsafeMutableRawPointer, length: Int) { _ = munmap(at, length) }

/// Asks for transparent huge pages where the system allows them; failure
/// is harmless (the mapping keeps small pages).
func sys_advise_huge(_ at: UnsafeMutableRawPointer, length: Int) { _ = madvise(at, length, MADV_HUGEPAGE) }

/// Discards the bytes of [offset, offset+length) of a backing file: they
/// read back as zeros (MADV_REMOVE punches the hole through a temporary
/// shared mapping).
func sys_punch_hole(fd: Int32, offset: UInt64, length: UInt64) {
    guard let off = off_t(exactly: offset), let len = Int(exactly: length), len > 0 else { return }
    guard let p = mmap(nil, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off), p != MAP_FAILED else { return }
    _ = madvise(p, len, MADV_REMOVE)
    munmap(p, len)
}

let sys_prot_read = PROT_READ
let sys_prot_write = PROT_WRITE

// MARK: state files

/// Temporary names of one process: a counter makes each save's name its
/// own, so saves from several threads or contexts never share a file.
private let temporaryCounter = Atomic<UInt64>(0)

/// Writes `bytes` to `path` atomically: a temporary file of its own in the
/// same directory (created with O_EXCL: no other save, thread or process,
/// writes it), fsync, rename over `path`, fsync of the directory. A
/// process killed at any point leaves the old file or the new one, never a
/// mix; of concurrent saves to one path, one complete file wins.
func sys_write_atomically(_ bytes: [UInt8], to path: SysPath) -> DaxErrno? {
    var temp = path
    var fd: Int32 = -1
    for _ in 0..<64 {
        let n = temporaryCounter.add(1, ordering: .relaxed).newValue
        temp = SysPath(bytes: path.bytes + Array(".tmp-\(getpid())-\(n)".utf8))
        fd = temp.withCString { open($0, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644) }
        if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else { return DaxErrno(rawValue: errno) }
    var failure: DaxErrno?
    bytes.withUnsafeBytes { buf in
        var done = 0
        while done < buf.count {
            let n = write(fd, buf.baseAddress.map { $0 + done }, buf.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                failure = DaxErrno(rawValue: errno)
                return
            }
            done += n
        }
    }
    if failure == nil, fsync(fd) != 0 { failure = DaxErrno(rawValue: errno) }
    if close(fd) != 0, failure == nil { failure = DaxErrno(rawValue: errno) }
    if failure == nil, temp.withCString({ t in path.withCString { rename(t, $0) } }) != 0 {
        failure = DaxErrno(rawValue: errno)
    }
    if let failure {
        _ = temp.withCString { unlink($0) }
        return failure
    }
    let dfd = path.directory.withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    if dfd >= 0 {
        _ = fsync(dfd)
        close(dfd)
    }
    return nil
}

/// Reads a whole file of at most `limit` bytes.
func sys_read_file(_ path: SysPath, limit: Int = 256 << 20) -> Result<[UInt8], DaxErrno> {
    let fd = path.withCString { open($0, O_RDONLY | O_CLOEXEC) }
    guard fd >= 0 else { return .failure(DaxErrno(rawValue: errno)) }
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            return .failure(DaxErrno(rawValue: errno))
        }
        if n == 0 { return .success(out) }
        out += chunk[0..<n]
        if out.count > limit { return .failure(.fileTooLarge) }
    }
}

// MARK: reading a sysfs tree

/// Names in a directory (without "." and ".."), or nil if it cannot be
/// read. Names that are not UTF-8 are left out: no dax name is one.
func sys_list_dir(_ path: SysPath) -> [String]? {
    guard let dir = path.withCString({ opendir($0) }) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(validating: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if let name, name != ".", name != ".." { names.append(name) }
    }
    return names
}

/// The first 4096 bytes of a small text file (a sysfs attribute).
func sys_read_text(_ path: SysPath) -> String? {
    guard case .success(let bytes) = sys_read_file(path, limit: 4096) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

func sys_exists(_ path: SysPath) -> Bool {
    var st = stat()
    return path.withCString { lstat($0, &st) } == 0
}

/// The canonical path (symbolic links resolved), as bytes.
func sys_realpath(_ path: SysPath) -> SysPath? {
    guard let resolved = path.withCString({ realpath($0, nil) }) else { return nil }
    defer { free(resolved) }
    return SysPath(bytes: Array(UnsafeRawBufferPointer(start: resolved, count: strlen(resolved))))
}
