import Foundation
import StampedeCore

/// Crashes the fuzzers found that are reported but not fixed yet (docs/fuzzing.md, "Known crashes").
/// By default the harnesses run into them like any other input, so a fuzz run fails until they are
/// fixed. With `STAMPEDE_FUZZ_AVOID_KNOWN=1` (`scripts/fuzz.sh --avoid-known`) they step around
/// exactly these inputs, so fuzzing can go on to find the next bug. Add an entry (a predicate on the
/// input) when a crash is reported; remove it once its fix lands.
///
/// None now: K1 (output rate x 1000 past UInt64 in `MetricSet.record`) and K2 (input + output tokens
/// in `LLMPerfExport`) were fixed with `MetricHistogram.record(rounding:)` and saturating sums; their
/// reproducers stay in the corpus as regression seeds.
public enum KnownIssues {
    public static let avoid = ProcessInfo.processInfo.environment["STAMPEDE_FUZZ_AVOID_KNOWN"] == "1"

    /// Whether to keep `record` away from `MetricSet.record`.
    static func skipMetrics(_ record: RequestRecord) -> Bool { false }

    /// Whether to keep `record` away from `LLMPerfExport`.
    static func skipLLMPerf(_ record: RequestRecord) -> Bool { false }
}
