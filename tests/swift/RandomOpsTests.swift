// RandomOpsTests.swift - seeded, reproducible random sequences of attribute
// writes (create, size up/down, mapping, align, delete, bind, unbind, with
// valid and invalid text) applied both to ReferenceKernel (the kernel
// pseudocode, kept in the tests) and to the library through
// daxm_attr_write. After every step the errno and the whole region state
// (read back through daxm_attr_read) must agree, and the invariants must
// hold. A failure names the seed, the profile, the step and the last ops.

import DaxModelHeader
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast and the same everywhere,
/// so a seed replays the same sequence on any toolchain. Only next() is used;
/// the helpers below avoid the standard library's random algorithms, which
/// may change between Swift versions.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// 0 ..< n (n > 0).
    mutating func below(_ n: UInt64) -> UInt64 { next() % n }
    mutating func below(_ n: Int) -> Int { Int(below(UInt64(n))) }
    mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }

    /// Index chosen with the given weights.
    mutating func weighted(_ w: [Int]) -> Int {
        var x = below(w.reduce(0, +))
        for (i, v) in w.enumerated() {
            if x < v { return i }
            x -= v
        }
        return w.count - 1
    }
}

/// Produces one attribute write from the current (reference) state.
struct OpGenerator {
    var rng: SplitMix64
    /// Also write mappings at 4 KiB-aligned but not 2 MiB-aligned starts,
    /// which makes later grows produce unaligned pieces (kernel-dax.md §7.3).
    let unalignedStarts: Bool

    struct Hole { var start: UInt64; var end: UInt64; var len: UInt64 { end - start + 1 } }

    static func holes(_ k: ReferenceKernel) -> [Hole] {
        var out: [Hole] = []
        var at = k.start
        for c in k.children() {
            if c.start > at { out.append(Hole(start: at, end: c.start - 1)) }
            at = c.end + 1
        }
        if at <= k.end { out.append(Hole(start: at, end: k.end)) }
        return out
    }

    mutating func number(_ v: UInt64) -> String {
        switch rng.weighted([70, 10, 4, 5, 5, 6, 8]) {
        case 0: return String(v)
        case 1: return hexText(v)
        case 2: return "0X" + String(v, radix: 16, uppercase: true)
        case 3: return v == 0 ? "0" : "0" + String(v, radix: 8)
        case 4: return "+" + String(v)
        case 5: return String(v) + "\n"
        default: return oddNumber(v)
        }
    }

    /// The kernel's odd inputs around a number: most are refused (EINVAL
    /// or ERANGE), some are valid spellings (a leading '+' before "0x",
    /// leading zeros read as octal, hex digits in either case).
    mutating func oddNumber(_ v: UInt64) -> String {
        let d = String(v)
        return rng.pick([
            "++" + d, "+-" + d, "-" + d, " " + d, d + " ", "\t" + d, d + "\n\n", "\n" + d, d + "\r",
            "+" + hexText(v), "+0X" + String(v, radix: 16), "0x0x" + String(v, radix: 16), "0x" + String(v, radix: 16) + "g",
            "00" + String(v, radix: 8), "0" + d, d + "0000000000000000000000", "0x1" + String(repeating: "0", count: 16),
            hexText(v).uppercased(), "0x" + String(v, radix: 16, uppercase: true), d + "k", "+",
        ])
    }

    /// A device name as the driver files and `delete` see it: mostly the
    /// name, sometimes with one trailing newline (accepted), sometimes an
    /// odd spelling that names no device (spaces, two newlines, leading
    /// zeros, a sign, upper case).
    mutating func nameText(_ name: String) -> String {
        switch rng.weighted([80, 10, 10]) {
        case 0: return name
        case 1: return name + "\n"
        default:
            let digits = name.dropFirst(3)
            return rng.pick([" " + name, name + " ", name + "\n\n", "\n" + name, name.uppercased(), "dax0" + digits,
                             name.split(separator: ".").joined(separator: ".0"),
                             name.split(separator: ".").joined(separator: ".+")])
        }
    }

