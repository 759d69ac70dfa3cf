/// Service-level thresholds such as `ttft_p90<=2s,itl_p95<=80ms,e2e_p99<=30s,error_rate<=1%`
/// (issue: SLOs). Parsing and evaluation live beside this type.
public struct SLO: Codable, Sendable, Equatable {
    /// The expression as the user wrote it.
    public var expression: String

    public init(expression: String) {
        self.expression = expression
    }

    /// Whether one succeeded request meets every per-request bound (TTFT, ITL, E2E …). Filled in by the SLO work.
    public func isMet(by record: RequestRecord) -> Bool? { nil }

    /// Rejects a malformed expression; the error names `--slo`.
    public func validate() throws(ScenarioError) {}
}
