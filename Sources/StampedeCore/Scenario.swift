/// A normal length distribution, clamped to at least 1 (LLMPerf's `--mean-input-tokens 550 --stddev-input-tokens 150`).
public struct LengthSpec: Codable, Sendable, Equatable {
    public var mean: Int
    public var stddev: Int

    /// The largest mean a scenario may ask for, input or output: 200,000 tokens, above the context
    /// of most served models (a prompt costs about 12 bytes a token to build, so 2.4 MB a request).
    public static let maximumMean = 200_000
    /// The largest standard deviation.
    public static let maximumStddev = 200_000
    /// Every drawn length is clamped to this (and to at least 1): a mean and stddev at their limits
    /// cannot draw a 10 MB prompt.
    public static let maximumDrawn = 1_000_000

    public init(mean: Int, stddev: Int) {
        self.mean = mean
        self.stddev = stddev
    }
}

/// Everything a worker needs to generate load. It travels to workers in the `start` message, so it
/// holds no secret: the API key is read on each worker from the environment variable `apiKeyEnv`.
///
/// `validate()` range-checks every number (flags, config files and a coordinator's `start` message all
/// go through it), so that no arithmetic on a valid scenario can overflow: see `Scenario.Limits`.
public struct Scenario: Codable, Sendable, Equatable {
    /// The largest values a scenario may hold. Each is far beyond a sane load test and small enough
    /// that sums and products of them (nanosecond clocks, budgets, rates x durations) fit in 64 bits.
    public enum Limits {
        /// Users in total, and in any stage.
        public static let users = 1_000_000
        /// Users started per second; also the largest open-loop rate (requests per second).
        public static let rate = 1_000_000.0
        /// Run time, request timeout, any stage, and all stages together: 30 days.
        public static let durationSeconds = 30.0 * 86_400
        /// `--max-requests`.
        public static let requests = 1_000_000_000_000
        /// `--max-concurrency`.
        public static let concurrency = 1_000_000
    }

    /// Base URL of the target, e.g. `http://127.0.0.1:8000`. The dialect's path is appended.
    public var target: String
    public var api: APIDialect
    public var model: String
    /// Name of the environment variable that holds the API key (sent as `Authorization: Bearer`).
    public var apiKeyEnv: String
    /// Merged into every request body.
    public var extraBody: JSONValue?
    public var requestTimeoutSeconds: Double

    /// Closed-loop users, in total across the cluster.
    public var users: Int
    /// Users started per second, in total across the cluster.
    public var spawnRate: Double
    /// Stop after this long (measured from the first user's start).
    public var runTimeSeconds: Double?
    /// Stop after this many requests have been sent and finished.
    public var maxRequests: Int?

    public var input: LengthSpec
    public var output: LengthSpec
    public var seed: UInt64
    /// Prefix each prompt with the numerals-to-digits check.
    public var correctness: Bool
    /// A label for reports and file names.
    public var name: String
    /// Workers ship every raw `RequestRecord` to the coordinator (for `--requests-jsonl` and `--llmperf-dir`).
    public var collectRecords: Bool
    /// Open-loop arrivals instead of closed-loop users (nil: closed loop).
    public var openLoop: OpenLoop?
    /// Stepped users or rates; each stage gets its own stats block (nil: one stage).
    public var stages: [Stage]?
    /// Thresholds evaluated on the merged stats; they also define per-request goodput.
    public var slo: SLO?
    /// Prices for the cost report.
    public var pricing: Pricing?
    /// When a worker's load generator counts as saturated (nil: the documented defaults).
    public var saturation: SaturationLimits?
    /// `--min-output-ratio`: an answer with fewer output tokens than this × `max_tokens` fails as
    /// `short_output` (nil: off). 0 < R ≤ 1.
    public var minOutputRatio: Double?

    public init(target: String, api: APIDialect = .chat, model: String = "stampede-mock", apiKeyEnv: String = "OPENAI_API_KEY",
                extraBody: JSONValue? = nil, requestTimeoutSeconds: Double = 600, users: Int = 1, spawnRate: Double = 1,
                runTimeSeconds: Double? = nil, maxRequests: Int? = nil,
                input: LengthSpec = LengthSpec(mean: 550, stddev: 150), output: LengthSpec = LengthSpec(mean: 150, stddev: 20),
                seed: UInt64 = 0, correctness: Bool = false, name: String = "stampede", collectRecords: Bool = false) {
        self.target = target
        self.api = api
        self.model = model
        self.apiKeyEnv = apiKeyEnv
        self.extraBody = extraBody
        self.requestTimeoutSeconds = requestTimeoutSeconds
        self.users = users
        self.spawnRate = spawnRate
        self.runTimeSeconds = runTimeSeconds
        self.maxRequests = maxRequests
        self.input = input
        self.output = output
        self.seed = seed
        self.correctness = correctness
        self.name = name
        self.collectRecords = collectRecords
    }

