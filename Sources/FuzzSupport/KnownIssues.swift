import Foundation
import StampedeCore

/// Crashes the fuzzers found that are reported but not fixed yet (docs/fuzzing.md, "Known crashes").
/// By default the harnesses run into them like any other input, so a fuzz run fails until they are
/// fixed. With `STAMPEDE_FUZZ_AVOID_KNOWN=1` (`scripts/fuzz.sh --avoid-known`) they step around
/// exactly these inputs, so fuzzing can go on to find the next bug. Remove an entry once its fix lands.
public enum KnownIssues {
    public static let avoid = ProcessInfo.processInfo.environment["STAMPEDE_FUZZ_AVOID_KNOWN"] == "1"

    /// K1: `MetricSet.record` converts output tokens/s × 1000 to UInt64 with a trapping conversion
    /// (Sources/StampedeMetrics/MetricSet.swift:65): a record with many output tokens and a tiny E2E
    /// (2^32 tokens in 1 ns passes `RequestRecord.check()`; a target's `usage` can say anything).
    static func outputRateOverflows(_ record: RequestRecord) -> Bool {
        guard let tps = RequestMetrics.outputTokensPerSecond(record) else { return false }
        return !((tps * 1000).rounded() < 18_446_744_073_709_551_616.0)
    }

    /// K2: `LLMPerfExport` adds input and output tokens with `+`, in the summary's total-tokens
    /// histogram and in the individual responses (Sources/StampedeReport/LLMPerfExport.swift:77 and
    /// :112): a target's `usage` of 2^63-1 prompt tokens.
    static func tokenSumOverflows(_ record: RequestRecord) -> Bool {
        record.inputTokens.addingReportingOverflow(record.outputTokens).overflow
    }

    /// Whether to keep `record` away from `MetricSet.record` (K1).
    static func skipMetrics(_ record: RequestRecord) -> Bool { avoid && outputRateOverflows(record) }

    /// Whether to keep `record` away from `LLMPerfExport` (K1: its stage summaries record it; K2).
    static func skipLLMPerf(_ record: RequestRecord) -> Bool { avoid && (outputRateOverflows(record) || tokenSumOverflows(record)) }
}