    /// A device name: mostly an existing device (mostly an unbound one when
    /// @preferUnbound, so that sizes and aligns get past EBUSY), sometimes none.
    mutating func devName(_ k: ReferenceKernel, preferUnbound: Bool = false) -> String {
        if rng.chance(4) { return k.name(rng.pick([9, 17, 63])) }
        let unbound = k.devs.keys.sorted().filter { !k.devs[$0]!.bound }
        if preferUnbound && !unbound.isEmpty && rng.chance(75) { return k.name(rng.pick(unbound)) }
        return k.name(rng.pick(k.devs.keys.sorted()))
    }

    mutating func sizeValue(_ k: ReferenceKernel, _ id: Int) -> String {
        let d = k.devs[id]!
        let g = max(d.align, ReferenceKernel.compatAlign)
        let cur = d.size
        let avail = k.availSize()
        let regionSize = k.end - k.start + 1
        let holes = Self.holes(k)
        switch rng.weighted([20, 4, 8, 5, 8, 5, 8, 5, 7, 10, 6, 4]) {
        case 0: return number(rng.below(regionSize / g + 2) * g)
        case 1: return number(cur)
        case 2: return number(cur + avail)
        case 3: return number(cur + avail + g)
        case 4:
            guard let h = holes.first, h.len >= g else { return number(cur + g) }
            return number(cur + h.len / g * g)
        case 5:
            guard let h = holes.first else { return number(cur + g) }
            return number(cur + h.len / g * g + g)
        case 6:
            guard let last = d.ranges.last else { return number(0) }
            return number(cur - last.len)
        case 7: return number(cur >= g ? cur - g : 0)
        case 8: return number(0)
        case 9: return number(cur + g)
        case 10: return number(rng.pick([4096, cur + 4096, cur + 3 * MiB, 3 * MiB, g + 2 * MiB]))
        default:
            return rng.pick(["2M", "-1", "0x", "abc", "0x10000000000000000", "18446744073709551616",
                             "18446744073709551615", "0x2_00000", " 2097152", "2097152\n\n", "\n", ""])
        }
    }

    mutating func rangeText(_ s: UInt64, _ e: UInt64) -> String {
        switch rng.weighted([75, 8, 5, 6, 6, 8]) {
        case 0: return "\(hexText(s))-\(hexText(e))"
        case 1: return "\(String(s, radix: 16))-\(String(e, radix: 16))"
        case 2: return "0X\(String(s, radix: 16, uppercase: true))-0X\(String(e, radix: 16, uppercase: true))"
        case 3: return "\(hexText(s))-\(hexText(e))\n"
        case 4: return "+\(hexText(s))-+\(hexText(e))"
        default:
            // Odd spellings: doubled signs, spaces, a second dash, a newline
            // before the dash, octal-looking and overlong fields.
            let a = hexText(s), b = hexText(e)
            return rng.pick(["++\(a)-\(b)", "\(a)-++\(b)", " \(a)-\(b)", "\(a) -\(b)", "\(a)- \(b)", "\(a)-\(b) ",
                             "\(a)--\(b)", "\(a)-\(b)-", "\(a)\n-\(b)", "\(a)-\(b)\n\n", "-\(a)-\(b)",
                             "0\(String(s, radix: 16))-0\(String(e, radix: 16))", "\(a)0000000000000000-\(b)",
                             "\(a)-0x1\(String(repeating: "0", count: 16))", "\(a)-", "\(a)-0x", "0x-\(b)"])
        }
    }

