import DaxModelHeader
import Glibc
import Testing

/// daxm_attr_write_buf: one write(2) of exact bytes.
@Suite struct AttrWriteBufTests {
    @Test func bytesAreCutAtNulButTheStoreStillRuns() throws {
        var ctx: OpaquePointer?
        daxm_new(&ctx)
        defer { daxm_unref(ctx) }
        var spec = daxm_region_spec()
        daxm_region_spec_init(&spec)
        spec.start = 0x1_4000_0000
        spec.size = 1 << 30
        spec.flags = UInt32(DAXM_REGION_IDLE)
        #expect(daxm_region_new(ctx, &spec, nil) == 0)
        func write(_ bytes: [UInt8]) -> Int32 {
            bytes.withUnsafeBytes { daxm_attr_write_buf(ctx, "dax0.0/size", $0.baseAddress, $0.count) }
        }
        #expect(write([]) == 0, "0 bytes never reach the store")
        #expect(write([0]) == -EINVAL, "\"\\0\" reaches the store as an empty string")
        #expect(write(Array("0x200000\n".utf8) + [0]) == 0, "daxctl's strlen+1 bytes")
        #expect(write(Array("0x400000".utf8) + [0] + Array("junk".utf8)) == 0, "bytes after the NUL are ignored")
        #expect(daxm_dev_get_size(daxm_dev_get_by_name(ctx, "dax0.0")) == 4 << 20)
        #expect(daxm_attr_write_buf(ctx, "dax0.0/size", nil, 0) == 0)
        #expect(daxm_attr_write_buf(ctx, "dax0.0/size", nil, 3) == -EINVAL)
        #expect(daxm_attr_write_buf(ctx, nil, "1", 1) == -EINVAL)
        #expect(daxm_attr_write_buf(ctx, "dax0.0/nope", "1", 1) == -ENOENT)
    }
}
