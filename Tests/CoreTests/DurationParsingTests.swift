import StampedeCore
import Testing

@Suite("DurationParsing")
struct DurationParsingTests {
    @Test("valid durations", arguments: [
        ("90s", Duration.seconds(90)),
        ("5m", .seconds(300)),
        ("1h30m", .seconds(5400)),
        ("250ms", .milliseconds(250)),
        ("1.5s", .milliseconds(1500)),
        ("2", .seconds(2)),
        (" 10s ", .seconds(10)),
        ("0.25", .milliseconds(250)),
    ])
    func parses(text: String, expected: Duration) throws {
        #expect(try DurationParsing.parse(text) == expected)
    }

    @Test("invalid durations", arguments: ["", "abc", "5x", "-3s", "s5", "-1", "1h30", "5 m"])
    func rejects(text: String) {
        #expect(throws: DurationParsing.ParseError.self) { try DurationParsing.parse(text) }
        do {
            _ = try DurationParsing.parse(text)
        } catch {
            #expect(error.input == text)
            #expect(error.description.contains("'\(text)'"))
        }
    }

    @Test("shortLabel", arguments: [
        (Duration.milliseconds(850), "850ms"),
        (.milliseconds(12_300), "12.3s"),
        (.seconds(12), "12s"),
        (.seconds(90), "1m30s"),
        (.seconds(300), "5m"),
        (.seconds(3600), "1h"),
        (.seconds(3720), "1h2m"),
    ])
    func shortLabel(duration: Duration, label: String) {
        #expect(duration.shortLabel == label)
    }

    @Test func nanosecondsAndSeconds() {
        #expect(Duration.milliseconds(1500).nanoseconds == 1_500_000_000)
        #expect(Duration.milliseconds(1500).seconds == 1.5)
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
    }
}
