import StampedeCore
import StampedeMetrics

extension CoordinatorMachine {
    /// The run's results from the merged stats (after `finish`). Pure: hosts and CPU figures come
    /// from the links afterwards (`RunCoordinator.decorate`).
    public func result(reason: StopReason, durationNs: Int64, runId: String, startedAt: String) -> RunResult {
        result(reason: reason, durationNs: durationNs, runId: runId, startedAt: startedAt, running: false)
    }

    /// The results so far, during the run: the same shape as the final ones, over the closed intervals
    /// and everything merged up to `atNs`; live workers show as running, with their last CPU share.
    public func snapshot(atNs now: Int64, runId: String, startedAt: String) -> RunResult {
        result(reason: stopReason ?? .interrupted, durationNs: now, runId: runId, startedAt: startedAt, running: true)
    }

    /// The newest closed interval's merged point, with the generator check's figures.
    public var lastPoint: IntervalPoint? { aggregator.lastClosed.map(withGenerator) }

    /// A point with whether a worker's generator was saturated in it and the highest CPU share.
    private func withGenerator(_ point: IntervalPoint) -> IntervalPoint {
        guard !generators.isEmpty else { return point }
        var point = point
        point.generatorSaturated = saturatedIntervals.contains(point.interval)
        point.generatorCPUShare = intervalCPU[point.interval]
        return point
    }

    private func result(reason: StopReason, durationNs: Int64, runId: String, startedAt: String, running: Bool) -> RunResult {
        let seconds = Double(durationNs) / 1e9
        let overall = StatsSummary(aggregator.total, durationSeconds: seconds)
        let stages = LoadModelResults.stages(plan: plan, sets: aggregator.stages, runNs: durationNs)
        let workers = joinOrder.map { id -> WorkerSummary in
            let tally = aggregator.workers[id]
            let finished = tally?.counters.finished ?? 0
            return WorkerSummary(id: id, host: "", users: shares[id]?.users ?? 0, finished: finished, failed: tally?.counters.failed ?? 0,
                                 requestsPerSecond: Double(finished) / max(seconds, 1e-9),
                                 cpuPercent: running ? generators[id].map { $0.cpuLast * $0.allowanceCores * 100 } : nil,
                                 state: lost.contains(id) ? .lost : running ? .running : .stopped)
        }
        let series = aggregator.series.map(withGenerator)
        var result = RunResult(runId: runId, name: scenario.name, startedAt: startedAt, stopReason: reason, durationSeconds: seconds,
                               scenario: scenario, overall: overall, stages: stages, timeSeries: series, workers: workers,
                               formulas: RunResult.allFormulas)
        result.total = aggregator.total
        result.slo = scenario.slo.map { SLOResult.evaluate($0, summary: overall) }
        result.cost = scenario.pricing.map { CostSummary.compute($0, summary: overall) }
        result.openLoop = scenario.openLoop.map { LoadModelResults.openLoop($0, plan: plan, summary: overall, runNs: durationNs) }
        if !generators.isEmpty {
            result.generator = GeneratorReport(tallies: joinOrder.compactMap { id in generators[id].map { (id, $0) } },
                                               saturatedIntervals: saturatedIntervals.count, policy: saturation)
        }
        return result
    }
}
