import StampedeCore
import Testing

@Suite("NumberWords")
struct NumberWordsTests {
    @Test("spell then parse gives the number back", arguments: [
        0, 7, 13, 20, 21, 100, 101, 999, 1000, 1001, 12_345, 1_000_000, 7_654_321, 999_999_999,
    ])
    func roundTrip(number: Int) {
        #expect(NumberWords.parse(NumberWords.spell(number)) == number)
    }

    @Test("known spellings", arguments: [
        (0, "zero"),
        (7, "seven"),
        (13, "thirteen"),
        (20, "twenty"),
        (21, "twenty-one"),
        (100, "one hundred"),
        (101, "one hundred one"),
        (999, "nine hundred ninety-nine"),
        (1000, "one thousand"),
        (1001, "one thousand one"),
        (1234, "one thousand two hundred thirty-four"),
        (12_345, "twelve thousand three hundred forty-five"),
        (1_000_000, "one million"),
        (7_654_321, "seven million six hundred fifty-four thousand three hundred twenty-one"),
        (999_999_999, "nine hundred ninety-nine million nine hundred ninety-nine thousand nine hundred ninety-nine"),
    ])
    func spelling(number: Int, words: String) {
        #expect(NumberWords.spell(number) == words)
        #expect(NumberWords.parse(words) == number)
    }

    @Test func parseIgnoresCaseAndAndCommas() {
        #expect(NumberWords.parse("One Hundred and One") == 101)
        #expect(NumberWords.parse("one thousand, two hundred thirty four") == 1234)
    }

    @Test("parse rejects non-number words", arguments: ["", "   ", "banana", "twelve apples", "one thousand and a half", "1234"])
    func parseRejects(text: String) {
        #expect(NumberWords.parse(text) == nil)
    }
}

@Suite("CorrectnessCheck")
struct CorrectnessCheckTests {
    @Test func passesWhenDigitsArePresent() {
        #expect(CorrectnessCheck.passes(reply: "1234567", expected: 1_234_567))
        #expect(CorrectnessCheck.passes(reply: "The number is 1234567.", expected: 1_234_567))
    }

    @Test func passesWithThousandsSeparators() {
        #expect(CorrectnessCheck.passes(reply: "The answer is 1,234,567", expected: 1_234_567))
    }

    @Test func failsWhenDigitsAreAbsent() {
        #expect(!CorrectnessCheck.passes(reply: "", expected: 1234))
        #expect(!CorrectnessCheck.passes(reply: "one thousand two hundred thirty-four", expected: 1234))
        #expect(!CorrectnessCheck.passes(reply: "1243", expected: 1234))
        #expect(!CorrectnessCheck.passes(reply: "123 4", expected: 1234))
    }

    @Test func failsWhenTheDigitsAreInsideALongerNumber() {
        #expect(!CorrectnessCheck.passes(reply: "12345", expected: 1234))
        #expect(!CorrectnessCheck.passes(reply: "91234", expected: 1234))
        #expect(CorrectnessCheck.passes(reply: "12345 or 1234", expected: 1234))
    }

    @Test func instructionQuotesTheSpelledNumber() {
        let text = CorrectnessCheck.instruction(for: 1234)
        #expect(text.contains("\"one thousand two hundred thirty-four\""))
        #expect(!text.contains("1234"))
    }
}