    /// Checks values that flags and config files can get wrong. The error names the flag.
    public func validate() throws(ScenarioError) {
        try saturation?.validate()
        let maxDuration = Limits.durationSeconds
        let days = Int(maxDuration / 86_400)
        guard (1...Limits.users).contains(users) else {
            throw ScenarioError(flag: "--users", message: users < 1 ? "must be at least 1 (got \(users))" : "must be at most \(Limits.users) (got \(users))")
        }
        guard spawnRate > 0, spawnRate.isFinite, spawnRate <= Limits.rate else {
            throw ScenarioError(flag: "--spawn-rate", message: "must be a positive number of users per second up to \(Int(Limits.rate)) (got \(spawnRate))")
        }
        if let runTimeSeconds, !(runTimeSeconds > 0 && runTimeSeconds <= maxDuration) {
            throw ScenarioError(flag: "--run-time", message: runTimeSeconds > maxDuration ? "must be at most \(days) days" : "must be positive")
        }
        if let maxRequests, !(1...Limits.requests).contains(maxRequests) {
            throw ScenarioError(flag: "--max-requests", message: "must be between 1 and \(Limits.requests) (got \(maxRequests))")
        }
        guard runTimeSeconds != nil || maxRequests != nil else {
            throw ScenarioError(flag: "--run-time", message: "give --run-time and/or --max-requests so that the run is bounded")
        }
        guard requestTimeoutSeconds > 0, requestTimeoutSeconds <= maxDuration else {
            throw ScenarioError(flag: "--request-timeout", message: requestTimeoutSeconds > maxDuration ? "must be at most \(days) days" : "must be positive")
        }
        try Self.check(input, meanFlag: "--mean-input-tokens", stddevFlag: "--stddev-input-tokens")
        try Self.check(output, meanFlag: "--mean-output-tokens", stddevFlag: "--stddev-output-tokens")
        try TargetURL.validate(target)
        if let extraBody, extraBody.objectValue == nil {
            throw ScenarioError(flag: "--extra-body", message: "must be a JSON object, e.g. '{\"temperature\": 0}'")
        }
        try openLoop?.validate()
        if let stages { try Stage.validate(stages, openLoop: openLoop) }
        try slo?.validate()
        try pricing?.validate()
        if let minOutputRatio, !(minOutputRatio > 0 && minOutputRatio <= 1) {
            throw ScenarioError(flag: "--min-output-ratio", message: "must be a number above 0 and at most 1 (got \(minOutputRatio))")
        }
    }
}

extension Scenario {
    static func check(_ spec: LengthSpec, meanFlag: String, stddevFlag: String) throws(ScenarioError) {
        guard (1...LengthSpec.maximumMean).contains(spec.mean) else {
            throw ScenarioError(flag: meanFlag, message: "must be between 1 and \(LengthSpec.maximumMean) tokens (got \(spec.mean))")
        }
        guard (0...LengthSpec.maximumStddev).contains(spec.stddev) else {
            throw ScenarioError(flag: stddevFlag, message: "must be between 0 and \(LengthSpec.maximumStddev) tokens (got \(spec.stddev))")
        }
    }
}

public struct ScenarioError: Error, CustomStringConvertible, Equatable {
    public let flag: String
    public let message: String

    public init(flag: String, message: String) {
        self.flag = flag
        self.message = message
    }

    public var description: String { "\(flag): \(message)" }
}

/// Target URL checks, without Foundation's URL (it accepts almost anything).
public enum TargetURL {
    /// Accepts `http://host[:port][/base]` and `https://…`.
    public static func validate(_ text: String) throws(ScenarioError) {
        let error = ScenarioError(flag: "--target", message: "'\(text)' is not an http(s) URL such as http://127.0.0.1:8000")
        let rest: Substring
        if text.hasPrefix("http://") { rest = text.dropFirst(7) } else if text.hasPrefix("https://") { rest = text.dropFirst(8) } else { throw error }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains(" "), !authority.contains("@") else { throw error }
        var host = Substring(authority)
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw error }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw error }
                port = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        guard !host.isEmpty else { throw error }
        if let port {
            guard let number = Int(port), (1...65535).contains(number) else { throw error }
        }
    }
}

/// Thresholds of the generator self-check (docs/metrics.md, "Generator self-check"), where a run
/// sets its own; nil fields keep the defaults.
public struct SaturationLimits: Codable, Sendable, Equatable {
    /// CPU share of the allowance at or above which an interval is saturated (0 < x ≤ 1024).
    public var cpuShare: Double?
    /// p99 event-loop or schedule lag, ms, at or above which an interval is saturated (0 < x ≤ 3,600,000).
    public var lagMs: Double?

    public init(cpuShare: Double? = nil, lagMs: Double? = nil) {
        self.cpuShare = cpuShare
        self.lagMs = lagMs
    }

    public func validate() throws(ScenarioError) {
        if let cpuShare, !(cpuShare > 0 && cpuShare <= 1024) {
            throw ScenarioError(flag: "--saturation-cpu", message: "must be above 0 and at most 1024 (got \(cpuShare))")
        }
        if let lagMs, !(lagMs > 0 && lagMs <= 3_600_000) {
            throw ScenarioError(flag: "--saturation-lag-ms", message: "must be above 0 and at most 3600000 (got \(lagMs))")
        }
    }
}
