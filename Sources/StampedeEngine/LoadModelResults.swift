import StampedeCore
import StampedeMetrics

/// The per-stage blocks and open-loop figures of a run's result. Pure functions.
enum LoadModelResults {
    /// One block per stage the run reached (with no stages: one block per stage index seen, i.e. stage 0).
    /// Each block's duration is the part of its stage inside the run.
    static func stages(plan: StagePlan, sets: [Int: MetricSet], runNs: Int64) -> [StageResult] {
        let runSeconds = Double(runNs) / 1e9
        guard !plan.isEmpty else {
            return sets.keys.sorted().map {
                StageResult(index: $0, label: "stage \($0)", summary: StatsSummary(sets[$0]!, durationSeconds: runSeconds), total: sets[$0]!)
            }
        }
        return plan.steps.filter { $0.startNs < max(runNs, 1) || sets[$0.index] != nil }.map { step in
            StageResult(index: step.index, label: step.label,
                        summary: StatsSummary(sets[step.index] ?? MetricSet(), durationSeconds: plan.seconds(ofStage: step.index, runNs: runNs)),
                        users: step.users, rate: step.rate, startSeconds: Double(step.startNs) / 1e9, total: sets[step.index] ?? MetricSet())
        }
    }

    static func openLoop(_ open: OpenLoop, plan: StagePlan, summary: StatsSummary, runNs: Int64) -> OpenLoopResult {
        let lag = summary[.scheduleLag]
        return OpenLoopResult(arrival: open.arrival, burstiness: open.burstiness, maxConcurrency: open.maxConcurrency,
                              requestedRate: meanRate(plan.rateSegments(fallback: open.rate), untilNs: runNs),
                              achievedRate: summary.requestsPerSecond, droppedArrivals: summary.droppedArrivals,
                              scheduleLagP50Seconds: lag.count > 0 ? lag.p50 : nil, scheduleLagP99Seconds: lag.count > 0 ? lag.p99 : nil)
    }

    /// Expected arrivals in [0, `untilNs`] divided by the time: the time-weighted mean of the rate.
    static func meanRate(_ segments: [RateSegment], untilNs: Int64) -> Double {
        guard untilNs > 0 else { return segments.first?.rate ?? 0 }
        var arrivals = 0.0
        for (index, segment) in segments.enumerated() where segment.startNs < untilNs {
            let end = index + 1 < segments.count ? min(segments[index + 1].startNs, untilNs) : untilNs
            arrivals += segment.rate * Double(end - segment.startNs) / 1e9
        }
        return arrivals / (Double(untilNs) / 1e9)
    }
}
