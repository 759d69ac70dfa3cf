import StampedeCore

/// The verdict of an SLO on a run's merged stats (filled in by the SLO work).
public struct SLOResult: Codable, Sendable, Equatable {
    public var passed: Bool

    public init(passed: Bool) {
        self.passed = passed
    }

    /// Evaluates every clause on the merged stats of all workers.
    public static func evaluate(_ slo: SLO, summary: StatsSummary) -> SLOResult {
        SLOResult(passed: true)
    }
}