    mutating func mappingValue(_ k: ReferenceKernel, _ id: Int) -> String {
        let d = k.devs[id]!
        let g = max(d.align, ReferenceKernel.compatAlign)
        let holes = Self.holes(k)
        let used = k.children()
        let twoM = 2 * MiB
        switch rng.weighted([10, 15, 10, 10, 8, 8, unalignedStarts ? 12 : 0, 3, 4, 15]) {
        case 0:
            guard let h = holes.isEmpty ? nil : rng.pick(holes) else { break }
            return rangeText(h.start, h.end)
        case 1:
            guard let h = holes.isEmpty ? nil : rng.pick(holes), h.len >= g else { break }
            let n = 1 + rng.below(h.len / g)
            return rangeText(h.start, h.start + n * g - 1)
        case 2:
            guard let h = holes.isEmpty ? nil : rng.pick(holes), h.len >= g else { break }
            return rangeText(h.end - g + 1, h.end)
        case 3:
            guard let c = used.isEmpty ? nil : rng.pick(used) else { break }
            let s = c.start >= k.start + twoM && rng.chance(50) ? c.start - twoM : c.start
            return rangeText(s, s + twoM * (1 + rng.below(UInt64(3))) - 1)
        case 4:
            switch rng.below(4) {
            case 0: return rangeText(k.start - twoM, k.start - 1)
            case 1: return rangeText(k.end + 1, k.end + twoM)
            case 2: return rangeText(k.start - twoM, k.start + twoM - 1)
            default: return rangeText(k.end - twoM + 1, k.end + twoM)
            }
        case 5:
            guard let h = holes.isEmpty ? nil : rng.pick(holes) else { break }
            return rangeText(h.start, h.start + rng.pick([4096, 3 * MiB, twoM + 4096]) - 1)
        case 6:
            guard let h = holes.isEmpty ? nil : rng.pick(holes) else { break }
            let off = (1 + rng.below(UInt64(511))) * 4096
            return rangeText(h.start + off, h.start + off + twoM - 1)
        case 7:
            let s = k.start + rng.below((k.end - k.start) / twoM) * twoM + twoM
            if rng.chance(30) { return rangeText(s, s - 1) } // END = START - 1: a 0-byte range
            return rangeText(s, s - twoM - 1) // end < start, aligned wrapped length
        case 8:
            return rng.pick(["garbage", "0x140000000", "1-", "-1", "0x1-0xg", "0x10000000000000000-0x1",
                             "0x1-0x10000000000000000", "0x1 - 0x2", ""])
        default: break
        }
        let n = 1 + rng.below(UInt64(4))
        let s = k.start + rng.below((k.end - k.start + 1) / twoM) * twoM
        return rangeText(s, s + n * twoM - 1)
    }

    mutating func next(_ k: ReferenceKernel) -> (String, String) {
        let nDevs = k.devs.count
        switch rng.weighted([nDevs < 8 ? 10 : 2, 35, 15, 8, 10, 8, 12, 2, 4, 2]) {
        case 0:
            let v = rng.chance(80) ? "1" : rng.chance(50) ? oddNumber(1)
                : rng.pick(["1\n", "0x1", "2", "0", "abc", "-1", "+1", "", "-0", "01", "4294967297", "-2147483649"])
            return ("region\(k.regionId)/create", v)
        case 1:
            let name = devName(k, preferUnbound: true)
            guard let id = k.devs.keys.first(where: { k.name($0) == name }) else { return ("\(name)/size", "0") }
            return ("\(name)/size", sizeValue(k, id))
        case 2:
            let name = devName(k, preferUnbound: true)
            guard let id = k.devs.keys.first(where: { k.name($0) == name }) else {
                return ("\(name)/mapping", "0x0-0x1fffff")
            }
            return ("\(name)/mapping", mappingValue(k, id))
        case 3:
            let v = rng.chance(10) ? oddNumber(rng.pick([4096, 2 * MiB]))
                : rng.pick(["4096", "4096", "2097152", "2097152", "0x200000", "0x1000", "1073741824",
                            "12345", "0", "8192", "abc", "99999999999999999999", "-1", "4096\n"])
            return ("\(devName(k, preferUnbound: true))/align", v)
        case 4:
            var n = nameText(devName(k))
            if rng.chance(3) { n = "garbage" }
            return ("region\(k.regionId)/delete", n)
        case 5: return ("device_dax/bind", nameText(devName(k)))
        case 6: return ("device_dax/unbind", nameText(devName(k)))
        case 8: return ("device_dax/new_id", rng.chance(5) ? "garbage" : nameText(devName(k)))
        case 9: return ("device_dax/remove_id", nameText(devName(k)))
        default:
            return (rng.pick(["region\(k.regionId)/size", "\(k.name(0))/resource", "region\(k.regionId)/nope",
                              "region\(k.regionId + 1)/create"]), "1")
        }
    }
}

