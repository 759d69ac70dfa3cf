/// Service-level thresholds such as `ttft_p90<=2s,itl_p95<=80ms,e2e_p99<=30s,error_rate<=1%`
/// (issue: SLOs). Parsing and evaluation live beside this type.
public struct SLO: Codable, Sendable, Equatable {
    /// The expression as the user wrote it.
    public var expression: String

    public init(expression: String) {
        self.expression = expression
    }
}
