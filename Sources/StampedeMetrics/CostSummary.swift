import StampedeCore

/// Cost figures of a run (filled in by the cost work; formulas in docs/metrics.md).
public struct CostSummary: Codable, Sendable, Equatable {
    public init() {}

    public static func compute(_ pricing: Pricing, summary: StatsSummary) -> CostSummary {
        CostSummary()
    }
}