/// The region a seed runs on.
struct RandomSetup: CustomStringConvertible {
    let regionId: Int
    let start: UInt64
    let size: UInt64
    let align: UInt64
    let idle: Bool
    let unbound: Bool

    init(seed: UInt64) {
        regionId = Int(seed % 3)
        start = [0x1_4000_0000, 0x1_0000_0000, 0x40_0000_0000][Int(seed % 3)]
        size = [64 * MiB, 32 * MiB, 48 * MiB][Int((seed / 3) % 3)]
        align = seed % 5 == 4 ? 4096 : 2 * MiB
        idle = seed % 4 == 1 || seed % 4 == 3
        unbound = seed % 4 == 2
    }

    var description: String {
        "region\(regionId) \(size / MiB) MiB at \(hexText(start)) align \(align)"
            + (idle ? " idle" : unbound ? " full unbound" : " full bound")
    }
}

/// Run @steps random writes for @seed; stop at the first divergence.
func runRandomOps(seed: UInt64, profile: ABIProfile, steps: Int, unalignedStarts: Bool) throws {
    let setup = RandomSetup(seed: seed)
    let ctx = try ABICtx()
    let r = try ctx.region(id: Int32(setup.regionId), profile: profile, start: setup.start, size: setup.size,
                           align: setup.align, idle: setup.idle, unbound: setup.unbound)
    var ref = ReferenceKernel(regionId: setup.regionId, start: setup.start, size: setup.size, align: setup.align,
                              profile: profile, idle: setup.idle, unbound: setup.unbound)
    var gen = OpGenerator(rng: SplitMix64(seed: seed &* 0x2545_F491_4F6C_DD1D &+ UInt64(profile.rawValue)),
                          unalignedStarts: unalignedStarts)
    var history: [String] = []
    func header(_ step: Int) -> String {
        "seed \(seed) (\(profile), \(setup), unaligned starts \(unalignedStarts)), step \(step)\n"
            + "last ops:\n  " + history.suffix(15).joined(separator: "\n  ")
    }
    let initial = r.snapshot()
    if initial != ref.state {
        Issue.record("initial state differs for seed \(seed)\nlibrary:   \(initial)\nreference: \(ref.state)")
        return
    }
    var stats: [String: Int] = [:]
    defer {
        if getenv("DAXM_TEST_STATS") != nil {
            let line = stats.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            print("seed \(seed) \(profile): \(line)")
        }
    }
    for step in 0..<steps {
        let (path, value) = gen.next(ref)
        let want = ref.write(path, value)
        let got = ctx.write(path, value)
        stats["\(path.split(separator: "/").last ?? ""):\(got)", default: 0] += 1
        history.append("\(step): \(value.debugDescription) > \(path) → \(got)\(got == want ? "" : " (reference: \(want))")")
        if got != want {
            let msg = "errno differs: library \(got), reference \(want) [last error: \(abiLastError())]\n\(header(step))\n"
                + "reference state after the write: \(ref.state)\nlibrary state: \(r.snapshot())"
            Issue.record("\(msg)")
            return
        }
        let st = r.snapshot()
        if st != ref.state {
            Issue.record("state differs after the write\n\(header(step))\nlibrary:   \(st)\nreference: \(ref.state)")
            return
        }
        // Structural invariants every step; getters against the text every
        // 25 steps (each C call runs the library's own debug checks).
        let getters = step % 25 == 24 || step == steps - 1
        if r.checkInvariants("(\(header(step)))", state: st, getters: getters) > 0 { return }
    }
}

@Suite("Random operation sequences against the reference kernel")
struct RandomOpsTests {
    @Test("aligned operations: 20 seeds × 300 steps", arguments: Array(UInt64(0)..<20), ABIProfile.allCases)
    func aligned(_ seed: UInt64, _ p: ABIProfile) throws {
        try runRandomOps(seed: seed, profile: p, steps: 300, unalignedStarts: false)
    }

    @Test("with mappings at unaligned starts: 10 seeds × 300 steps", arguments: Array(UInt64(100)..<110), ABIProfile.allCases)
    func unaligned(_ seed: UInt64, _ p: ABIProfile) throws {
        try runRandomOps(seed: seed, profile: p, steps: 300, unalignedStarts: true)
    }
}

