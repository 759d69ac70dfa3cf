import StampedeCore

/// Cost figures of a run (formulas in docs/metrics.md, "Cost"). All amounts in USD.
///
/// - `perToken`: what the run's requests cost under an API's per-token prices.
/// - `dedicated`: what the run cost on a dedicated deployment billed by the hour, spread over what it served
///   at the measured throughput.
/// - `atSustainableRPS`: the dedicated deployment's cost per request and per token if it served the
///   sweep's highest sustainable request rate (set by the sweep with `atSustainableRPS(_:…)`).
public struct CostSummary: Codable, Sendable, Equatable {
    public var pricing: Pricing
    public var perToken: PerTokenCost?
    public var dedicated: DedicatedCost?
    public var atSustainableRPS: CostAtRate?

    public init(pricing: Pricing, perToken: PerTokenCost? = nil, dedicated: DedicatedCost? = nil, atSustainableRPS: CostAtRate? = nil) {
        self.pricing = pricing
        self.perToken = perToken
        self.dedicated = dedicated
        self.atSustainableRPS = atSustainableRPS
    }

    /// Cost under per-token prices. Sums and ratios use the succeeded requests' token totals (failed
    /// requests do not enter the token totals or the per-request distribution).
    public struct PerTokenCost: Codable, Sendable, Equatable {
        /// Cost of each succeeded request: in × price_in / 1e6 + out × price_out / 1e6 (HDR histogram of nano-USD, in USD).
        public var costPerRequest: DistributionStats
        /// Σ input tokens × price_in / 1e6 + Σ output tokens × price_out / 1e6.
        public var totalUSD: Double
        /// totalUSD / succeeded × 1000 (nil when nothing succeeded).
        public var perThousandRequests: Double?
        /// totalUSD / Σ output tokens × 1e6.
        public var perMillionOutputTokens: Double?
        /// totalUSD / (Σ input + Σ output tokens) × 1e6.
        public var perMillionTotalTokens: Double?
    }

    /// Cost of a dedicated deployment at the run's measured throughput.
    public struct DedicatedCost: Codable, Sendable, Equatable {
        /// price per hour × replicas.
        public var deploymentPerHour: Double
        /// deploymentPerHour × duration / 3600: what the measurement window cost.
        public var totalUSD: Double
        /// totalUSD / succeeded = deploymentPerHour / (3600 × succeeded per second).
        public var perRequest: Double?
        /// perRequest × 1000.
        public var perThousandRequests: Double?
        /// totalUSD / Σ output tokens × 1e6.
        public var perMillionOutputTokens: Double?
        /// totalUSD / (Σ input + Σ output tokens) × 1e6.
        public var perMillionTotalTokens: Double?
    }

    /// A dedicated deployment's cost if it served `requestsPerSecond` (e.g. the sweep's maximum
    /// sustainable rate) with requests of the given mean token counts.
    public struct CostAtRate: Codable, Sendable, Equatable {
        public var requestsPerSecond: Double
        /// deploymentPerHour / (3600 × requestsPerSecond).
        public var perRequest: Double
        /// perRequest × 1000.
        public var perThousandRequests: Double
        /// perRequest / mean output tokens × 1e6.
        public var perMillionOutputTokens: Double?
        /// perRequest / (mean input + mean output tokens) × 1e6.
        public var perMillionTotalTokens: Double?
    }

    public static func compute(_ pricing: Pricing, summary: StatsSummary) -> CostSummary {
        let succeeded = Double(summary.requestsSucceeded)
        let outputTokens = Double(summary.outputTokensTotal)
        let totalTokens = Double(summary.inputTokensTotal + summary.outputTokensTotal)
        func ratio(_ amount: Double, _ count: Double, _ scale: Double) -> Double? { count > 0 ? amount / count * scale : nil }

        var result = CostSummary(pricing: pricing)
        if let total = pricing.tokenCostUSD(input: Double(summary.inputTokensTotal), output: outputTokens) {
            result.perToken = PerTokenCost(costPerRequest: summary.costPerRequest, totalUSD: total,
                                           perThousandRequests: ratio(total, succeeded, 1000),
                                           perMillionOutputTokens: ratio(total, outputTokens, 1e6),
                                           perMillionTotalTokens: ratio(total, totalTokens, 1e6))
        }
        if let hourly = pricing.deploymentPerHour {
            let total = hourly * max(0, summary.durationSeconds) / 3600
            result.dedicated = DedicatedCost(deploymentPerHour: hourly, totalUSD: total,
                                             perRequest: ratio(total, succeeded, 1), perThousandRequests: ratio(total, succeeded, 1000),
                                             perMillionOutputTokens: ratio(total, outputTokens, 1e6),
                                             perMillionTotalTokens: ratio(total, totalTokens, 1e6))
        }
        return result
    }

    /// A dedicated deployment's cost at `rps` requests per second — for the sweep's maximum sustainable
    /// rate. Nil without an hourly price or when `rps` is not positive.
    ///
    ///     perRequest             = price per hour × replicas / (3600 × rps)
    ///     perThousandRequests    = perRequest × 1000
    ///     perMillionOutputTokens = perRequest / meanOutputTokens × 1e6
    ///     perMillionTotalTokens  = perRequest / (meanInputTokens + meanOutputTokens) × 1e6
    public static func atSustainableRPS(_ rps: Double, pricing: Pricing, meanOutputTokens: Double,
                                        meanInputTokens: Double) -> CostAtRate? {
        guard let hourly = pricing.deploymentPerHour, rps > 0, rps.isFinite else { return nil }
        let perRequest = hourly / (3600 * rps)
        let total = meanInputTokens + meanOutputTokens
        return CostAtRate(requestsPerSecond: rps, perRequest: perRequest, perThousandRequests: perRequest * 1000,
                          perMillionOutputTokens: meanOutputTokens > 0 ? perRequest / meanOutputTokens * 1e6 : nil,
                          perMillionTotalTokens: total > 0 ? perRequest / total * 1e6 : nil)
    }

    /// The same figures with `atSustainableRPS` filled in from the sweep's rate and a summary's mean
    /// token counts per succeeded request (e.g. the sustainable step's summary). Unchanged without an hourly price.
    public func withSustainableRPS(_ rps: Double, summary: StatsSummary) -> CostSummary {
        let succeeded = Double(max(1, summary.requestsSucceeded))
        var copy = self
        copy.atSustainableRPS = Self.atSustainableRPS(rps, pricing: pricing,
                                                      meanOutputTokens: Double(summary.outputTokensTotal) / succeeded,
                                                      meanInputTokens: Double(summary.inputTokensTotal) / succeeded)
        return copy
    }
}
