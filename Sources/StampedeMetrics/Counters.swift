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
    /// Sum over finished requests of (end − send), in ns: divided by wall time it gives the achieved concurrency.
    public var busyNanoseconds: Int64 = 0
    /// The last error message seen per class (bounded: one per class).
    public var lastErrorMessages: [String: String] = [:]
    /// Succeeded requests that met every per-request SLO bound (goodput).
    public var goodput: Int = 0
    /// Open-loop arrivals not sent because `maxConcurrency` requests were in flight.
    public var droppedArrivals: Int = 0

    public init() {}

    public mutating func add(_ record: RequestRecord) {
        finished += 1
        statusCodes[record.status.map(String.init) ?? "none", default: 0] += 1
        busyNanoseconds += max(0, record.endNs - record.sendNs)
        if let errorClass = record.errorClass {
            failed += 1
            errorsByClass[errorClass.rawValue, default: 0] += 1
            if let message = record.errorMessage { lastErrorMessages[errorClass.rawValue] = String(message.prefix(300)) }
            return
        }
        succeeded += 1
        inputTokens += record.inputTokens
        inputTokensEstimate += record.inputTokensEstimate
        outputTokens += record.outputTokens
        tokenChunks += record.tokenChunkNs.count
        tokenSources[record.tokenSource.rawValue, default: 0] += 1
        if record.sloMet == true { goodput += 1 }
        if let correct = record.correct {
            correctnessChecked += 1
            if correct { correctnessPassed += 1 }
        }
    }

    public mutating func add(_ other: Counters) {
        finished += other.finished
        succeeded += other.succeeded
        failed += other.failed
        errorsByClass.merge(other.errorsByClass, uniquingKeysWith: +)
        statusCodes.merge(other.statusCodes, uniquingKeysWith: +)
        inputTokens += other.inputTokens
        inputTokensEstimate += other.inputTokensEstimate
        outputTokens += other.outputTokens
        tokenChunks += other.tokenChunks
        tokenSources.merge(other.tokenSources, uniquingKeysWith: +)
        correctnessChecked += other.correctnessChecked
        correctnessPassed += other.correctnessPassed
        busyNanoseconds += other.busyNanoseconds
        lastErrorMessages.merge(other.lastErrorMessages) { _, new in new }
        goodput += other.goodput
        droppedArrivals += other.droppedArrivals
    }

    public var throttled: Int { errorsByClass[ErrorClass.throttled.rawValue] ?? 0 }

    /// Checks a peer's counters for impossible values.
    public func check() throws(MetricSetError) {
        let all = [finished, succeeded, failed, inputTokens, inputTokensEstimate, outputTokens, tokenChunks, correctnessChecked, correctnessPassed,
                   goodput, droppedArrivals]
            + Array(errorsByClass.values) + Array(statusCodes.values) + Array(tokenSources.values)
        guard all.allSatisfy({ $0 >= 0 }), busyNanoseconds >= 0 else { throw .invalid("negative counter") }
        guard succeeded + failed == finished else { throw .invalid("succeeded + failed != finished") }
        guard correctnessPassed <= correctnessChecked else { throw .invalid("correctness passed > checked") }
        guard goodput <= succeeded else { throw .invalid("goodput > succeeded") }
        for key in errorsByClass.keys where ErrorClass(rawValue: key) == nil { throw .invalid("unknown error class '\(key)'") }
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