/// The reference against hand-computed answers, so a failure in
/// RandomOpsTests can be blamed on the right side.
@Suite("ReferenceKernel self-checks")
struct ReferenceKernelTests {
    @Test("kstrtoull base 0")
    func kstrtoull() {
        func p(_ s: String) -> Result<UInt64, Err> { KStrToX.kstrtoull(Array(s.utf8)[...], base: 0) }
        #expect(p("0x200000") == .success(2 * MiB))
        #expect(p("010000000") == .success(2 * MiB))
        #expect(p("+2097152\n") == .success(2 * MiB))
        #expect(p("0x") == .failure(.EINVAL))
        #expect(p("") == .failure(.EINVAL))
        #expect(p("2M") == .failure(.EINVAL))
        #expect(p("0x10000000000000000") == .failure(.ERANGE))
        #expect(p("18446744073709551615") == .success(UInt64.max))
        #expect(p("18446744073709551616") == .failure(.ERANGE))
        #expect(KStrToX.kstrtoint(Array("-1".utf8)[...], base: 0) == .success(-1))
        #expect(KStrToX.kstrtoint(Array("2147483648".utf8)[...], base: 0) == .failure(.ERANGE))
        #expect(KStrToX.kstrtoint(Array("-2147483648".utf8)[...], base: 0) == .success(Int32.min))
    }

    @Test("guest-ci growth example: 64M + neighbour freed → 192M")
    func growthExample() {
        var k = ReferenceKernel(regionId: 0, start: 0x1_4000_0000, size: GiB, align: 2 * MiB, profile: .v6_12,
                                idle: true, unbound: false)
        #expect(k.write("dax0.0/size", "67108864") == .OK)
        #expect(k.write("region0/create", "1") == .OK)
        #expect(k.write("region0/create", "1") == .OK)
        #expect(k.write("dax0.1/size", "67108864") == .OK)
        #expect(k.write("dax0.2/size", "67108864") == .OK)
        #expect(k.write("dax0.1/size", "0") == .OK)
        #expect(k.write("dax0.0/size", "\(192 * MiB)") == .OK)
        #expect(k.state.devs[0].ranges == [MapRange(0x1_4000_0000, 0x1_47ff_ffff, 0), MapRange(0x1_4c00_0000, 0x1_4fff_ffff, 0x8000)])
        #expect(k.write("dax0.0/size", "\(96 * MiB)") == .OK)
        #expect(k.state.devs[0].ranges == [MapRange(0x1_4000_0000, 0x1_45ff_ffff, 0)])
        #expect(k.write("dax0.1/size", "\(64 * MiB)") == .OK)
        #expect(k.state.devs[1].ranges == [MapRange(0x1_4600_0000, 0x1_47ff_ffff, 0), MapRange(0x1_4c00_0000, 0x1_4dff_ffff, 0x2000)])
        #expect(k.write("dax0.1/mapping", "0x17c200000-0x17c200fff") == .OK)
        #expect(k.write("device_dax/bind", "dax0.1") == .ENODEV, "6.12: not listed")
        #expect(k.write("device_dax/new_id", "dax0.1") == .OK)
        #expect(k.state.devs[1].enabled)
        #expect(k.write("region0/delete", "dax0.1") == .EBUSY)
    }

    @Test("the generator is deterministic for a seed")
    func deterministic() {
        let k = ReferenceKernel(regionId: 0, start: 0x1_4000_0000, size: 64 * MiB, align: 2 * MiB, profile: .v6_1,
                                idle: true, unbound: false)
        var g1 = OpGenerator(rng: SplitMix64(seed: 7), unalignedStarts: true)
        var g2 = OpGenerator(rng: SplitMix64(seed: 7), unalignedStarts: true)
        for _ in 0..<100 {
            let a = g1.next(k), b = g2.next(k)
            #expect(a == b)
        }
        var r = SplitMix64(seed: 0)
        #expect(r.next() == 0xE220_A839_7B1D_CDAF, "SplitMix64 reference output for seed 0")
    }
}
