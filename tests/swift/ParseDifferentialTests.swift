// ParseDifferentialTests.swift - every parser the model has, against an
// independent statement of its rule, on many random strings built from the
// characters that matter (digits, hex letters, 'x', signs, spaces, tabs,
// newlines, dashes, dots). A parser that accepts one spelling too many
// (`++N`, a second newline, a space) or refuses a valid one fails here
// with the string that shows it.

import Testing
@testable import DaxModel

@Suite("Parsers against their rules on random strings")
struct ParseDifferentialTests {
    /// Random strings over `alphabet`, lengths 0..<maxLength, seeded.
    static func strings(_ alphabet: [UInt8], count: Int, maxLength: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            (0..<rng.below(maxLength)).map { _ in alphabet[rng.below(alphabet.count)] }
        }
    }

    static let numberAlphabet = Array("0123456789abcdefABCDEFxX+- \t\n\r.g".utf8)

    @Test("kstrtoull (base 0, 16) and kstrtoint against the kernel's _parse_integer")
    func numbers() {
        var mismatches: [String] = []
        // Short strings find sign and prefix mistakes; long ones overflow.
        let inputs = Self.strings(Self.numberAlphabet, count: 40_000, maxLength: 8, seed: 1)
            + Self.strings(Array("0123456789abcdef".utf8), count: 2_000, maxLength: 24, seed: 2)
                .map { Array("0x".utf8) + $0 }
            + Self.strings(Array("0123456789".utf8), count: 2_000, maxLength: 24, seed: 3)
        for s in inputs {
            let text = String(decoding: s, as: UTF8.self).debugDescription
            let want0 = KStrToX.kstrtoull(s[...], base: 0)
            let got0 = SysfsParse.kstrtoull(s, base: 0)
            if "\(got0)" != "\(want0.map { $0 }.mapError { DaxErrnoFor($0) })" {
                mismatches.append("kstrtoull(\(text), 0): \(got0) vs \(want0)")
            }
            let want16 = KStrToX.kstrtoull(s[...], base: 16)
            let got16 = SysfsParse.kstrtoull(s, base: 16)
            if "\(got16)" != "\(want16.map { $0 }.mapError { DaxErrnoFor($0) })" {
                mismatches.append("kstrtoull(\(text), 16): \(got16) vs \(want16)")
            }
            let wantInt = KStrToX.kstrtoint(s[...], base: 0)
            let gotInt = SysfsParse.kstrtoint(s)
            if "\(gotInt)" != "\(wantInt.map { $0 }.mapError { DaxErrnoFor($0) })" {
                mismatches.append("kstrtoint(\(text)): \(gotInt) vs \(wantInt)")
            }
            if mismatches.count > 10 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// range_parse: split at the first '-', each side kstrtoull base 16.
    @Test("mapping ranges: START-END, each side base-16 kstrtoull")
    func ranges() {
        var mismatches: [String] = []
        for s in Self.strings(Array("0123456789abcdefx+- \n".utf8), count: 30_000, maxLength: 12, seed: 4) {
            let want: String
            if let dash = s.firstIndex(of: UInt8(ascii: "-")) {
                switch (KStrToX.kstrtoull(s[..<dash], base: 16), KStrToX.kstrtoull(s[(dash + 1)...], base: 16)) {
                case (.failure(let e), _), (.success, .failure(let e)): want = "\(DaxErrnoFor(e))"
                case (.success(let a), .success(let b)): want = "\(a)-\(b)"
                }
            } else {
                want = "\(DaxErrno.invalidArgument)"
            }
            let got: String
            switch SysfsParse.range(s) {
            case .failure(let e): got = "\(e)"
            case .success(let r): got = "\(r.start)-\(r.last)"
            }
            if got != want { mismatches.append("range(\(String(decoding: s, as: UTF8.self).debugDescription)): \(got) vs \(want)") }
            if mismatches.count > 10 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// Device names as sysfs_streq matches them: exactly "daxR.N" with
    /// canonical decimal numbers (no sign, no leading zero, fits in a C
    /// int), then at most one newline.
    @Test("device names: canonical daxR.N, one trailing newline")
    func deviceNames() {
        func rule(_ s: [UInt8]) -> String? {
            var t = s
            if t.last == UInt8(ascii: "\n") { t.removeLast() }
            let text = String(decoding: t, as: UTF8.self)
            guard text.hasPrefix("dax") else { return nil }
            let parts = text.dropFirst(3).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let r = Int32(parts[0]), let n = Int32(parts[1]), r >= 0, n >= 0,
                  "dax\(r).\(n)" == text else { return nil }
            return "\(r).\(n)"
        }
        var mismatches: [String] = []
        let tails = Self.strings(Array("0123456789.+- \n".utf8), count: 30_000, maxLength: 9, seed: 5)
        for tail in tails {
            let s = Array("dax".utf8) + tail
            let got = SysfsName.parseDevice(Substring(String(decoding: s, as: UTF8.self))).map { "\($0.region).\($0.id)" }
            let want = rule(s)
            if got != want {
                mismatches.append("parseDevice(\(String(decoding: s, as: UTF8.self).debugDescription)): \(got ?? "nil") vs \(want ?? "nil")")
            }
            if mismatches.count > 10 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    /// Tags: 36 characters, dashes at 8, 13, 18 and 23, hex digits
    /// elsewhere (either case), then at most one newline.
    @Test("tags: 8-4-4-4-12 hex with dashes, one trailing newline")
    func tags() {
        func rule(_ s: [UInt8]) -> [UInt8]? {
            var t = s
            if t.last == UInt8(ascii: "\n") { t.removeLast() }
            guard t.count == 36 else { return nil }
            var hex: [UInt8] = []
            for (i, c) in t.enumerated() {
                if [8, 13, 18, 23].contains(i) {
                    guard c == UInt8(ascii: "-") else { return nil }
                } else {
                    guard let v = UInt8(String(UnicodeScalar(c)), radix: 16) else { return nil }
                    hex.append(v)
                }
            }
            return stride(from: 0, to: 32, by: 2).map { hex[$0] << 4 | hex[$0 + 1] }
        }
        var rng = SplitMix64(seed: 6)
        let valid = Array("0f0e0d0c-0b0a-4908-8706-050403020100".utf8)
        let noise = Array("0123456789abcdefABCDEFg- \n+x".utf8)
        var mismatches: [String] = []
        for _ in 0..<30_000 {
            // A valid tag with a few random edits: replace, insert, delete.
            var s = valid
            if rng.chance(50) { s = s.map { rng.chance(30) ? UInt8(ascii: "A") &+ ($0 & 0x7) : $0 } }
            for _ in 0..<rng.below(3) {
                let at = rng.below(s.count + 1)
                switch rng.below(3) {
                case 0 where at < s.count: s[at] = noise[rng.below(noise.count)]
                case 1: s.insert(noise[rng.below(noise.count)], at: at)
                default: if at < s.count { s.remove(at: at) }
                }
            }
            if rng.chance(20) { s += rng.chance(50) ? [10] : [10, 10] }
            let got = DaxTag(uuidString: String(decoding: s, as: UTF8.self))?.bytes
            let want = rule(s)
            if got != want { mismatches.append("DaxTag(\(String(decoding: s, as: UTF8.self).debugDescription)): \(got.map { "\($0)" } ?? "nil") vs \(want.map { "\($0)" } ?? "nil")") }
            if mismatches.count > 10 { break }
        }
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }
}

/// The model's errno for the reference's.
func DaxErrnoFor(_ e: Err) -> DaxErrno {
    DaxErrno(rawValue: e.code) ?? .invalidArgument
}
