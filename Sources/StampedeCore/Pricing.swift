/// What the target costs (issue: cost). Either a dedicated deployment's hourly price, or an API's
/// per-token prices, or both.
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

    /// One request's cost under the per-token prices, micro-USD (nil without per-token prices).
    public func costMicroUSD(of record: RequestRecord) -> Double? { nil }

    /// Rejects negative prices or replicas; the error names the flag.
    public func validate() throws(ScenarioError) {}
}
