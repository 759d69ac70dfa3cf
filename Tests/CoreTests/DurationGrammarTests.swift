import StampedeCore
import Testing

/// One duration grammar for flags, config keys (which become flags) and SLO clauses (issue 10).
@Suite("One duration grammar")
struct DurationGrammarTests {
    // MARK: SLO clauses take what flags take

    /// `1h` worked in `--run-time` but not in `--slo` before.
    @Test func anSLOClauseTakesHours() throws {
        let slo = try SLO.parse("e2e_p99<1h")
        #expect(slo.clauses.map(\.threshold) == [3600])
        #expect(slo.clauses.map(\.op) == [.less])
        #expect(try SLO.parse("ttft_p90<=1h30m").clauses[0].threshold == 5400)
    }

    @Test("an SLO bound equals the flag's duration, in seconds", arguments: ["80ms", "2s", "1.5m", "1h", "250us", "250µs", "1h30m", "0.1s", "7ns"])
    func sloAgreesWithFlags(_ text: String) throws {
        let flag = try DurationParsing.parse(text)
        let clause = try SLO.parse("e2e_p99<=\(text)").clauses[0]
        #expect(clause.threshold == Double(flag.nanoseconds) / 1e9)
    }

    @Test func anSLOBoundAtTheMeasuredValueHolds() throws {
        // Measured values are whole nanoseconds / 1e9; so is the bound: a request of exactly 200 ms meets <=200ms.
        let clause = try SLO.parse("e2e_p99<=200ms").clauses[0]
        #expect(clause.holds(Double(200_000_000) / 1e9))
        #expect(!clause.holds(Double(200_000_001) / 1e9))
    }

    @Test func aBareNumberIsSecondsForFlagsButNeedsAUnitInAnSLO() throws {
        #expect(try DurationParsing.parse("2") == .seconds(2))
        #expect(throws: DurationParsing.ParseError(input: "2", reason: .missingUnit("2"))) {
            try DurationParsing.parse("2", bareNumber: .rejected)
        }
        let problem = try #require(SLO(expression: "ttft_p90<=2").problem)
        #expect(problem.message.contains("'2' has no unit"), "\(problem.message)")
    }

    // MARK: Values

    @Test("exact nanoseconds", arguments: [
        ("1h", Int64(3_600_000_000_000)), ("1H", 3_600_000_000_000), ("2hr", 7_200_000_000_000), ("1h30m", 5_400_000_000_000),
        ("1m1s", 61_000_000_000), ("1.5m", 90_000_000_000), ("0.1s", 100_000_000), (".5s", 500_000_000), ("5.s", 5_000_000_000),
        ("1.0000000005s", 1_000_000_001), ("1.0000000004s", 1_000_000_000), ("0.4ns", 0), ("0.5ns", 1),
        ("250us", 250_000), ("250µs", 250_000), ("250μs", 250_000), ("3sec", 3_000_000_000), ("2min", 120_000_000_000),
        ("9223372036854775807ns", Int64.max), ("2562047h", 9_223_369_200_000_000_000),
    ])
    func nanoseconds(_ text: String, _ expected: Int64) throws {
        #expect(try DurationParsing.parse(text).nanoseconds == expected)
    }

    // MARK: Bad input gets a clear error

    @Test("bad input names the input and why", arguments: [
        ("-5s", DurationParsing.ParseError.Reason.negative, "cannot be negative"),
        ("-1", .negative, "cannot be negative"),
        ("5x", .unknownUnit("x"), "unknown unit 'x'"),
        ("5d", .unknownUnit("d"), "unknown unit 'd'"),
        ("5 m", .unknownUnit(" m"), "unknown unit ' m'"),
        ("1e3s", .unknownUnit("e"), "unknown unit 'e'"),
        ("1h30", .missingUnit("30"), "'30' has no unit"),
        ("5..3s", .missingUnit("5."), "'5.' has no unit"),
        ("abc", .notANumber("abc"), "'abc' is not a number"),
        ("+5s", .notANumber("+"), "'+' is not a number"),
        ("", .empty, "empty"),
        ("   ", .empty, "empty"),
        ("9223372036854775808ns", .tooLong, "longest duration"),
        ("2562048h", .tooLong, "longest duration"),
        ("999999999999999999h", .tooLong, "longest duration"),
        ("2000000h2000000h", .tooLong, "longest duration"),
        ("12345678901234567890s", .tooManyDigits("12345678901234567890"), "more than 19 digits"),
        ("1234567890123456789s", .tooLong, "longest duration"),
    ])
    func badInput(_ text: String, _ reason: DurationParsing.ParseError.Reason, _ mention: String) {
        #expect(throws: DurationParsing.ParseError(input: text, reason: reason)) { try DurationParsing.parse(text) }
        let error = DurationParsing.ParseError(input: text, reason: reason)
        #expect(error.description.hasPrefix("'\(text)' is not a duration: "))
        #expect(error.description.contains(mention), "\(error.description)")
        #expect(error.description.contains("ns, us (µs), ms, s, m or h"))
    }

    @Test("an SLO clause with a bad duration names the clause and why", arguments: [
        ("e2e_p99<-1s", "'-1s' is not a latency: a duration cannot be negative"),
        ("e2e_p99<5x", "'5x' is not a latency: unknown unit 'x'"),
        ("e2e_p99<9999999999999999h", "longest duration"),
    ])
    func badSLODuration(_ expression: String, _ mention: String) throws {
        let problem = try #require(SLO(expression: expression).problem)
        #expect(problem.flag == "--slo")
        #expect(problem.message.contains("clause '\(expression)'"), "\(problem.message)")
        #expect(problem.message.contains(mention), "\(problem.message)")
    }

    @Test func aStageWithABadDurationSaysWhy() {
        #expect(throws: ScenarioError.self) { try Stage.parseList("1u:5x") }
        do {
            _ = try Stage.parseList("1u:-5s")
            Issue.record("a negative stage was accepted")
        } catch {
            #expect(error.message.contains("cannot be negative"), "\(error.message)")
        }
    }
}
