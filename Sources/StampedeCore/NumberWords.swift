import Foundation

/// English number words, for the numerals-to-digits correctness check (LLMPerf's "checksum" task).
///
/// `spell(1234)` is "one thousand two hundred thirty-four"; `parse` reads the same form back.
public enum NumberWords {
    static let ones = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                       "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
                       "seventeen", "eighteen", "nineteen"]
    static let tens = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
    static let scales: [(value: Int, name: String)] = [(1_000_000_000, "billion"), (1_000_000, "million"), (1000, "thousand")]

    /// Spells a non-negative integer below one trillion in words.
    public static func spell(_ number: Int) -> String {
        precondition(number >= 0 && number < 1_000_000_000_000, "NumberWords.spell supports 0..<1e12")
        if number == 0 { return "zero" }
        var parts: [String] = []
        var rest = number
        for scale in scales where rest >= scale.value {
            parts.append(spellBelowThousand(rest / scale.value) + " " + scale.name)
            rest %= scale.value
        }
        if rest > 0 { parts.append(spellBelowThousand(rest)) }
        return parts.joined(separator: " ")
    }

    static func spellBelowThousand(_ number: Int) -> String {
        var parts: [String] = []
        if number >= 100 { parts.append(ones[number / 100] + " hundred") }
        let rest = number % 100
        if rest >= 20 {
            parts.append(rest % 10 == 0 ? tens[rest / 10] : tens[rest / 10] + "-" + ones[rest % 10])
        } else if rest > 0 || parts.isEmpty {
            parts.append(ones[rest])
        }
        return parts.joined(separator: " ")
    }

    /// Reads a number spelled by `spell` (case-insensitive; "and" and commas are ignored).
    /// Returns nil when a word is not a number word.
    public static func parse(_ text: String) -> Int? {
        let words = text.lowercased()
            .replacingOccurrences(of: "-", with: " ")
            .replacingOccurrences(of: ",", with: " ")
            .split(separator: " ")
            .map(String.init)
            .filter { $0 != "and" }
        guard !words.isEmpty else { return nil }
        var total = 0
        var group = 0
        for word in words {
            if let value = ones.firstIndex(of: word) {
                group += value
            } else if let value = tens.firstIndex(of: word), value >= 2 {
                group += value * 10
            } else if word == "hundred" {
                group *= 100
            } else if let scale = scales.first(where: { $0.name == word }) {
                total += group * scale.value
                group = 0
            } else {
                return nil
            }
        }
        return total + group
    }
}

/// The correctness check: the reply must contain the expected digits.
public enum CorrectnessCheck {
    /// The prompt prefix that asks for the conversion (LLMPerf's wording, with the words quoted).
    public static func instruction(for number: Int) -> String {
        "Convert the following sequence of words into a number: \"\(NumberWords.spell(number))\". Output just your final answer."
    }

    /// True when `reply` contains `expected` as a whole number (not inside a longer run of digits),
    /// ignoring thousands separators: 1234 passes "1,234" and "= 1234." but not "12345".
    public static func passes(reply: String, expected: Int) -> Bool {
        let target = String(expected)
        var run = ""
        for ch in reply + " " {
            if ch.isASCII && ch.isNumber {
                run.append(ch)
            } else if ch == ",", !run.isEmpty {
                continue
            } else {
                if run == target { return true }
                run = ""
            }
        }
        return false
    }
}
