import StampedeClient
import StampedeCore
import StampedeEngine
import Synchronization

/// A `RequestExecutor` that answers every request with one token after a service time, counting
/// calls. With a `capacity`, the server it fakes has that many parallel slots and shares them: a
/// request that starts with n in flight takes `delay × max(1, n / capacity)`. A delay of zero
/// answers at once (for workers whose tests never run load).
public final class FakeExecutor: RequestExecutor {
    public let delay: Duration
    public let capacity: Int?
    /// The input tokens each record reports; nil: the request's estimate.
    public let inputTokens: Int?
    /// Calls so far, those in flight now, and the most ever in flight at once.
    public let calls = Mutex((total: 0, inFlight: 0, peak: 0))

    public init(delay: Duration, capacity: Int? = nil, inputTokens: Int? = nil) {
        precondition(capacity.map { $0 > 0 } ?? true, "capacity must be positive")
        self.delay = delay
        self.capacity = capacity
        self.inputTokens = inputTokens
    }

    public func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord {
        let inFlight = calls.withLock { calls in
            calls.total += 1
            calls.inFlight += 1
            calls.peak = max(calls.peak, calls.inFlight)
            return calls.inFlight
        }
        defer { calls.withLock { $0.inFlight -= 1 } }
        let send = epoch.duration(to: .now).nanoseconds
        let service = capacity.map { delay * max(1, Double(inFlight) / Double($0)) } ?? delay
        if service > .zero { try? await Task.sleep(for: service) }
        let end = epoch.duration(to: .now).nanoseconds
        return RequestRecord(scheduledNs: scheduledNs, sendNs: send, firstByteNs: end, firstTokenNs: end, firstAnswerTokenNs: end,
                             tokenChunkNs: [end], endNs: end, inputTokensEstimate: request.inputTokensEstimate,
                             inputTokens: inputTokens ?? request.inputTokensEstimate, outputTokens: 1, tokenSource: .chunks,
                             requestedOutputTokens: request.maxTokens, status: 200)
    }
}
