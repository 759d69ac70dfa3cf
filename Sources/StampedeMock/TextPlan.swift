import Foundation
import StampedeCore

/// One generated token.
struct Token: Sendable, Equatable {
    var text: String
    var id: Int
    var logprob: Double
}

/// The text of one response, token by token, computed on demand from a per-request seed.
///
/// Answer token 0 is the digits of the correctness check's number when the prompt asks for one
/// (`CorrectnessCheck.instruction(for:)`), else a capitalised word; later tokens are `" word"`.
struct TextPlan: Sendable, Equatable {
    let seed: UInt64
    /// The number the prompt asks to convert, if it does.
    let expectedNumber: Int?

    init(seed: UInt64, prompt: String) {
        self.seed = seed
        self.expectedNumber = Self.correctnessNumber(in: prompt)
    }

    static let vocabulary = [
        "the", "model", "serves", "tokens", "under", "load", "while", "queues", "grow", "and", "latency",
        "rises", "each", "request", "waits", "for", "a", "slot", "in", "batch", "engine", "steps", "through",
        "decode", "prefill", "cache", "blocks", "memory", "is", "shared", "across", "sequences", "so",
        "throughput", "climbs", "until", "saturation", "then", "time", "to", "first", "token", "stretches",
        "streams", "flow", "back", "as", "events", "over", "one", "connection", "per", "user", "with",
        "steady", "pace", "when", "traffic", "is", "light", "but", "bursts", "cause", "spikes",
    ]
    static let reasoningVocabulary = [
        "let", "me", "think", "about", "this", "carefully", "first", "consider", "the", "question", "then",
        "check", "each", "step", "before", "answering", "hmm", "right", "so", "that", "means",
    ]

    /// The `index`-th answer token (0-based).
    func answerToken(_ index: Int) -> Token {
        let hash = SplitMix64.mix(seed &+ UInt64(index) &* SplitMix64.gamma)
        if index == 0, let expectedNumber {
            return Token(text: String(expectedNumber), id: 100 + expectedNumber % 1000, logprob: -0.01)
        }
        let wordIndex = Int(hash % UInt64(Self.vocabulary.count))
        let word = Self.vocabulary[wordIndex]
        let text = index == 0 ? word.prefix(1).uppercased() + word.dropFirst() : " " + word
        return Token(text: text, id: 1000 + wordIndex, logprob: Self.logprob(hash))
    }

    /// The `index`-th reasoning token (chat dialect only).
    func reasoningToken(_ index: Int) -> Token {
        let hash = SplitMix64.mix(~seed &+ UInt64(index) &* SplitMix64.gamma)
        let wordIndex = Int(hash % UInt64(Self.reasoningVocabulary.count))
        let word = Self.reasoningVocabulary[wordIndex]
        let text = index == 0 ? word.prefix(1).uppercased() + word.dropFirst() : " " + word
        return Token(text: text, id: 5000 + wordIndex, logprob: Self.logprob(hash))
    }

    /// The first `count` answer tokens joined.
    func answerText(count: Int) -> String {
        var text = ""
        text.reserveCapacity(count * 8)
        for index in 0..<count { text += answerToken(index).text }
        return text
    }

    /// The first `count` reasoning tokens joined.
    func reasoningText(count: Int) -> String {
        var text = ""
        for index in 0..<count { text += reasoningToken(index).text }
        return text
    }

    /// A log-probability in (-2, 0], two decimals.
    static func logprob(_ hash: UInt64) -> Double {
        -Double((hash >> 40) % 200) / 100
    }

    static let correctnessMarker = "Convert the following sequence of words into a number: \""

    /// The number spelled in the prompt's correctness instruction, if it has one that parses.
    static func correctnessNumber(in prompt: String) -> Int? {
        guard let start = prompt.range(of: correctnessMarker) else { return nil }
        let rest = prompt[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return NumberWords.parse(String(rest[..<end]))
    }
}
