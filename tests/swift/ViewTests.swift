import DaxModelHeader
import Glibc
import Testing

/// Views: emulated device memory through the C ABI.
@Suite struct ViewTests {
    let mib: UInt64 = 1 << 20

    /// A context with a 1 GiB idle dynamic region at 0x140000000 (or a
    /// sparse one), owned by the test.
    final class Fixture {
        var ctx: OpaquePointer?
        var region: OpaquePointer?
        init(sparse: Bool = false, flags: UInt32 = 0) {
            daxm_new(&ctx)
            var spec = daxm_region_spec()
            daxm_region_spec_init(&spec)
            spec.start = sparse ? 0x10_0000_0000 : 0x1_4000_0000
            spec.size = 1 << 30
            spec.kind = UInt32(sparse ? DAXM_REGION_SPARSE : DAXM_REGION_DYNAMIC)
            spec.flags = flags | (sparse ? 0 : UInt32(DAXM_REGION_IDLE))
            daxm_region_new(ctx, &spec, &region)
        }
        deinit { daxm_unref(ctx) }

        func device(size: UInt64) -> OpaquePointer? {
            var dev: OpaquePointer?
            daxm_region_create_dev(region, &dev)
            daxm_dev_set_size(dev, size)
            return dev
        }

        func map(_ dev: OpaquePointer?, write: Bool = true) -> OpaquePointer? {
            var view: OpaquePointer?
            let rc = daxm_dev_map(dev, PROT_READ | (write ? PROT_WRITE : 0), &view)
            return rc == 0 ? view : nil
        }
    }

    private func bytes(_ view: OpaquePointer?, _ n: Int) -> UnsafeMutablePointer<UInt8>? {
        daxm_view_get_addr(view)?.assumingMemoryBound(to: UInt8.self)
    }

    @Test func twoViewsSeeTheSameBytesAndLandAtRangeOffsets() throws {
        let f = Fixture()
        let a = f.device(size: 4 * mib), b = f.device(size: 4 * mib)
        #expect(daxm_dev_set_size(a, 8 * mib) == 0)  // a: [0,4M) and [8M,12M), split around b
        #expect(daxm_dev_get_nr_mappings(a) == 2)
        let v1 = try #require(f.map(a)), v2 = try #require(f.map(a, write: false))
        defer { _ = daxm_view_unmap(v1); _ = daxm_view_unmap(v2) }
        #expect(daxm_view_get_size(v1) == 8 * mib)
        #expect(UInt(bitPattern: daxm_view_get_addr(v1)) % UInt(2 * mib) == 0, "aligned to the device's align")
        let p = try #require(bytes(v1, 0)), q = try #require(bytes(v2, 0))
        p[0] = 0x11
        p[Int(6 * mib)] = 0x22  // second range, page offset 4 MiB
        #expect(q[0] == 0x11 && q[Int(6 * mib)] == 0x22)
        // b sits between a's ranges and must not see a's bytes.
        let vb = try #require(f.map(b, write: false))
        defer { _ = daxm_view_unmap(vb) }
        let r = try #require(bytes(vb, 0))
        #expect((0..<Int(4 * mib)).allSatisfy { r[$0] == 0 })
        #expect(daxm_view_get_dev(v1) == a)
    }

    @Test func aMappedDeviceIsHeld() throws {
        let f = Fixture()
        let d = f.device(size: 4 * mib)
        let v = try #require(f.map(d))
        #expect(daxm_dev_set_size(d, 8 * mib) == -EBUSY)
        #expect(daxm_dev_set_align(d, 4096) == -EBUSY)
        #expect(daxm_dev_set_mapping(d, 0x1_7c00_0000, 0x1_7c1f_ffff) == -EBUSY)
        #expect(daxm_dev_set_path(d, "/dev/null") == -EBUSY)
        #expect(daxm_dev_set_size(d, 0) == -EBUSY)
        #expect(daxm_view_unmap(v) == 0)
        #expect(daxm_dev_set_size(d, 0) == 0, "unmapping releases the hold")
        #expect(daxm_region_destroy_dev(f.region, d) == 0)
    }

    @Test func badArguments() {
        let f = Fixture()
        let d = f.device(size: 0)
        var view: OpaquePointer?
        #expect(daxm_dev_map(d, PROT_READ, &view) == -ENXIO, "size 0")
        let sized = f.device(size: 2 * mib)
        #expect(daxm_dev_map(sized, PROT_WRITE, &view) == -EINVAL, "write without read")
        #expect(daxm_dev_map(sized, PROT_READ | PROT_EXEC, &view) == -EINVAL)
        #expect(daxm_dev_map(sized, PROT_READ, nil) == -EINVAL)
        #expect(daxm_dev_map(nil, PROT_READ, &view) == -EINVAL)
        #expect(daxm_view_unmap(nil) == -EINVAL)
        #expect(daxm_view_get_addr(nil) == nil && daxm_view_get_size(nil) == 0 && daxm_view_get_dev(nil) == nil)
    }

