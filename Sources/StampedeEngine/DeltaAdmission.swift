import StampedeCore
import StampedeMetrics

/// What a coordinator checks of a worker's delta against its own run before merging it: a delta
/// can only be about time that has begun on the run clock, its interval index must match its
/// bounds, and its stages must be the run's. Pure. (Together these bound the time series by the
/// run's length: a delta claiming interval 10^8 is refused instead of filling 10^8 points.)
public enum DeltaAdmission {
    /// How far ahead of the coordinator's run clock a worker's interval may start: its clock
    /// estimate can run a little early.
    public static let slackNs: Int64 = 2_000_000_000
    /// The shortest interval a worker may use (1 s in production; tests use 100 ms).
    public static let minIntervalNs: Int64 = 10_000_000

    /// Nil when the delta may be merged; otherwise why not.
    public static func refusal(_ delta: IntervalDelta, runClockNs: Int64, stageCount: Int) -> String? {
        let length = delta.endNs.saturatingSubtract(delta.startNs)
        guard length >= minIntervalNs else { return "interval shorter than \(minIntervalNs / 1_000_000) ms" }
        guard Int64(delta.interval).saturatingMultiply(length) == delta.startNs else {
            return "interval \(delta.interval) does not match its bounds"
        }
        if delta.startNs > max(0, runClockNs).saturatingAdd(slackNs) {
            return "interval \(delta.interval) starts at \(delta.startNs / 1_000_000) ms, ahead of the run clock (\(runClockNs / 1_000_000) ms)"
        }
        if let stage = delta.stages.keys.first(where: { $0 < 0 || $0 >= stageCount }) {
            return "stage \(stage) is not one of the run's \(stageCount)"
        }
        if let stage = delta.records.first(where: { $0.stage < 0 || $0.stage >= stageCount })?.stage {
            return "a record of stage \(stage), not one of the run's \(stageCount)"
        }
        return nil
    }
}
