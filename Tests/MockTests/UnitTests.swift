import Foundation
import StampedeCore
@testable import StampedeMock
import StampedeTestSupport
import Testing

@Suite("Mock internals")
struct UnitTests {
    @Test("the parser reads each dialect's fields")
    func parser() throws {
        let chat = try RequestParser.parse(Array(chatBody("hello world", maxTokens: 12).utf8), dialect: .chat, defaultMaxTokens: 99)
        #expect(chat == GenerationRequest(dialect: .chat, model: "test-model", prompt: "You are terse.\nhello world",
                                          maxTokens: 12, stream: true, includeUsage: true, details: false))
        let completion = try RequestParser.parse(Array("{\"prompt\":[\"a b\"]}".utf8), dialect: .completions, defaultMaxTokens: 99)
        #expect(completion.prompt == "a b")
        #expect(completion.maxTokens == 99)
        #expect(completion.stream == false)
        let tgi = try RequestParser.parse(Array(tgiBody("x y", maxNewTokens: 4, details: true).utf8), dialect: .tgi,
                                          defaultMaxTokens: 99, streamOverride: true)
        #expect(tgi.maxTokens == 4 && tgi.details && tgi.stream && tgi.prompt == "x y")
        #expect(throws: BadRequest.self) {
            try RequestParser.parse(Array("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2000000}".utf8),
                                    dialect: .chat, defaultMaxTokens: 1)
        }
    }

    @Test("the correctness number is found anywhere in the prompt")
    func correctnessNumber() {
        for number in [0, 7, 1234, 900_000_001] {
            let prompt = "Intro. " + CorrectnessCheck.instruction(for: number) + " Tail."
            #expect(TextPlan.correctnessNumber(in: prompt) == number)
            #expect(TextPlan(seed: 1, prompt: prompt).answerToken(0).text == String(number))
        }
        #expect(TextPlan.correctnessNumber(in: "Convert the following sequence of words into a number: \"blue\"") == nil)
        #expect(TextPlan.correctnessNumber(in: "no instruction") == nil)
    }

    @Test("words are deterministic per seed and look like tokens")
    func words() {
        let a = TextPlan(seed: 5, prompt: "")
        let b = TextPlan(seed: 5, prompt: "")
        let c = TextPlan(seed: 6, prompt: "")
        #expect(a.answerText(count: 50) == b.answerText(count: 50))
        #expect(a.answerText(count: 50) != c.answerText(count: 50))
        #expect(TokenEstimator.wordCount(a.answerText(count: 50)) == 50)
        #expect(a.answerToken(0).text.first?.isUppercase == true)
        #expect((1..<50).allSatisfy { a.answerToken($0).text.hasPrefix(" ") })
    }

    @Test("JSON.quote escapes what JSON needs")
    func quote() throws {
        let nasty = "a\"b\\c\nd\te\u{01}f é 🐎"
        let quoted = JSON.quote(nasty)
        #expect(try JSONDecoder().decode(String.self, from: Data(quoted.utf8)) == nasty)
        #expect(JSON.quote("plain") == "\"plain\"")
    }

    @Test("the engine admits FIFO up to maxBatch and emits one token per sequence per step")
    func engineActor() async throws {
        // 100 ms steps: the state looked for (one queued, two running) lasts the first two's three
        // steps, 300 ms, long enough for a poll to see it on a loaded machine (at 5 ms it was 15 ms).
        let engine = BatchEngine(profile: EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 100, maxBatch: 2, batchSlowdown: 0),
                                 jitterMs: 0, seed: 0)
        var streams: [AsyncStream<Int>] = []
        for _ in 0..<3 { streams.append(await engine.submit(inputTokens: 1, outputTokens: 3).tokens) }
        // Queued until the first step admits two of them.
        #expect(await waitUntil(timeout: .seconds(3)) {
            let (queued, running) = (await engine.queuedCount, await engine.runningCount)
            return queued == 1 && running == 2
        })
        var remainders: [[Int]] = []
        for stream in streams {
            var seen: [Int] = []
            for await remaining in stream { seen.append(remaining) }
            remainders.append(seen)
        }
        #expect(remainders == [[2, 1, 0], [2, 1, 0], [2, 1, 0]])
        #expect(await engine.queuedCount == 0)
        #expect(await engine.runningCount == 0)
    }

    @Test("cancelling frees the slot for the next queued sequence")
    func engineCancel() async throws {
        let engine = BatchEngine(profile: EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 5, maxBatch: 1, batchSlowdown: 0),
                                 jitterMs: 0, seed: 0)
        let (longID, longTokens) = await engine.submit(inputTokens: 1, outputTokens: 1_000_000)
        let (_, short) = await engine.submit(inputTokens: 1, outputTokens: 2)
        #expect(await waitUntil(timeout: .seconds(3)) {
            let (queued, running) = (await engine.queuedCount, await engine.runningCount)
            return queued == 1 && running == 1
        })
        await engine.cancel(longID)
        var count = 0
        for await _ in short { count += 1 }
        #expect(count == 2)
        #expect(await engine.runningCount == 0)
        withExtendedLifetime(longTokens) {}
    }

    @Test("a sequence whose stream is dropped leaves the batch")
    func engineDroppedStream() async throws {
        let engine = BatchEngine(profile: EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 5, maxBatch: 1, batchSlowdown: 0),
                                 jitterMs: 0, seed: 0)
        _ = await engine.submit(inputTokens: 1, outputTokens: 1_000_000)
        let (_, short) = await engine.submit(inputTokens: 1, outputTokens: 2)
        var count = 0
        for await _ in short { count += 1 }
        #expect(count == 2)
    }
}
