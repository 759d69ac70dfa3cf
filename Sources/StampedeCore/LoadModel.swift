import Foundation

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
    public func validate() throws(ScenarioError) {
        guard rate > 0, rate.isFinite, rate <= 1_000_000 else {
            throw ScenarioError(flag: "--rate", message: "must be a positive number of requests per second up to 1000000 (got \(rate))")
        }
        guard burstiness > 0, burstiness.isFinite, burstiness <= 1000 else {
            throw ScenarioError(flag: "--burstiness", message: "must be a positive number up to 1000 (got \(burstiness)); 1 is Poisson, below 1 burstier")
        }
        if let maxConcurrency, !(1...Scenario.Limits.concurrency).contains(maxConcurrency) {
            throw ScenarioError(flag: "--max-concurrency", message: "must be between 1 and \(Scenario.Limits.concurrency) (got \(maxConcurrency))")
        }
    }
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

    /// A short label: `5 users for 60s`, `0.5 req/s for 1m`.
    public var label: String {
        let duration = Duration.nanoseconds(Int64((durationSeconds * 1e9).rounded())).shortLabel
        if let users { return "\(users) user\(users == 1 ? "" : "s") for \(duration)" }
        if let rate { return "\(Self.format(rate)) req/s for \(duration)" }
        return "for \(duration)"
    }

    /// A rate or count as labels show it (`2`, `0.5`).
    public static func format(_ value: Double) -> String {
        value.rounded() == value && abs(value) < 1e15 ? "\(Int(value))" : "\(value)"
    }

    /// Parses `--stages`: comma-separated `<users>u:<duration>` or `<rate>r:<duration>` steps, e.g.
    /// `1u:30s,5u:60s,10u:60s` or `0.5r:60s,1r:60s`. All steps must be of one kind.
    public static func parseList(_ text: String) throws(ScenarioError) -> [Stage] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var stages: [Stage] = []
        for part in parts {
            let fail = ScenarioError(flag: "--stages", message: "'\(part)' is not a stage; write <users>u:<duration> or <rate>r:<duration>, e.g. 5u:60s or 0.5r:1m")
            let pieces = part.split(separator: ":", maxSplits: 1).map(String.init)
            guard pieces.count == 2, let kind = pieces[0].last, kind == "u" || kind == "r" else { throw fail }
            let number = String(pieces[0].dropLast())
            let duration: Duration
            do { duration = try DurationParsing.parse(pieces[1]) } catch {
                throw ScenarioError(flag: "--stages", message: fail.message + " (the duration: \(error.reason))")
            }
            if kind == "u" {
                guard let users = Int(number) else { throw fail }
                stages.append(Stage(users: users, durationSeconds: duration.seconds))
            } else {
                guard let rate = Double(number) else { throw fail }
                stages.append(Stage(rate: rate, durationSeconds: duration.seconds))
            }
        }
        try validate(stages, openLoop: nil)
        return stages
    }

    /// Checks a list of stages: not empty, each with users or a rate (not both), all of one kind,
    /// positive durations. A rate list needs an open loop (the caller makes one); a users list must not have one.
    public static func validate(_ stages: [Stage], openLoop: OpenLoop?) throws(ScenarioError) {
        guard !stages.isEmpty else { throw ScenarioError(flag: "--stages", message: "give at least one stage") }
        guard stages.count <= 1000 else { throw ScenarioError(flag: "--stages", message: "at most 1000 stages (got \(stages.count))") }
        for (index, stage) in stages.enumerated() {
            let name = "stage \(index + 1)"
            guard (stage.users == nil) != (stage.rate == nil) else {
                throw ScenarioError(flag: "--stages", message: "\(name) must give users or a rate, not both")
            }
            if let users = stage.users, users < 1 || users > 1_000_000 {
                throw ScenarioError(flag: "--stages", message: "\(name): users must be between 1 and 1000000 (got \(users))")
            }
            if let rate = stage.rate, !(rate > 0 && rate.isFinite && rate <= 1_000_000) {
                throw ScenarioError(flag: "--stages", message: "\(name): rate must be a positive number of requests per second (got \(rate))")
            }
            guard stage.durationSeconds > 0, stage.durationSeconds.isFinite else {
                throw ScenarioError(flag: "--stages", message: "\(name): duration must be positive")
            }
        }
        // Each stage is at most the limit, so the sum of at most 1000 of them is finite.
        let total = stages.reduce(0) { $0 + $1.durationSeconds }
        guard total <= Scenario.Limits.durationSeconds else {
            throw ScenarioError(flag: "--stages", message: "the stages last more than \(Int(Scenario.Limits.durationSeconds / 86_400)) days in all")
        }
        let byRate = stages[0].rate != nil
        guard stages.allSatisfy({ ($0.rate != nil) == byRate }) else {
            throw ScenarioError(flag: "--stages", message: "stages must all step users (u) or all step rates (r), not both")
        }
        if let openLoop, !byRate {
            throw ScenarioError(flag: "--stages", message: "user stages (u) are closed loop; drop --rate (\(openLoop.rate)) or step rates (r)")
        }
    }
}

extension Scenario {
    /// The stages' total duration (nil without stages).
    public var stagesDurationSeconds: Double? {
        stages.map { $0.reduce(0) { $0 + $1.durationSeconds } }
    }

    /// The most requests the load model can have in flight at once on the whole cluster (a hint for
    /// HTTP connection pools): users (the largest stage) in a closed loop; the concurrency cap, or
    /// 1024, in an open loop.
    public var peakConcurrency: Int {
        if let openLoop { return openLoop.maxConcurrency ?? 1024 }
        return max(users, stages?.compactMap(\.users).max() ?? 0)
    }
}
