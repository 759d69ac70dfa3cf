/// A normal length distribution, clamped to at least 1 (LLMPerf's `--mean-input-tokens 550 --stddev-input-tokens 150`).
public struct LengthSpec: Codable, Sendable, Equatable {
    public var mean: Int
    public var stddev: Int

    public init(mean: Int, stddev: Int) {
        self.mean = mean
        self.stddev = stddev
    }
}

/// Everything a worker needs to generate load. It travels to workers in the `start` message, so it
/// holds no secret: the API key is read on each worker from the environment variable `apiKeyEnv`.
public struct Scenario: Codable, Sendable, Equatable {
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
        guard users >= 1 else { throw ScenarioError(flag: "--users", message: "must be at least 1 (got \(users))") }
        guard spawnRate > 0, spawnRate.isFinite else { throw ScenarioError(flag: "--spawn-rate", message: "must be a positive number of users per second (got \(spawnRate))") }
        if let runTimeSeconds, !(runTimeSeconds > 0) { throw ScenarioError(flag: "--run-time", message: "must be positive") }
        if let maxRequests, maxRequests < 1 { throw ScenarioError(flag: "--max-requests", message: "must be at least 1 (got \(maxRequests))") }
        guard runTimeSeconds != nil || maxRequests != nil else {
            throw ScenarioError(flag: "--run-time", message: "give --run-time and/or --max-requests so that the run is bounded")
        }
        guard requestTimeoutSeconds > 0 else { throw ScenarioError(flag: "--request-timeout", message: "must be positive") }
        guard input.mean >= 1 else { throw ScenarioError(flag: "--mean-input-tokens", message: "must be at least 1 (got \(input.mean))") }
        guard input.stddev >= 0 else { throw ScenarioError(flag: "--stddev-input-tokens", message: "must not be negative (got \(input.stddev))") }
        guard output.mean >= 1 else { throw ScenarioError(flag: "--mean-output-tokens", message: "must be at least 1 (got \(output.mean))") }
        guard output.stddev >= 0 else { throw ScenarioError(flag: "--stddev-output-tokens", message: "must not be negative (got \(output.stddev))") }
        try TargetURL.validate(target)
        if let extraBody, extraBody.objectValue == nil {
            throw ScenarioError(flag: "--extra-body", message: "must be a JSON object, e.g. '{\"temperature\": 0}'")
        }
        try openLoop?.validate()
        try slo?.validate()
        try pricing?.validate()
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
