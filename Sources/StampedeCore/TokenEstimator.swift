/// Estimates token counts without a tokenizer.
///
/// Stampede ships no tokenizer. It estimates the tokens of a text as
/// `ceil(words × 4 / 3)`, where words are runs of non-whitespace characters: the common
/// "one token is about three quarters of an English word" rule (LLMPerf measured 1.33 tokens
/// per word for the GPT tokenizer and about 1.5 for Llama 2's). Reports always show the
/// server's own count (`usage.prompt_tokens`) next to this estimate when the server gives one.
public enum TokenEstimator {
    public static let tokensPerWordNumerator = 4
    public static let tokensPerWordDenominator = 3

    /// The number of whitespace-separated words in `text`.
    public static func wordCount(_ text: some StringProtocol) -> Int {
        var count = 0
        var inWord = false
        for scalar in text.unicodeScalars {
            // ASCII fast path: Unicode property lookups are slow on Linux and prompts are mostly ASCII.
            let isSpace = scalar.value < 0x80 ? (scalar.value == 0x20 || (0x09...0x0D).contains(scalar.value))
                                              : scalar.properties.isWhitespace
            if !isSpace && !inWord { count += 1 }
            inWord = !isSpace
        }
        return count
    }

    /// Estimated tokens for `text`: `ceil(words × 4 / 3)`.
    public static func estimate(_ text: some StringProtocol) -> Int {
        tokens(forWords: wordCount(text))
    }

    /// Estimated tokens for a given number of words.
    public static func tokens(forWords words: Int) -> Int {
        (words * tokensPerWordNumerator + tokensPerWordDenominator - 1) / tokensPerWordDenominator
    }
}
