import StampedeCore
import StampedeEngine
import Synchronization

/// What a test's coordinator published, in order (its `onEvent`).
public final class EventLog: Sendable {
    private let events = Mutex<[RunEvent]>([])

    public init() {}

    public var onEvent: @Sendable (RunEvent) -> Void { { [self] event in self.events.withLock { $0.append(event) } } }

    public var all: [RunEvent] { events.withLock { $0 } }

    /// Every record of every `.records` event.
    public var records: [RequestRecord] {
        all.flatMap { event -> [RequestRecord] in
            if case .records(let batch) = event { return batch }
            return []
        }
    }
}

extension RunEvent {
    /// An `onEvent` that passes only the records on (tests that collect them).
    public static func records(to sink: @escaping @Sendable ([RequestRecord]) -> Void) -> @Sendable (RunEvent) -> Void {
        { event in if case .records(let batch) = event { sink(batch) } }
    }
}
