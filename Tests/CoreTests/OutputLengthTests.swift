import Foundation
import StampedeCore
import StampedeMetrics
import Testing

@Suite("Short outputs: the output-length check and its counter")
struct OutputLengthTests {
    static func record(output: Int, requested: Int, error: ErrorClass? = nil) -> RequestRecord {
        RequestRecord(scheduledNs: 0, sendNs: 0, endNs: 1_000, outputTokens: output, requestedOutputTokens: requested,
                      status: error == nil ? 200 : 500, errorClass: error)
    }

    @Test("full length is asked by ignore_eos true or min_tokens above 0, nothing else")
    func expectsFullLength() {
        #expect(OutputLengthCheck.expectsFullLength(.object(["ignore_eos": .bool(true)])))
        #expect(OutputLengthCheck.expectsFullLength(.object(["min_tokens": .number(5), "temperature": .number(0)])))
        #expect(!OutputLengthCheck.expectsFullLength(.object(["ignore_eos": .bool(false)])))
        #expect(!OutputLengthCheck.expectsFullLength(.object(["min_tokens": .number(0)])))
        #expect(!OutputLengthCheck.expectsFullLength(.object(["temperature": .number(0)])))
        #expect(!OutputLengthCheck.expectsFullLength(nil))
        var scenario = Scenario(target: "http://127.0.0.1:8000", extraBody: .object(["ignore_eos": .bool(true)]), runTimeSeconds: 1)
        scenario.minOutputRatio = 0.5
        #expect(OutputLengthCheck(scenario: scenario) == OutputLengthCheck(expectsFullLength: true, minOutputRatio: 0.5))
    }

    @Test("with full length asked, fewer tokens than max_tokens is short but succeeds; all of them is not short")
    func shortButSucceeded() {
        let check = OutputLengthCheck(expectsFullLength: true)
        var short = Self.record(output: 7, requested: 10)
        check.judge(&short)
        #expect(short.shortOutput == true && short.succeeded)
        var full = Self.record(output: 10, requested: 10)
        check.judge(&full)
        #expect(full.shortOutput == nil && full.succeeded)
        // A failure of another class is not judged.
        var broken = Self.record(output: 1, requested: 10, error: .streamError)
        check.judge(&broken)
        #expect(broken.shortOutput == nil && broken.errorClass == .streamError)
        // Nothing asked: a model that stops early is within its rights.
        var free = Self.record(output: 1, requested: 10)
        OutputLengthCheck(expectsFullLength: false).judge(&free)
        #expect(free.shortOutput == nil && free.succeeded)
    }

    @Test("--min-output-ratio fails an answer below R x max_tokens as short_output, with or without ignore_eos")
    func ratioFails() {
        let check = OutputLengthCheck(expectsFullLength: false, minOutputRatio: 0.8)
        var below = Self.record(output: 7, requested: 10)
        check.judge(&below)
        #expect(below.errorClass == .shortOutput && below.shortOutput == true)
        #expect(below.errorMessage?.contains("--min-output-ratio 0.8") == true)
        var at = Self.record(output: 8, requested: 10)
        check.judge(&at)
        #expect(at.succeeded && at.shortOutput == nil, "8 = 0.8 x 10 is enough")
        var both = Self.record(output: 9, requested: 10)
        OutputLengthCheck(expectsFullLength: true, minOutputRatio: 0.8).judge(&both)
        #expect(both.succeeded && both.shortOutput == true, "above the ratio, still short of max_tokens")
    }

    @Test("counters count short outputs among finished requests, merge them, and refuse more than finished")
    func counters() throws {
        var counters = Counters()
        var short = Self.record(output: 2, requested: 10)
        short.shortOutput = true
        var failedShort = short
        failedShort.errorClass = .shortOutput
        counters.add(short)
        counters.add(failedShort)
        counters.add(Self.record(output: 10, requested: 10))
        #expect(counters.shortOutputs == 2 && counters.finished == 3 && counters.failed == 1)
        #expect(counters.errorsByClass == ["short_output": 1])
        try counters.check()
        var merged = Counters()
        merged.add(counters)
        merged.add(counters)
        #expect(merged.shortOutputs == 4)
        var set = MetricSet()
        set.counters = counters
        #expect(StatsSummary(set, durationSeconds: 1).shortOutputs == 2)

        var forged = counters
        forged.shortOutputs = 4
        #expect(throws: MetricSetError.self) { try forged.check() }
        forged.shortOutputs = -1
        #expect(throws: MetricSetError.self) { try forged.check() }
    }

    @Test("counters from a peer without the short_outputs field decode with 0; with it, round-trip")
    func decoding() throws {
        var counters = Counters()
        var short = Self.record(output: 2, requested: 10)
        short.shortOutput = true
        counters.add(short)
        let data = try JSONEncoder().encode(counters)
        #expect(try JSONDecoder().decode(Counters.self, from: data) == counters)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object.removeValue(forKey: "shortOutputs") as? Int == 1)
        let old = try JSONDecoder().decode(Counters.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.shortOutputs == 0 && old.finished == 1)
    }

    @Test("the scenario refuses a ratio outside (0, 1], naming the flag")
    func validation() {
        var scenario = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 1)
        for bad in [0, -0.1, 1.01, .nan, .infinity] {
            scenario.minOutputRatio = bad
            #expect(throws: ScenarioError.self) { try scenario.validate() }
            do { try scenario.validate() } catch { #expect(error.flag == "--min-output-ratio") }
        }
        for good in [1e-6, 0.5, 1] {
            scenario.minOutputRatio = good
            #expect(throws: Never.self) { try scenario.validate() }
        }
    }
}
