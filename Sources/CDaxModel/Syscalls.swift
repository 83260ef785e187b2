import DaxModel

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

    /// Each mutex gets cache lines of its own: two contexts' locks side by
    /// side in one line would make threads on different contexts slow each
    /// other down (false sharing).
    private static let lineBytes = 128

    init() {
        let raw = UnsafeMutableRawPointer.allocate(byteCount: Lock.lineBytes, alignment: Lock.lineBytes)
        mutex = raw.bindMemory(to: pthread_mutex_t.self, capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
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

func sys_open(_ path: String, writable: Bool) -> Result<Int32, DaxErrno> {
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

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory, fsync, rename over `path`, fsync of the directory. A process
/// killed at any point leaves the old file or the new one, never a mix.
func sys_write_atomically(_ bytes: [UInt8], to path: String) -> DaxErrno? {
    let slash = path.lastIndex(of: "/")
    let dir = slash.map { String(path[..<$0]) } ?? "."
    let temp = "\(path).tmp-\(getpid())"
    let fd = temp.withCString { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
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
    let dfd = (dir.isEmpty ? "/" : dir).withCString { open($0, O_RDONLY | O_DIRECTORY | O_CLOEXEC) }
    if dfd >= 0 {
        _ = fsync(dfd)
        close(dfd)
    }
    return nil
}

/// Reads a whole file of at most `limit` bytes.
func sys_read_file(_ path: String, limit: Int = 256 << 20) -> Result<[UInt8], DaxErrno> {
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

/// Names in a directory (without "." and ".."), or nil if it cannot be read.
func sys_list_dir(_ path: String) -> [String]? {
    guard let dir = path.withCString({ opendir($0) }) else { return nil }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        if name != ".", name != ".." { names.append(name) }
    }
    return names
}

/// The first 4096 bytes of a small text file (a sysfs attribute).
func sys_read_text(_ path: String) -> String? {
    guard case .success(let bytes) = sys_read_file(path, limit: 4096) else { return nil }
    return String(decoding: bytes, as: UTF8.self)
}

func sys_exists(_ path: String) -> Bool {
    var st = stat()
    return path.withCString { lstat($0, &st) } == 0
}

func sys_realpath(_ path: String) -> String? {
    guard let resolved = path.withCString({ realpath($0, nil) }) else { return nil }
    defer { free(resolved) }
    return String(validatingCString: resolved)
}
