import Foundation
import ArgumentParser
import StampedeCore

/// The flags that describe the load. Shared by `run` and `coordinator`.
struct LoadOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Base URL of the target, e.g. http://127.0.0.1:8000. Omit it to start the built-in simulated server.", valueName: "url"))
    var target: String?

    @Option(help: ArgumentHelp("API dialect: chat (/v1/chat/completions), completions (/v1/completions) or tgi (/generate_stream).", valueName: "dialect"))
    var api: APIDialect = .chat

    @Option(help: "Model name sent to the server.")
    var model: String = "stampede-mock"

    @Option(help: ArgumentHelp("Name of the environment variable holding the API key (sent as a Bearer token; never logged).", valueName: "name"))
    var apiKeyEnv: String = "OPENAI_API_KEY"

    @Option(help: ArgumentHelp("JSON object merged into every request body, e.g. '{\"temperature\": 0, \"ignore_eos\": true}'. For tgi it is merged into `parameters`.", valueName: "json"))
    var extraBody: String?

    @Option(help: ArgumentHelp("Per-request timeout, e.g. 60s or 10m. A request past it counts as a `timeout` error.", valueName: "duration"))
    var requestTimeout: String = "600s"

    @Option(help: "Closed-loop users, in total (Locust semantics: each user sends its next request when the previous one ends). Default 1.")
    var users: Int?

    @Option(help: ArgumentHelp("Users started per second, in total, until --users are running. Default 1.", valueName: "users/s"))
    var spawnRate: Double?

    /// Whether the load was given (so `coordinator --web` starts at once rather than waiting for the page).
    var presetUsers: Bool { users != nil || spawnRate != nil }

    @Option(help: ArgumentHelp("Stop after this long, e.g. 90s or 5m. Default 60s when --max-requests is not given either.", valueName: "duration"))
    var runTime: String?

    @Option(help: "Stop after this many requests have finished (successfully or not).")
    var maxRequests: Int?

    @Option(help: ArgumentHelp("Mean prompt length in tokens, up to 200000 (normal distribution; each draw clamped to 1...1000000).", valueName: "tokens"))
    var meanInputTokens: Int = 550
    @Option(help: ArgumentHelp("Standard deviation of the prompt length, in tokens (up to 200000).", valueName: "tokens"))
    var stddevInputTokens: Int = 150
    @Option(help: ArgumentHelp("Mean output length in tokens, up to 200000; sent as max_tokens (each draw clamped to 1...1000000).", valueName: "tokens"))
    var meanOutputTokens: Int = 150
    @Option(help: ArgumentHelp("Standard deviation of the output length, in tokens (up to 200000).", valueName: "tokens"))
    var stddevOutputTokens: Int = 20

    @Option(help: "Seed for prompt and length draws: the same seed gives the same requests.")
    var seed: UInt64 = 0

    @Flag(help: "Prefix each prompt with a number in words and check that the reply contains its digits (LLMPerf's correctness check).")
    var correctness = false

    @Option(help: ArgumentHelp("Fail a request as `short_output` when its output tokens are below R x max_tokens (0 < R <= 1; off by default). Answers shorter than max_tokens count as short outputs anyway when --extra-body asks for ignore_eos or min_tokens.", valueName: "R"))
    var minOutputRatio: Double?

    @Option(help: "A name for this run, used in reports.")
    var name: String = "stampede"

    /// Builds and validates the scenario. Errors name the flag.
    func scenario(target resolvedTarget: String, collectRecords: Bool) throws -> Scenario {
        let timeout: Duration
        do { timeout = try DurationParsing.parse(requestTimeout) } catch {
            throw ValidationError("--request-timeout: \(error)")
        }
        var runTimeSeconds: Double?
        if let runTime {
            do { runTimeSeconds = try DurationParsing.parse(runTime).seconds } catch { throw ValidationError("--run-time: \(error)") }
        } else if maxRequests == nil {
            runTimeSeconds = 60
        }
        var extra: JSONValue?
        if let extraBody {
            extra = try Self.parseJSON(extraBody, flag: "--extra-body")
        }
        var scenario = Scenario(target: resolvedTarget, api: api, model: model, apiKeyEnv: apiKeyEnv, extraBody: extra,
                                requestTimeoutSeconds: timeout.seconds, users: users ?? 1, spawnRate: spawnRate ?? 1,
                                runTimeSeconds: runTimeSeconds, maxRequests: maxRequests,
                                input: LengthSpec(mean: meanInputTokens, stddev: stddevInputTokens),
                                output: LengthSpec(mean: meanOutputTokens, stddev: stddevOutputTokens),
                                seed: seed, correctness: correctness, name: name, collectRecords: collectRecords)
        scenario.minOutputRatio = minOutputRatio
        do { try scenario.validate() } catch { throw ValidationError(error.description) }
        return scenario
    }

    static func parseJSON(_ text: String, flag: String) throws -> JSONValue {
        guard let data = text.data(using: .utf8),
              let value = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw ValidationError("\(flag): '\(text)' is not valid JSON")
        }
        guard value.objectValue != nil else { throw ValidationError("\(flag): must be a JSON object, e.g. '{\"temperature\": 0}'") }
        return value
    }

    /// Flags are checked at parse time, with the same rules the coordinator applies to a scenario.
    mutating func validate() throws {
        _ = try scenario(target: target ?? "http://127.0.0.1:8000", collectRecords: false)
    }
}

extension APIDialect: ExpressibleByArgument {}
