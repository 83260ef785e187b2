import DaxModel
import DaxModelHeader

// Tags: parsing and printing, and a sparse-region device's tag selection
// and whole-group claim.

@implementation @c public func daxm_tag_parse(_ text: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UInt8>?) -> Int32 {
    guard let text, let out else {
        reportUnlogged(.invalidArgument, "daxm_tag_parse: NULL argument")
        return errnoResult(.invalidArgument)
    }
    let s = String(decoding: sys_bytes(text, limit: 64), as: UTF8.self)
    guard let tag = s == "untagged" ? DaxTag.untagged : DaxTag(uuidString: s) else {
        reportUnlogged(.invalidArgument, "daxm_tag_parse: \"\(s.prefix(64))\" is not a UUID or \"untagged\"")
        return errnoResult(.invalidArgument)
    }
    copy(tag, to: out)
    return 0
}

@implementation @c public func daxm_tag_format(_ tagBytes: UnsafePointer<UInt8>?, _ buf: UnsafeMutablePointer<CChar>?, _ len: Int) -> Int32 {
    guard let tagBytes, let buf else {
        reportUnlogged(.invalidArgument, "daxm_tag_format: NULL argument")
        return errnoResult(.invalidArgument)
    }
    guard len < 0 || len >= 37 else {
        reportUnlogged(.outOfRange, "daxm_tag_format: a tag needs 37 bytes, buffer holds \(len)")
        return errnoResult(.outOfRange)
    }
    let text = Array(tag(from: tagBytes).uuidString.utf8)
    for (i, b) in text.enumerated() { buf[i] = CChar(bitPattern: b) }
    buf[text.count] = 0
    return Int32(text.count)
}

@implementation @c public func daxm_dev_set_tag(_ dev: OpaquePointer?, _ tagBytes: UnsafePointer<UInt8>?) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        let selected: DaxTag? = tagBytes == nil ? nil : tag(from: tagBytes)
        try box { () throws(DaxError) in try d.selectTag(selected) }
        return 0
    }
}

@implementation @c public func daxm_dev_get_tag(_ dev: OpaquePointer?, _ out: UnsafeMutablePointer<UInt8>?) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        guard let out else { throw DaxErrorBox(.invalidArgument, "\(d.name): tag buffer is NULL", priority: Priority.err) }
        copy(d.tag ?? .untagged, to: out)
        return d.tag == nil ? 0 : 1
    }
}

@implementation @c public func daxm_dev_claim_tag(_ dev: OpaquePointer?, _ tagBytes: UnsafePointer<UInt8>?) -> Int32 {
    with(dev, Device.self, fallback: errnoResult) { _, d throws(DaxErrorBox) in
        guard let tagBytes else { throw DaxErrorBox(.invalidArgument, "\(d.name): tag is NULL", priority: Priority.err) }
        try box { () throws(DaxError) in try d.claimTag(tag(from: tagBytes)) }
        return 0
    }
}

@implementation @c public func daxm_dev_get_lost_bytes(_ dev: OpaquePointer?) -> UInt64 {
    withShared(dev, Device.self, fallback: { _ in .max }) { d in d.lostBytes }
}
