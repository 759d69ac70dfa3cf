import StampedeCore
@testable import StampedeWorkload
import Testing

@Suite("PromptFactory")
struct PromptFactoryTests {
    static let scenario = Scenario(target: "http://127.0.0.1:8000", runTimeSeconds: 60, seed: 2024)

    static func factory(_ change: (inout Scenario) -> Void = { _ in }) throws -> PromptFactory {
        var scenario = Self.scenario
        change(&scenario)
        return try PromptFactory(scenario: scenario)
    }

    /// The verse after the header, one entry per line.
    static func verse(of prompt: PlannedPrompt) -> [String] {
        let header = PromptFactory.header(maxTokens: prompt.maxTokens)
        guard let range = prompt.prompt.range(of: header) else { return [] }
        return prompt.prompt[range.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func bundledSonnetsLoad() throws {
        let corpus = try SonnetCorpus.bundled()
        #expect(corpus.lines.count >= 30 * 14)
        #expect(corpus.lines.count.isMultiple(of: 14))
        #expect(corpus.lines.contains("Shall I compare thee to a summer's day?"))
        #expect(corpus.lines.allSatisfy { TokenEstimator.wordCount($0) >= 4 })
        #expect(try PromptFactory(scenario: Self.scenario).corpus == corpus)
    }

    @Test func corpusWordsFollowTheEstimatorsRule() throws {
        let corpus = try SonnetCorpus(lines: ["  tab\tseparated  words ", "no\u{00A0}break space", "one", "\u{2003}em\u{2003}space\u{2003}"])
        #expect(corpus.lines.count == 4)
        for (line, words) in zip(corpus.lines, corpus.words) {
            #expect(words.count == TokenEstimator.wordCount(line))
        }
        // Estimates stay exact when lines hold whitespace other than plain spaces.
        let factory = PromptFactory(scenario: Self.scenario, corpus: corpus)
        for index in 0..<100 as Range<UInt64> {
            let p = factory.make(requestIndex: index, user: 0)
            #expect(p.inputTokensEstimate == TokenEstimator.estimate(p.prompt))
            #expect(p.inputTokensEstimate - p.targetInputTokens <= 1 || p.targetInputTokens < 40)
        }
        let bundled = try SonnetCorpus.bundled()
        #expect(zip(bundled.lines, bundled.words).allSatisfy { $0.1.count == TokenEstimator.wordCount($0.0) })
    }

    @Test func emptyCorpusThrows() {
        #expect(throws: PromptFactoryError.emptyCorpus) { try SonnetCorpus(lines: ["", "  ", "\t"]) }
        #expect(throws: PromptFactoryError.emptyCorpus) { try SonnetCorpus(text: "\n\n") }
    }

    @Test func sameInputsSamePrompt() throws {
        let one = try Self.factory()
        let two = try Self.factory()
        for (index, user) in [(0, 0), (7, 3), (1_000_000, 41)] as [(UInt64, Int)] {
            let a = one.make(requestIndex: index, user: user)
            #expect(a == one.make(requestIndex: index, user: user))
            #expect(a == two.make(requestIndex: index, user: user))
        }
    }

    @Test func differsAcrossUsersRequestsAndSeeds() throws {
        let factory = try Self.factory()
        let other = try Self.factory { $0.seed = 2025 }
        for index in 0..<20 as Range<UInt64> {
            let base = factory.make(requestIndex: index, user: 0)
            #expect(base != factory.make(requestIndex: index, user: 1))
            #expect(base != factory.make(requestIndex: index + 1, user: 0))
            #expect(base != other.make(requestIndex: index, user: 0))
        }
        let prompts = Set((0..<200 as Range<UInt64>).map { factory.make(requestIndex: $0, user: 5).prompt })
        #expect(prompts.count == 200)
    }

    @Test func startLinesSpreadOverTheCorpus() throws {
        let factory = try Self.factory()
        let firstLines = (0..<1000 as Range<UInt64>).map { Self.verse(of: factory.make(requestIndex: $0, user: 9))[0] }
        // 1000 uniform draws over 490 lines hit about 430 distinct lines.
        #expect(Set(firstLines).count > 350)
        #expect(firstLines.allSatisfy(factory.corpus.lines.contains))
    }

    @Test func estimateHitsTheTargetWithinOneLine() throws {
        let factory = try Self.factory()
        let longestLine = factory.corpus.lines.map { TokenEstimator.estimate($0) }.max()!
        for index in 0..<300 as Range<UInt64> {
            let p = factory.make(requestIndex: index, user: Int(index % 7))
            #expect(p.inputTokensEstimate == TokenEstimator.estimate(p.prompt))
            #expect(p.inputTokensEstimate >= p.targetInputTokens)
            #expect(p.inputTokensEstimate <= p.targetInputTokens + longestLine)
            // The chosen policy is tighter: the last line is cut at a word, so the estimate is the target or one above.
            if p.targetInputTokens >= 100 {
                #expect(p.inputTokensEstimate - p.targetInputTokens <= 1, "index \(index)")
            }
        }
    }

    @Test func targetFollowsTheInputSpec() throws {
        let factory = try Self.factory { $0.input = LengthSpec(mean: 300, stddev: 0) }
        for index in 0..<50 as Range<UInt64> {
            let p = factory.make(requestIndex: index, user: 2)
            #expect(p.targetInputTokens == 300)
            #expect((300...301).contains(p.inputTokensEstimate))
        }
    }

    @Test func verseIsConsecutiveLinesWrappingAround() throws {
        // 8000 tokens is 6000 words: more than the whole corpus, so the verse must wrap.
        let factory = try Self.factory { $0.input = LengthSpec(mean: 8000, stddev: 0) }
        let lines = factory.corpus.lines
        let p = factory.make(requestIndex: 3, user: 1)
        let verse = Self.verse(of: p)
        #expect(verse.count > lines.count)
        let start = try #require(lines.firstIndex(of: verse[0]))
        for (offset, line) in verse.dropLast().enumerated() {
            #expect(line == lines[(start + offset) % lines.count])
        }
        let next = lines[(start + verse.count - 1) % lines.count]
        #expect(next.hasPrefix(verse.last!))
        #expect(!verse.last!.isEmpty)
    }

    @Test func tinyTargetStillGetsOneWholeLine() throws {
        let factory = try Self.factory { $0.input = LengthSpec(mean: 1, stddev: 0) }
        for index in 0..<20 as Range<UInt64> {
            let p = factory.make(requestIndex: index, user: 0)
            let verse = Self.verse(of: p)
            #expect(verse.count == 1)
            #expect(factory.corpus.lines.contains(verse[0]))
            #expect(p.targetInputTokens == 1)
            #expect(p.inputTokensEstimate == TokenEstimator.estimate(p.prompt))
        }
    }

    @Test func maxTokensIsTheDrawnOutputLength() throws {
        let fixed = try Self.factory { $0.output = LengthSpec(mean: 123, stddev: 0) }
        for index in 0..<20 as Range<UInt64> {
            let p = fixed.make(requestIndex: index, user: 4)
            #expect(p.maxTokens == 123)
            #expect(p.prompt.hasPrefix(PromptFactory.header(maxTokens: 123)))
        }

        // With spread: the documented draw order reproduces both lengths from the seed.
        let factory = try Self.factory()
        var maxTokens: [Int] = []
        for index in 0..<2000 as Range<UInt64> {
            let user = Int(index % 13)
            let p = factory.make(requestIndex: index, user: user)
            var rng = SeededGenerator(seed: SeededGenerator.deriveSeed(Self.scenario.seed, stream: UInt64(user)), stream: index)
            #expect(p.targetInputTokens == LengthSampler(Self.scenario.input).draw(using: &rng))
            #expect(p.maxTokens == LengthSampler(Self.scenario.output).draw(using: &rng))
            #expect(p.prompt.contains("with \(p.maxTokens) output tokens."))
            maxTokens.append(p.maxTokens)
        }
        let mean = Double(maxTokens.reduce(0, +)) / Double(maxTokens.count)
        #expect(abs(mean - Double(Self.scenario.output.mean)) / Double(Self.scenario.output.mean) < 0.02)
        #expect(Set(maxTokens).count > 30)
    }

    @Test func correctnessPrefixAndExpectedNumber() throws {
        let plain = try Self.factory()
        let checked = try Self.factory { $0.correctness = true }
        var numbers = Set<Int>()
        for index in 0..<100 as Range<UInt64> {
            let p = checked.make(requestIndex: index, user: 1)
            let n = try #require(p.expectedNumber)
            numbers.insert(n)
            #expect(PromptFactory.correctnessRange.contains(n))
            let prefix = CorrectnessCheck.instruction(for: n) + "\n" + PromptFactory.header(maxTokens: p.maxTokens)
            #expect(p.prompt.hasPrefix(prefix))
            #expect(p.inputTokensEstimate == TokenEstimator.estimate(p.prompt))
            #expect(p.inputTokensEstimate >= p.targetInputTokens)

            // The spelled number in the instruction reads back as the expected number.
            let quoted = p.prompt.split(separator: "\"")[1]
            #expect(NumberWords.parse(String(quoted)) == n)

            // Turning the check on keeps the request's lengths and verse.
            let q = plain.make(requestIndex: index, user: 1)
            #expect(q.expectedNumber == nil)
            #expect(q.prompt.hasPrefix(PromptFactory.header(maxTokens: q.maxTokens)))
            #expect(q.maxTokens == p.maxTokens)
            #expect(q.targetInputTokens == p.targetInputTokens)
            #expect(Self.verse(of: q).first == Self.verse(of: p).first)
        }
        #expect(numbers.count > 95)
    }

    @Test func wordsToReachIsTheFewestWords() {
        #expect(PromptFactory.wordsToReach(0) == 0)
        for tokens in 1...500 {
            let words = PromptFactory.wordsToReach(tokens)
            #expect(TokenEstimator.tokens(forWords: words) >= tokens)
            #expect(TokenEstimator.tokens(forWords: words - 1) < tokens)
        }
    }

    @Test func nestedTypeNameIsTheSameType() {
        let p: PromptFactory.PlannedPrompt = PlannedPrompt(prompt: "x", maxTokens: 1, inputTokensEstimate: 2, targetInputTokens: 1)
        #expect(p.expectedNumber == nil)
    }
}
