/// How requests arrive in an open loop (issue: load models).
public enum ArrivalProcess: String, Codable, Sendable, CaseIterable {
    /// Evenly spaced: one request every 1/rate seconds.
    case constant
    /// Exponential gaps with mean 1/rate.
    case poisson
    /// Gamma-distributed gaps with mean 1/rate and shape `burstiness` (1 is Poisson; < 1 burstier).
    case gamma
}

/// Open-loop load: requests are sent on a schedule, whether or not earlier ones have finished.
public struct OpenLoop: Codable, Sendable, Equatable {
    /// Requests per second, in total across the cluster.
    public var rate: Double
    public var arrival: ArrivalProcess
    /// Gamma shape; 1 is Poisson.
    public var burstiness: Double
    /// At most this many requests in flight (in total); arrivals beyond it are dropped and counted.
    public var maxConcurrency: Int?

    public init(rate: Double, arrival: ArrivalProcess = .poisson, burstiness: Double = 1, maxConcurrency: Int? = nil) {
        self.rate = rate
        self.arrival = arrival
        self.burstiness = burstiness
        self.maxConcurrency = maxConcurrency
    }

    /// Rejects impossible values; the error names the flag.
    public func validate() throws(ScenarioError) {}
}

/// One step of a staged run: users (closed loop) or a rate (open loop), held for a duration.
public struct Stage: Codable, Sendable, Equatable {
    public var users: Int?
    public var rate: Double?
    public var durationSeconds: Double

    public init(users: Int? = nil, rate: Double? = nil, durationSeconds: Double) {
        self.users = users
        self.rate = rate
        self.durationSeconds = durationSeconds
    }
}