    @Test func aDevicePathMapsThatFile() throws {
        let f = Fixture()
        let d = f.device(size: 2 * mib)
        #expect(daxm_dev_set_path(d, "/nonexistent/dax9.9") == 0)
        var view: OpaquePointer?
        #expect(daxm_dev_map(d, PROT_READ, &view) == -ENOENT)
        var template = Array("/tmp/daxm-view-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        try #require(fd >= 0)
        let path = String(cString: template)
        defer { unlink(path); close(fd) }
        #expect(ftruncate(fd, off_t(2 * mib)) == 0)
        #expect(pwrite(fd, "dax", 3, 0) == 3)
        #expect(daxm_dev_set_path(d, path) == 0)
        let v = try #require(f.map(d, write: false))
        defer { _ = daxm_view_unmap(v) }
        let p = try #require(bytes(v, 0))
        #expect(p[0] == UInt8(ascii: "d") && p[2] == UInt8(ascii: "x"))
    }

    /// A path is 1..4095 bytes; a refused one keeps the path set before
    /// (nothing is cut short), NULL returns to emulated memory.
    @Test func devicePathBounds() throws {
        let f = Fixture()
        let d = f.device(size: 2 * mib)
        var view: OpaquePointer?
        #expect(daxm_dev_set_path(d, "/nonexistent/dax9.9") == 0)
        #expect(daxm_dev_set_path(d, "") == -EINVAL)
        #expect(String(cString: daxm_last_error()).contains("empty"))
        #expect(daxm_dev_set_path(d, "/" + String(repeating: "d", count: 4095)) == -EINVAL, "4096 bytes")
        #expect(daxm_dev_map(d, PROT_READ, &view) == -ENOENT, "the earlier path is still set, not a cut one")
        #expect(daxm_dev_set_path(d, "/" + String(repeating: "d", count: 4094)) == 0, "4095 bytes fit")
        #expect(daxm_dev_map(d, PROT_READ, &view) == -ENAMETOOLONG, "open(2) sees the whole path")
        #expect(daxm_dev_set_path(nil, "/dev/null") == -EINVAL)
        #expect(daxm_dev_set_path(d, nil) == 0)
        let v = try #require(f.map(d, write: false), "NULL returns to emulated memory")
        #expect(daxm_view_unmap(v) == 0)
    }

    /// Writes through a tag-A device, releases, re-offers the same range
    /// as tag B, and reads it back through a new device. With `byPin`,
    /// the release is held by a pin and completes at its put instead of
    /// at the resize.
    private func reofferReadsZeros(flags: UInt32, byPin: Bool = false) throws -> Bool {
        let f = Fixture(sparse: true, flags: flags)
        var ext = daxm_extent_spec()
        ext.length = 8 * mib
        #expect(daxm_tag_parse("aaaaaaaa-0000-4000-8000-000000000001", &ext.tag.0) == 0)
        #expect(daxm_region_add_extents(f.region, &ext, 1, 0) == 0)
        var job: OpaquePointer?
        daxm_region_create_dev(f.region, &job)
        #expect(daxm_dev_claim_tag(job, &ext.tag.0) == 0)
        let v = try #require(f.map(job))
        memset(daxm_view_get_addr(v), 0x77, Int(8 * mib))
        let pinned = daxm_extent_get_first(f.region)
        if byPin { #expect(daxm_extent_get(pinned) == 0) }
        #expect(daxm_region_release_extents(f.region, 0, 8 * mib, &ext.tag.0, 0) == 0)
        #expect(daxm_view_unmap(v) == 0)
        #expect(daxm_dev_set_size(job, 0) == 0)  // without a pin, the last reference: the release completes
        if byPin {
            #expect(daxm_extent_get_state(pinned) == Int32(DAXM_EXTENT_RELEASING))
            #expect(daxm_extent_put(pinned) == 0)
        }
        #expect(daxm_tag_parse("bbbbbbbb-0000-4000-8000-000000000002", &ext.tag.0) == 0)
        #expect(daxm_region_add_extents(f.region, &ext, 1, 0) == 0)
        var next: OpaquePointer?
        daxm_region_create_dev(f.region, &next)
        #expect(daxm_dev_claim_tag(next, &ext.tag.0) == 0)
        let w = try #require(f.map(next, write: false))
        defer { _ = daxm_view_unmap(w) }
        let p = try #require(bytes(w, 0))
        return (0..<Int(8 * mib)).allSatisfy { p[$0] == 0 }
    }

    @Test func releasedCapacityIsSanitized() throws {
        #expect(try reofferReadsZeros(flags: 0), "the next tag must read zeros")
        #expect(try !reofferReadsZeros(flags: UInt32(DAXM_REGION_NO_SANITIZE)), "without sanitize the old bytes stay")
        #expect(try reofferReadsZeros(flags: 0, byPin: true), "a release completed by the last put is sanitized too")
    }
}
