import DaxModel
import DaxModelHeader

// The sysfs-text interface: one entry point to read and write every
// attribute by path, as /sys/bus/dax would answer.

@implementation @c public func daxm_attr_write(
    _ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?
) -> Int32 {
    withContext(ctx, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let path, let value else {
            throw DaxErrorBox(.invalidArgument, "daxm_attr_write: NULL path or value", priority: Priority.err)
        }
        let name = String(decoding: sys_bytes(path), as: UTF8.self)
        try box { () throws(DaxError) in try c.model.writeAttribute(name, sys_bytes(value)) }
        return 0
    }
}

@implementation @c public func daxm_attr_write_buf(
    _ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ buf: UnsafeRawPointer?, _ len: Int
) -> Int32 {
    withContext(ctx, fallback: errnoResult) { c throws(DaxErrorBox) in
        guard let path, buf != nil || len == 0 else {
            throw DaxErrorBox(.invalidArgument, "daxm_attr_write_buf: NULL path or buf", priority: Priority.err)
        }
        // size_t arrives as Int; kernfs takes at most a page of one write.
        let count = len < 0 ? 4096 : min(len, 4096)
        let bytes = buf.map { Array(UnsafeRawBufferPointer(start: $0, count: count)) } ?? []
        let value = Array(bytes.prefix { $0 != 0 })
        let name = String(decoding: sys_bytes(path), as: UTF8.self)
        try box { () throws(DaxError) in try c.model.writeAttribute(name, value, written: count) }
        return 0
    }
}

@implementation @c public func daxm_attr_read(
    _ ctx: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ buf: UnsafeMutablePointer<CChar>?, _ len: Int
) -> Int {
    withContext(ctx, fallback: { Int(errnoResult($0)) }) { c throws(DaxErrorBox) in
        guard let path, let buf else {
            throw DaxErrorBox(.invalidArgument, "daxm_attr_read: NULL path or buf", priority: Priority.err)
        }
        let name = String(decoding: sys_bytes(path), as: UTF8.self)
        let text = try box { () throws(DaxError) in try c.model.readAttribute(name) }
        let count = text.utf8.count
        // size_t arrives as Int: a value above Int.max is negative here.
        guard len < 0 || count < len else {
            throw DaxErrorBox(.outOfRange, "\(name): \(count + 1) bytes needed, buffer holds \(max(len, 0))")
        }
        var i = 0
        for b in text.utf8 {
            buf[i] = CChar(bitPattern: b)
            i += 1
        }
        buf[count] = 0
        return count
    }
}
