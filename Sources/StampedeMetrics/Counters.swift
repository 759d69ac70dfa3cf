import StampedeCore

/// Additive counts for a set of requests. Every field merges by addition, so any split of
/// the same requests across intervals and workers sums to the same totals.
public struct Counters: Codable, Sendable, Equatable {
    /// Requests that finished, successfully or not (cancelled requests at stop are not counted).
    public var finished: Int = 0
    /// Requests that finished without an error.
    public var succeeded: Int = 0
    public var failed: Int = 0
    /// Failed requests per `ErrorClass` raw value.
    public var errorsByClass: [String: Int] = [:]
    /// Requests per HTTP status code ("200", "429", …; "none" when no response arrived). LLMPerf's error_code_frequency.
    public var statusCodes: [String: Int] = [:]
    /// Token totals over succeeded requests.
    public var inputTokens: Int = 0
    public var inputTokensEstimate: Int = 0
    public var outputTokens: Int = 0
    /// Token-bearing chunks over succeeded requests.
    public var tokenChunks: Int = 0
    /// Succeeded requests per `TokenCountSource` raw value.
    public var tokenSources: [String: Int] = [:]
    public var correctnessChecked: Int = 0
    public var correctnessPassed: Int = 0
    /// Sum over finished requests of (end − send), plus, for requests cancelled by the stop, (stop − send), in ns:
    /// divided by the duration it gives the achieved concurrency.
    public var busyNanoseconds: Int64 = 0
    /// The last error message seen per class (bounded: one per class).
    public var lastErrorMessages: [String: String] = [:]
    /// Succeeded requests that met every per-request SLO bound (goodput).
    public var goodput: Int = 0
    /// Open-loop arrivals not sent because `maxConcurrency` requests were in flight.
    public var droppedArrivals: Int = 0
    /// Finished requests whose answer was short (`RequestRecord.shortOutput`): succeeded ones, and those
    /// failed as `short_output` by `--min-output-ratio`.
    public var shortOutputs: Int = 0

    public init() {}

    public mutating func add(_ record: RequestRecord) {
        finished &+|= 1
        statusCodes[record.status.map(String.init) ?? "none", default: 0] &+|= 1
        busyNanoseconds &+|= max(0, record.endNs.saturatingSubtract(record.sendNs))
        if record.shortOutput == true { shortOutputs &+|= 1 }
        if let errorClass = record.errorClass {
            failed &+|= 1
            errorsByClass[errorClass.rawValue, default: 0] &+|= 1
            if let message = record.errorMessage { lastErrorMessages[errorClass.rawValue] = String(message.prefix(300)) }
            return
        }
        succeeded &+|= 1
        inputTokens &+|= max(0, record.inputTokens)
        inputTokensEstimate &+|= max(0, record.inputTokensEstimate)
        outputTokens &+|= max(0, record.outputTokens)
        tokenChunks &+|= record.tokenChunkNs.count
        tokenSources[record.tokenSource.rawValue, default: 0] &+|= 1
        if record.sloMet == true { goodput &+|= 1 }
        if let correct = record.correct {
            correctnessChecked &+|= 1
            if correct { correctnessPassed &+|= 1 }
        }
    }

    /// Adds another set of counts. Every sum saturates instead of trapping, so no peer's numbers
    /// can crash the process; `check()` keeps each peer value far below the bound.
    public mutating func add(_ other: Counters) {
        finished &+|= other.finished
        succeeded &+|= other.succeeded
        failed &+|= other.failed
        errorsByClass.addSaturating(other.errorsByClass)
        statusCodes.addSaturating(other.statusCodes)
        inputTokens &+|= other.inputTokens
        inputTokensEstimate &+|= other.inputTokensEstimate
        outputTokens &+|= other.outputTokens
        tokenChunks &+|= other.tokenChunks
        tokenSources.addSaturating(other.tokenSources)
        correctnessChecked &+|= other.correctnessChecked
        correctnessPassed &+|= other.correctnessPassed
        busyNanoseconds &+|= other.busyNanoseconds
        lastErrorMessages.merge(other.lastErrorMessages) { _, new in new }
        goodput &+|= other.goodput
        droppedArrivals &+|= other.droppedArrivals
        shortOutputs &+|= other.shortOutputs
    }

    public var throttled: Int { errorsByClass[ErrorClass.throttled.rawValue] ?? 0 }

