import StampedeCore

/// One request's prompt and lengths, fixed before it is sent: the workload's name for StampedeCore's
/// `PlannedRequest`, which the engine hands to its `RequestExecutor` as it is.
public typealias PlannedPrompt = PlannedRequest

/// Builds prompts the way LLMPerf does: "Randomly stream lines from the following text with N output
/// tokens. Don't generate eos tokens:" followed by sonnet lines, starting at a random line and wrapping
/// around, until the prompt's estimated tokens reach the drawn input length.
///
/// Length policy: the verse always holds at least one whole line; after that, whole lines are added
/// while they fit and the last line is cut after the word that makes `TokenEstimator.estimate(prompt)`
/// first reach the target. Word counts move the estimate by 1 or 2 tokens, so the estimate lands on
/// the target or one token above it, unless the fixed text (instruction, header, first line) is
/// already longer than the target.
///
/// `inputTokensEstimate` equals `TokenEstimator.estimate(prompt)` but is computed from word counts
/// (the corpus is pre-split by the estimator's own rule), since rescanning a 550-token prompt costs
/// about 150 µs.
///
/// Every value is a pure function of (`scenario.seed`, user, request index): the factory holds no
/// mutable state and can be shared by any number of tasks. Draw order, from one generator
/// `SeededGenerator(seed: deriveSeed(deriveSeed(seed, user), requestIndex))`: input length, output
/// length, start line, then the correctness number (last, so that turning the check on or off keeps
/// the lengths and verse of every request).
public struct PromptFactory: Sendable {
    /// Lets callers write either `PlannedPrompt` or `PromptFactory.PlannedPrompt`.
    public typealias PlannedPrompt = StampedeWorkload.PlannedPrompt

    /// The correctness number is drawn uniformly from this range (4 to 7 digits: long enough that a
    /// reply rarely contains it by chance, since `CorrectnessCheck.passes` looks for it as a substring).
    public static let correctnessRange = 1000..<10_000_000

    public let scenario: Scenario
    public let corpus: SonnetCorpus
    private let inputSampler: LengthSampler
    private let outputSampler: LengthSampler
    /// Words in the header; its number is always one word.
    private let headerWords: Int

    /// A factory over the bundled sonnets. Throws `PromptFactoryError` when they are missing.
    public init(scenario: Scenario) throws {
        try self.init(scenario: scenario, corpus: SonnetCorpus.bundled())
    }

    /// A factory over any corpus (tests, custom prompt text).
    public init(scenario: Scenario, corpus: SonnetCorpus) {
        self.scenario = scenario
        self.corpus = corpus
        self.inputSampler = LengthSampler(scenario.input)
        self.outputSampler = LengthSampler(scenario.output)
        self.headerWords = TokenEstimator.wordCount(Self.header(maxTokens: 1))
    }

    /// The header LLMPerf puts before the verse.
    public static func header(maxTokens: Int) -> String {
        "Randomly stream lines from the following text with \(maxTokens) output tokens. Don't generate eos tokens:\n\n"
    }

    /// The prompt for request `requestIndex` of `user`. Same inputs, same prompt.
    public func make(requestIndex: UInt64, user: Int) -> PlannedPrompt {
        let userSeed = SeededGenerator.deriveSeed(scenario.seed, stream: UInt64(bitPattern: Int64(user)))
        var rng = SeededGenerator(seed: userSeed, stream: requestIndex)
        let target = inputSampler.draw(using: &rng)
        let maxTokens = outputSampler.draw(using: &rng)
        let startLine = Int(rng.next() % UInt64(corpus.lines.count))
        var expected: Int?
        var prompt = ""
        prompt.reserveCapacity(target * 6 + 400)
        var words = headerWords
        if scenario.correctness {
            let range = Self.correctnessRange
            let number = range.lowerBound + Int(rng.next() % UInt64(range.count))
            expected = number
            let instruction = CorrectnessCheck.instruction(for: number)
            words += TokenEstimator.wordCount(instruction)
            prompt += instruction + "\n"
        }
        prompt += Self.header(maxTokens: maxTokens)
        appendVerse(to: &prompt, words: &words, startLine: startLine, targetTokens: target)
        return PlannedPrompt(prompt: prompt, maxTokens: maxTokens, inputTokensEstimate: TokenEstimator.tokens(forWords: words),
                             targetInputTokens: target, expectedNumber: expected)
    }

    /// Appends lines from `startLine` (wrapping) until the whole prompt's estimate reaches `targetTokens`.
    /// `words` is the prompt's word count on entry and on return. The prompt ends in a newline on entry,
    /// so no word runs across the join.
    private func appendVerse(to prompt: inout String, words: inout Int, startLine: Int, targetTokens: Int) {
        let wordsNeeded = Self.wordsToReach(targetTokens)
        var line = startLine
        var first = true
        while first || words < wordsNeeded {
            let lineWords = corpus.words[line]
            if !first { prompt += "\n" }
            if first || words + lineWords.count <= wordsNeeded {
                prompt += corpus.lines[line]
                words += lineWords.count
            } else {
                prompt += lineWords.prefix(wordsNeeded - words).joined(separator: " ")
                words = wordsNeeded
            }
            first = false
            line = (line + 1) % corpus.lines.count
        }
    }

    /// The fewest words whose estimate is at least `tokens`.
    static func wordsToReach(_ tokens: Int) -> Int {
        guard tokens > 0 else { return 0 }
        // ceil(4w/3) >= t  <=>  4w > 3(t - 1)  <=>  w >= floor(3(t - 1) / 4) + 1
        return 3 * (tokens - 1) / 4 + 1
    }
}
