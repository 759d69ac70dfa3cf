import StampedeCore
import Testing

@Suite("TokenEstimator")
struct TokenEstimatorTests {
    @Test("word counts", arguments: [
        ("", 0),
        ("   \n\t ", 0),
        ("hello", 1),
        ("hello world", 2),
        ("  hello\tworld\n\nfoo  ", 3),
        ("a\r\nb\u{00A0}c", 3),
        ("Shall I compare thee to a summer's day?", 8),
    ])
    func wordCount(text: String, words: Int) {
        #expect(TokenEstimator.wordCount(text) == words)
    }

    @Test("estimate is ceil(words * 4 / 3)", arguments: [(0, 0), (1, 2), (2, 3), (3, 4), (4, 6), (6, 8), (7, 10), (300, 400)])
    func tokensForWords(words: Int, tokens: Int) {
        #expect(TokenEstimator.tokens(forWords: words) == tokens)
        let text = Array(repeating: "word", count: words).joined(separator: words.isMultiple(of: 2) ? " \n" : "\t")
        #expect(TokenEstimator.estimate(text) == tokens)
    }
}
