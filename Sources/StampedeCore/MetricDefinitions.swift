/// Every latency metric Stampede reports, with the formula it uses. `docs/metrics.md` holds the
/// same text; the console report and the JSON output name each metric by `key` and `formula`.
///
/// Peers disagree on "ITL" and "TPOT"; Stampede reports both common readings under distinct names.
public enum LatencyMetric: String, Sendable, Codable, CaseIterable {
    case ttft
    case ttfat
    case e2e
    case itl
    case llmperfItl = "llmperf_itl"
    case chunkGap = "chunk_gap"
    case scheduleLag = "schedule_lag"

    public var title: String {
        switch self {
        case .ttft: "TTFT"
        case .ttfat: "TTFT (answer)"
        case .e2e: "E2E latency"
        case .itl: "ITL"
        case .llmperfItl: "LLMPerf ITL"
        case .chunkGap: "Chunk gap"
        case .scheduleLag: "Schedule lag"
        }
    }

    public var formula: String {
        switch self {
        case .ttft: "first token-bearing chunk (reasoning included) - scheduled send"
        case .ttfat: "first answer (non-reasoning) chunk - scheduled send"
        case .e2e: "last token-bearing chunk - scheduled send"
        case .itl: "(last token chunk - first token chunk) / (output tokens - 1), per request with >= 2 output tokens"
        case .llmperfItl: "E2E / output tokens, per request (LLMPerf's inter_token_latency, TTFT included)"
        case .chunkGap: "time between consecutive token-bearing chunks, every gap of every request"
        case .scheduleLag: "actual send - scheduled send (0 in a closed loop)"
        }
    }
}

/// Per-request derived values, in nanoseconds. Nil where the metric does not apply.
public enum RequestMetrics {
    public static func ttft(_ r: RequestRecord) -> Int64? {
        guard r.succeeded, let first = r.firstTokenNs else { return nil }
        return first - r.scheduledNs
    }

    public static func ttfat(_ r: RequestRecord) -> Int64? {
        guard r.succeeded, let first = r.firstAnswerTokenNs else { return nil }
        return first - r.scheduledNs
    }

    public static func e2e(_ r: RequestRecord) -> Int64? {
        guard r.succeeded else { return nil }
        return (r.tokenChunkNs.last ?? r.endNs) - r.scheduledNs
    }

    public static func itl(_ r: RequestRecord) -> Int64? {
        guard r.succeeded, r.outputTokens >= 2, let first = r.tokenChunkNs.first, let last = r.tokenChunkNs.last else { return nil }
        return (last - first) / Int64(r.outputTokens - 1)
    }

    public static func llmperfItl(_ r: RequestRecord) -> Int64? {
        guard r.outputTokens >= 1, let e2e = e2e(r) else { return nil }
        return e2e / Int64(r.outputTokens)
    }

    public static func chunkGaps(_ r: RequestRecord) -> [Int64] {
        guard r.succeeded, r.tokenChunkNs.count >= 2 else { return [] }
        return zip(r.tokenChunkNs.dropFirst(), r.tokenChunkNs).map { $0 - $1 }
    }

    public static func scheduleLag(_ r: RequestRecord) -> Int64 {
        max(0, r.sendNs - r.scheduledNs)
    }

    /// Output tokens per second of one request: `output tokens / E2E`.
    public static func outputTokensPerSecond(_ r: RequestRecord) -> Double? {
        guard let e2e = e2e(r), e2e > 0, r.outputTokens > 0 else { return nil }
        return Double(r.outputTokens) / (Double(e2e) / 1e9)
    }

    /// The value of `metric` for one request; chunk gaps give their first gap (use `chunkGaps` for all).
    public static func value(_ metric: LatencyMetric, _ r: RequestRecord) -> Int64? {
        switch metric {
        case .ttft: ttft(r)
        case .ttfat: ttfat(r)
        case .e2e: e2e(r)
        case .itl: itl(r)
        case .llmperfItl: llmperfItl(r)
        case .chunkGap: chunkGaps(r).first
        case .scheduleLag: scheduleLag(r)
        }
    }
}
