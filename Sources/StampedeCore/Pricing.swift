/// What the target costs (issue: cost). Either a dedicated deployment's hourly price, or an API's
/// per-token prices, or both. Formulas in docs/metrics.md, "Cost".
public struct Pricing: Codable, Sendable, Equatable {
    /// USD per hour for one replica of a dedicated deployment (e.g. 4×A100).
    public var pricePerHour: Double?
    /// Replicas of the deployment the hourly price applies to.
    public var replicas: Int
    /// USD per million input tokens.
    public var inputPerMTok: Double?
    /// USD per million output tokens.
    public var outputPerMTok: Double?

    public init(pricePerHour: Double? = nil, replicas: Int = 1, inputPerMTok: Double? = nil, outputPerMTok: Double? = nil) {
        self.pricePerHour = pricePerHour
        self.replicas = replicas
        self.inputPerMTok = inputPerMTok
        self.outputPerMTok = outputPerMTok
    }

    /// Whether per-token prices are set (either one; a missing one counts as 0).
    public var hasPerTokenPrices: Bool { inputPerMTok != nil || outputPerMTok != nil }

    /// USD per hour for the whole deployment: price per hour × replicas (nil without an hourly price).
    public var deploymentPerHour: Double? { pricePerHour.map { $0 * Double(replicas) } }

    /// USD for `input` and `output` tokens under the per-token prices (nil without them):
    /// `input × inputPerMTok / 1e6 + output × outputPerMTok / 1e6`.
    public func tokenCostUSD(input: Double, output: Double) -> Double? {
        guard hasPerTokenPrices else { return nil }
        return (input * (inputPerMTok ?? 0) + output * (outputPerMTok ?? 0)) / 1e6
    }

    /// One request's cost under the per-token prices, micro-USD (nil without per-token prices):
    /// `input tokens × inputPerMTok + output tokens × outputPerMTok` (USD per million tokens × tokens
    /// is micro-USD). Uses the record's token counts (the server's when it gave them).
    public func costMicroUSD(of record: RequestRecord) -> Double? {
        guard hasPerTokenPrices else { return nil }
        return Double(max(0, record.inputTokens)) * (inputPerMTok ?? 0) + Double(max(0, record.outputTokens)) * (outputPerMTok ?? 0)
    }

    /// Rejects negative prices or replicas; the error names the flag.
    public func validate() throws(ScenarioError) {
        func check(_ value: Double?, _ flag: String, _ unit: String) throws(ScenarioError) {
            guard let value else { return }
            guard value.isFinite, value >= 0 else {
                throw ScenarioError(flag: flag, message: "must be a non-negative number of \(unit) (got \(value))")
            }
        }
        try check(pricePerHour, "--price-per-hour", "USD per hour")
        try check(inputPerMTok, "--price-input-per-mtok", "USD per million input tokens")
        try check(outputPerMTok, "--price-output-per-mtok", "USD per million output tokens")
        guard replicas >= 1 else { throw ScenarioError(flag: "--replicas", message: "must be at least 1 (got \(replicas))") }
        guard pricePerHour != nil || hasPerTokenPrices else {
            throw ScenarioError(flag: "--price-per-hour", message: "give --price-per-hour and/or --price-input-per-mtok/--price-output-per-mtok")
        }
    }
}
