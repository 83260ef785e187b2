/// Postconditions: what a verb promises about the state it leaves. The
/// invariants say the model is consistent; these say it did what was
/// asked (a resize gives exactly the size asked, a refusal changes
/// nothing, a release leaves no accepted extent in its range). A short
/// allocation keeps every invariant, so only a promise catches it.
///
/// Debug builds (`DAXMODEL_INTERNAL_CHECKS`) check them where the verbs
/// end and keep what failed in `brokenPromises`, which `checkInvariants`
/// reports with the invariants (so tests and the C ABI's per-call check
/// see them). Release builds compile the checks out.
extension DaxBus {
    /// Records a broken promise unless `holds`.
    @inline(__always)
    func promise(_ holds: @autoclosure () -> Bool, _ what: @autoclosure () -> String) {
        #if DAXMODEL_INTERNAL_CHECKS
        if !holds() { brokenPromises.append(what()) }
        #endif
    }
}

/// What a device verb may change, for comparing before and after.
struct DeviceShape: Equatable, CustomStringConvertible {
    var spans: [Span]
    var size: UInt64
    var align: UInt64
    var tag: DaxTag?
    var isBound: Bool

    var description: String {
        "size 0x\(String(size, radix: 16)) ranges \(spans) align \(align) tag \(tag.map { "\($0)" } ?? "none")"
            + (isBound ? " bound" : "")
    }

    /// True when `shorter` is what `self` becomes by trimming from the
    /// end (or what grows into `self` by extending the last range and
    /// appending): equal ranges, except that the last of `shorter` may end
    /// earlier than its counterpart.
    func extends(_ shorter: [Span]) -> Bool {
        guard shorter.count <= spans.count else { return false }
        for (i, s) in shorter.enumerated() {
            let isLast = i == shorter.count - 1
            if isLast ? (s.start != spans[i].start || s.last > spans[i].last) : s != spans[i] { return false }
        }
        return true
    }
}

extension Device {
    var shape: DeviceShape {
        DeviceShape(spans: ranges.map(\.span), size: size, align: align, tag: tag, isBound: isBound)
    }

    /// Runs `body` (the verb `verb`); in debug builds checks that a
    /// refusal changed nothing and that a success satisfies `promised`,
    /// which returns what is wrong, or nil.
    @inline(__always)
    func keepingPromises(_ verb: @autoclosure () -> String, _ body: () throws(DaxError) -> Void,
                         promised: (_ before: DeviceShape, _ after: DeviceShape) -> String?) throws(DaxError) {
        #if DAXMODEL_INTERNAL_CHECKS
        let before = shape
        let model = region?.model
        do {
            try body()
        } catch {
            let after = shape
            model?.promise(after == before, "\(name): \(verb()) was refused (\(error.errno)) yet changed the device: \(before) -> \(after)")
            throw error
        }
        let after = shape
        if let broken = promised(before, after) {
            model?.promise(false, "\(name): \(verb()): \(broken) (before: \(before); after: \(after))")
        }
        #else
        try body()
        #endif
    }

    /// The promise of a successful resize: exactly the size asked; a
    /// shrink trims from the end; a growth keeps every range and only
    /// extends the last one or appends; bound state, tag and align stay.
    static func resizePromise(_ newSize: UInt64) -> (DeviceShape, DeviceShape) -> String? {
        { before, after in
            if after.size != newSize { return "size 0x\(String(after.size, radix: 16)) is not the 0x\(String(newSize, radix: 16)) asked" }
            if after.isBound != before.isBound || after.tag != before.tag || after.align != before.align {
                return "bound state, tag or align changed"
            }
            let kept = newSize < before.size ? before.extends(after.spans) : after.extends(before.spans)
            return kept ? nil : "ranges were not trimmed from the end / extended at the end"
        }
    }
}
