import StampedeEngine

extension ConsoleReport {
    /// The generator self-check: one line when every worker had headroom, a warning per saturated worker.
    static func generatorLines(_ result: RunResult) -> [String] {
        guard let generator = result.generator else { return [] }
        let pct = { (share: Double) in Fmt.fixed(share * 100, 0) + "%" }
        var out = [""]
        let workers = generator.workers.count == 1 ? "1 worker" : "\(generator.workers.count) workers"
        out.append("Generator self-check (\(workers)): CPU max \(pct(generator.cpuShareMax)) of its allowance, event-loop lag p99 "
            + "\(Fmt.fixed(generator.loopLagP99Ms, 1)) ms; saturated in \(generator.saturatedIntervals) interval(s)")
        for worker in generator.workers where worker.saturated {
            out.append("  WARNING: worker \(worker.id)'s load generator was saturated in \(worker.saturatedIntervals) of "
                + "\(worker.sampledIntervals) intervals (\(worker.reasons.joined(separator: "; "))): these figures may measure the "
                + "generator, not the server. Add workers or give them more CPU.")
        }
        return out
    }
}
