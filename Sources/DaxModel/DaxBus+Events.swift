/// The event queue a fabric-manager program drains, and host-wide tag
/// bookkeeping (a non-null tag is unique across the host's regions).
extension DaxBus {
    /// Appends an event (FIFO).
    func post(_ event: DaxEvent) {
        events.append(event)
        if let kinds = tapKinds, kinds.contains(event.kind) { tapped.append(event) }
    }

    /// From now on, every posted event of `kinds` is also copied for a
    /// second reader, which takes the copies with `takeTapped()`; the
    /// queue `nextEvent` drains is unchanged. Empty `kinds` stops it.
    func tapEvents(of kinds: Set<DaxEvent.Kind>) {
        tapKinds = kinds.isEmpty ? nil : kinds
        if kinds.isEmpty { tapped = [] }
    }

    /// The copies made since the last call, oldest first.
    func takeTapped() -> [DaxEvent] {
        defer { tapped = [] }
        return tapped
    }

    /// Removes and returns the oldest event, or nil.
    public func nextEvent() -> DaxEvent? {
        guard eventHead < events.count else { return nil }
        let event = events[eventHead]
        eventHead += 1
        if eventHead > 64, eventHead * 2 > events.count {
            events.removeFirst(eventHead)
            eventHead = 0
        }
        return event
    }

    /// Puts `event` back at the head of the queue (an embedder could not
    /// hand it out).
    public func requeueFront(_ event: DaxEvent) {
        if eventHead > 0 {
            eventHead -= 1
            events[eventHead] = event
        } else {
            events.insert(event, at: 0)
        }
    }

    /// Events not yet drained.
    public var pendingEventCount: Int { events.count - eventHead }

    /// Request ids run 1, 2, ... and after 2^64-1 start again at 1 (0
    /// means "no request"): a loaded model may start anywhere.
    func newRequestId() -> UInt64 {
        defer { nextRequestId = nextRequestId == .max ? 1 : nextRequestId + 1 }
        return nextRequestId
    }

    /// True when a non-null tag has extents (accepted or releasing) in any region.
    public func tagExists(_ tag: DaxTag) -> Bool { !tag.isUntagged && (tagUse[tag] ?? 0) > 0 }

    func countTag(_ tag: DaxTag, _ delta: Int) {
        guard !tag.isUntagged else { return }
        let n = (tagUse[tag] ?? 0) + delta
        tagUse[tag] = n > 0 ? n : nil
    }
}
