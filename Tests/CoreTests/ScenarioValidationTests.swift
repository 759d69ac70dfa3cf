import StampedeCore
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
    }
}
