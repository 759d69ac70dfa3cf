import Foundation
import StampedeCore

/// What happens to a request, drawn when it is admitted.
enum Fault: Sendable, Equatable {
    case none
    /// Answered 500 before streaming starts.
    case http500
    /// Answered 429 with `Retry-After: 1` before streaming starts.
    case http429
    /// The connection closes after about half the tokens.
    case abort
    /// An error event after about half the tokens, then the response ends.
    case streamError
}

/// One admitted request's draws.
struct Admission: Sendable {
    /// 0, 1, 2… in admission order.
    let number: UInt64
    let fault: Fault
    /// Seeds the request's words and jitter.
    let seed: UInt64
}

/// Counters and the seeded fault generator, shared by all requests.
actor MockState {
    private var rng: SplitMix64
    private let rates: (e500: Double, e429: Double, abort: Double, streamError: Double)
    private var received = 0
    private var inFlight = 0
    private var completed = 0
    private var admitted: UInt64 = 0

    init(config: MockConfig) {
        rng = SplitMix64(seed: config.seed)
        rates = (config.error500Rate, config.error429Rate, config.abortRate, config.streamErrorRate)
    }

    /// Counts a request to a generation endpoint, valid or not.
    func received(count: Int = 1) { received += count }

    /// Draws a valid request's fault and seed. Faults are cumulative bands of one uniform draw, so the
    /// rates add up (500 first, then 429, abort, stream error); deterministic given the seed and arrival order.
    func admit() -> Admission {
        let draw = rng.nextUnitDouble()
        let seed = rng.next()
        var fault = Fault.none
        var bandEnd = 0.0
        for (candidate, rate) in [(Fault.http500, rates.e500), (.http429, rates.e429), (.abort, rates.abort),
                                  (.streamError, rates.streamError)] {
            bandEnd += rate
            if draw < bandEnd {
                fault = candidate
                break
            }
        }
        defer { admitted += 1 }
        return Admission(number: admitted, fault: fault, seed: seed)
    }

    func begin() { inFlight += 1 }

    /// A generation ends; `completed` when it delivered all its tokens and ended normally.
    func end(completed didComplete: Bool) {
        inFlight -= 1
        if didComplete { completed += 1 }
    }

    func snapshot(queued: Int) -> MockStats {
        MockStats(requestsReceived: received, activeStreams: max(0, inFlight - queued), queued: queued, completed: completed)
    }
}

/// Counts one generation as in flight until `end` is called or, failing that, until it is released:
/// a response body that never runs (the client left before the head was written) does not leak the count.
actor InFlightTicket {
    private let state: MockState
    /// The fixed-delay slot this generation holds, if the mock limits them.
    private let slot: SlotGate?
    private var ended = false

    /// Counts the generation in.
    init(state: MockState, slot: SlotGate? = nil) async {
        self.state = state
        self.slot = slot
        await state.begin()
    }

    /// Counts the generation out and frees its slot. Only the first call counts.
    func end(completed: Bool) async {
        guard !ended else { return }
        ended = true
        await slot?.release()
        await state.end(completed: completed)
    }

    deinit {
        if !ended {
            let state = state
            let slot = slot
            Task {
                await slot?.release()
                await state.end(completed: false)
            }
        }
    }
}

/// Raised once when the server stops; read before every token so that streams end promptly.
final class ShutdownFlag: @unchecked Sendable {
    // @unchecked Sendable is safe: the only stored state, `raised`, is read and written only while
    // holding `lock`, and `lock` itself (NSLock) is thread-safe and never replaced.
    private let lock = NSLock()
    private var raised = false

    var isRaised: Bool {
        lock.lock()
        defer { lock.unlock() }
        return raised
    }

    func raise() {
        lock.lock()
        raised = true
        lock.unlock()
    }
}
