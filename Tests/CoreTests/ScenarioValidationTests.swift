import StampedeCore
import StampedeWorkload
import Testing

@Suite("Scenario.validate")
struct ScenarioValidationTests {
    /// A scenario that passes validation; each case below breaks one value of it.
    static let valid = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 60)

    static func with(_ change: (inout Scenario) -> Void) -> Scenario {
        var scenario = valid
        change(&scenario)
        return scenario
    }

    static let badValues: [(String, Scenario)] = [
        ("--users", with { $0.users = -1 }),
        ("--users", with { $0.users = 0 }),
        ("--spawn-rate", with { $0.spawnRate = 0 }),
        ("--spawn-rate", with { $0.spawnRate = -2 }),
        ("--spawn-rate", with { $0.spawnRate = .infinity }),
        ("--spawn-rate", with { $0.spawnRate = .nan }),
        ("--run-time", with { $0.runTimeSeconds = nil; $0.maxRequests = nil }),
        ("--run-time", with { $0.runTimeSeconds = 0 }),
        ("--max-requests", with { $0.maxRequests = 0 }),
        ("--request-timeout", with { $0.requestTimeoutSeconds = 0 }),
        ("--mean-input-tokens", with { $0.input.mean = 0 }),
        ("--stddev-input-tokens", with { $0.input.stddev = -1 }),
        ("--mean-output-tokens", with { $0.output.mean = 0 }),
        ("--stddev-output-tokens", with { $0.output.stddev = -1 }),
        ("--extra-body", with { $0.extraBody = .array([.number(1)]) }),
        ("--extra-body", with { $0.extraBody = .string("{\"temperature\": 0}") }),
        // Upper bounds: nothing a scenario holds may overflow or allocate without limit.
        ("--users", with { $0.users = 1_000_001 }),
        ("--users", with { $0.users = .max }),
        ("--spawn-rate", with { $0.spawnRate = 1e7 }),
        ("--run-time", with { $0.runTimeSeconds = 31 * 86_400 }),
        ("--run-time", with { $0.runTimeSeconds = .infinity }),
        ("--run-time", with { $0.runTimeSeconds = .nan }),
        ("--max-requests", with { $0.maxRequests = .max }),
        ("--request-timeout", with { $0.requestTimeoutSeconds = .infinity }),
        ("--request-timeout", with { $0.requestTimeoutSeconds = .nan }),
        ("--request-timeout", with { $0.requestTimeoutSeconds = 1e300 }),
        ("--mean-input-tokens", with { $0.input.mean = 100_000_000 }),
        ("--mean-input-tokens", with { $0.input.mean = .max }),
        ("--stddev-input-tokens", with { $0.input.stddev = 200_001 }),
        ("--mean-output-tokens", with { $0.output.mean = 200_001 }),
        ("--stddev-output-tokens", with { $0.output.stddev = .max }),
        ("--max-concurrency", with { $0.openLoop = OpenLoop(rate: 1, maxConcurrency: .max) }),
        ("--stages", with { $0.stages = [Stage(users: 1, durationSeconds: 20 * 86_400), Stage(users: 2, durationSeconds: 20 * 86_400)] }),
        ("--stages", with { $0.stages = [Stage(users: 1, durationSeconds: .greatestFiniteMagnitude)] + Array(repeating: Stage(users: 1, durationSeconds: .greatestFiniteMagnitude), count: 3) }),
        ("--stages", with { $0.stages = [Stage(users: 2_000_000, durationSeconds: 1)] }),
    ]

    @Test("each bad value names its flag", arguments: badValues)
    func badValueNamesFlag(flag: String, scenario: Scenario) {
        #expect(throws: ScenarioError.self) { try scenario.validate() }
        do {
            try scenario.validate()
        } catch {
            #expect(error.flag == flag)
            #expect(error.description.hasPrefix(flag + ": "))
        }
    }

    @Test("bad targets name --target", arguments: [
        "localhost:8000", "http://", "https://", "http://host:99999", "http://host:0", "http://host:", "ftp://x",
        "http://user@host", "http://[::1", "http://[::1]x", "http:// host", "",
    ])
    func badTarget(target: String) {
        let scenario = Self.with { $0.target = target }
        #expect(throws: ScenarioError.self) { try scenario.validate() }
        #expect(throws: ScenarioError.self) { try TargetURL.validate(target) }
        do {
            try TargetURL.validate(target)
        } catch {
            #expect(error.flag == "--target")
        }
    }

    @Test("good targets pass", arguments: [
        "http://127.0.0.1:8000", "https://api.example.com/v1", "http://[::1]:8000", "http://[::1]", "http://localhost",
        "https://host:65535/base?x=1",
    ])
    func goodTarget(target: String) throws {
        try TargetURL.validate(target)
        try Self.with { $0.target = target }.validate()
    }

    @Test func validScenariosPass() throws {
        try Self.valid.validate()
        try Self.with { $0.runTimeSeconds = nil; $0.maxRequests = 10 }.validate()
        try Self.with { $0.extraBody = .object(["temperature": .number(0)]) }.validate()
        try Self.with { $0.input.stddev = 0; $0.output = LengthSpec(mean: 1, stddev: 0) }.validate()
        // Every limit itself is allowed.
        try Self.with {
            $0.users = Scenario.Limits.users
            $0.spawnRate = Scenario.Limits.rate
            $0.runTimeSeconds = Scenario.Limits.durationSeconds
            $0.requestTimeoutSeconds = Scenario.Limits.durationSeconds
            $0.maxRequests = Scenario.Limits.requests
            $0.input = LengthSpec(mean: LengthSpec.maximumMean, stddev: LengthSpec.maximumStddev)
            $0.output = LengthSpec(mean: LengthSpec.maximumMean, stddev: LengthSpec.maximumStddev)
        }.validate()
    }

    /// A drawn length never passes `LengthSpec.maximumDrawn`, however wide the spec (even one that
    /// `validate` would refuse, as a sampler may be handed one directly).
    @Test func drawnLengthsAreCapped() {
        var generator = SeededGenerator(seed: 7)
        for spec in [LengthSpec(mean: LengthSpec.maximumMean, stddev: LengthSpec.maximumStddev),
                     LengthSpec(mean: .max, stddev: .max), LengthSpec(mean: 100_000_000, stddev: 0)] {
            let sampler = LengthSampler(spec)
            let draws = (0..<2000).map { _ in sampler.draw(using: &generator) }
            #expect(draws.allSatisfy { (1...LengthSpec.maximumDrawn).contains($0) }, "\(spec): \(draws.max() ?? 0)")
        }
    }
}