    /// The largest count a peer may send in one delta (2^48, about 2.8 × 10^14): far above any real
    /// second of load, and far enough below `Int.max` that sums of such values cannot overflow.
    public static let maxPeerCount = 1 << 48
    /// The largest busy time in one delta: 2^62 ns (146 years of request time).
    public static let maxPeerBusyNanoseconds: Int64 = 1 << 62
    /// Map sizes and message lengths a peer may send.
    static let maxPeerKeys = 64
    static let maxPeerKeyLength = 64
    static let maxPeerMessageLength = 1024

    /// Checks a peer's counters for impossible values. Never traps, whatever the numbers.
    public func check() throws(MetricSetError) {
        let all = [finished, succeeded, failed, inputTokens, inputTokensEstimate, outputTokens, tokenChunks, correctnessChecked, correctnessPassed,
                   goodput, droppedArrivals, shortOutputs]
            + Array(errorsByClass.values) + Array(statusCodes.values) + Array(tokenSources.values)
        guard all.allSatisfy({ $0 >= 0 }), busyNanoseconds >= 0 else { throw .invalid("negative counter") }
        guard all.allSatisfy({ $0 <= Self.maxPeerCount }), busyNanoseconds <= Self.maxPeerBusyNanoseconds else {
            throw .invalid("counter above \(Self.maxPeerCount)")
        }
        for map in [errorsByClass, statusCodes, tokenSources] {
            guard map.count <= Self.maxPeerKeys, map.keys.allSatisfy({ $0.utf8.count <= Self.maxPeerKeyLength }) else {
                throw .invalid("too many or too long counter keys")
            }
        }
        guard lastErrorMessages.count <= Self.maxPeerKeys,
              lastErrorMessages.allSatisfy({ $0.key.utf8.count <= Self.maxPeerKeyLength && $0.value.utf8.count <= Self.maxPeerMessageLength }) else {
            throw .invalid("too many or too long error messages")
        }
        // Each term is at most 2^48, so these sums cannot overflow.
        guard succeeded + failed == finished else { throw .invalid("succeeded + failed != finished") }
        guard correctnessPassed <= correctnessChecked else { throw .invalid("correctness passed > checked") }
        guard goodput <= succeeded else { throw .invalid("goodput > succeeded") }
        guard shortOutputs <= finished else { throw .invalid("short outputs > finished") }
        for key in errorsByClass.keys where ErrorClass(rawValue: key) == nil { throw .invalid("unknown error class '\(key.prefix(64))'") }
    }
}

extension Counters {
    /// Decodes every field as synthesized, except that `shortOutputs` may be absent (a worker of a build
    /// before it): then 0. The wire's range checks (`check()`) apply to it like to every count.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        finished = try c.decode(Int.self, forKey: .finished)
        succeeded = try c.decode(Int.self, forKey: .succeeded)
        failed = try c.decode(Int.self, forKey: .failed)
        errorsByClass = try c.decode([String: Int].self, forKey: .errorsByClass)
        statusCodes = try c.decode([String: Int].self, forKey: .statusCodes)
        inputTokens = try c.decode(Int.self, forKey: .inputTokens)
        inputTokensEstimate = try c.decode(Int.self, forKey: .inputTokensEstimate)
        outputTokens = try c.decode(Int.self, forKey: .outputTokens)
        tokenChunks = try c.decode(Int.self, forKey: .tokenChunks)
        tokenSources = try c.decode([String: Int].self, forKey: .tokenSources)
        correctnessChecked = try c.decode(Int.self, forKey: .correctnessChecked)
        correctnessPassed = try c.decode(Int.self, forKey: .correctnessPassed)
        busyNanoseconds = try c.decode(Int64.self, forKey: .busyNanoseconds)
        lastErrorMessages = try c.decode([String: String].self, forKey: .lastErrorMessages)
        goodput = try c.decode(Int.self, forKey: .goodput)
        droppedArrivals = try c.decode(Int.self, forKey: .droppedArrivals)
        shortOutputs = try c.decodeIfPresent(Int.self, forKey: .shortOutputs) ?? 0
    }
}

public enum MetricSetError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    case histogram(String, SparseHistogram.DecodeError)

    public var description: String {
        switch self {
        case .invalid(let why): "invalid stats: \(why)"
        case .histogram(let name, let error): "invalid histogram '\(name)': \(error)"
        }
    }
}
