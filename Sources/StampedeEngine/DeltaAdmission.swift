import StampedeCore
import StampedeMetrics

/// What a coordinator checks of a worker's delta against its own run before merging it: a delta
/// can only be about a second that has begun on the run clock, and a stage the run has. Pure.
public enum DeltaAdmission {
    /// How far ahead of the coordinator's run clock a worker's interval may be: its clock estimate
    /// can run a little early.
    public static let intervalSlack = 2

    /// Nil when the delta may be merged; otherwise why not.
    public static func refusal(_ delta: IntervalDelta, runIntervalNow: Int, stageCount: Int) -> String? {
        if delta.interval > max(0, runIntervalNow) &+| intervalSlack {
            return "interval \(delta.interval) is ahead of the run clock (interval \(runIntervalNow))"
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
