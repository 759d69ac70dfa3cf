import Foundation
import StampedeCore
@testable import StampedeMock
import Testing

@Suite("Timing", .serialized)
struct TimingTests {
    let prompt = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"

    /// Milliseconds from send to each answer chunk.
    func chunkTimes(_ response: RawResponse, events: [TimedEvent]) -> [Double] {
        events.map { milliseconds($0.at - response.sentAt) }
    }

    @Test("fixed timing: TTFT ≈ ttft, inter-token gap ≈ itl, no token early, no drift")
    func fixedTiming() async throws {
        let ttft = 150.0, itl = 40.0, tokens = 12
        try await withMock(MockConfig(timing: .fixed(ttft: .milliseconds(ttft), itl: .milliseconds(itl)))) { mock in
            for (path, body) in [("/v1/chat/completions", chatBody(prompt, maxTokens: tokens)),
                                 ("/generate_stream", tgiBody(prompt, maxNewTokens: tokens))] {
                let response = try await RawHTTP.post(mock.port, path, json: body)
                let events = path == "/generate_stream" ? tgiTokenEvents(response) : answerEvents(response)
                try #require(events.count == tokens)
                let times = chunkTimes(response, events: events)
                #expect(times[0] >= ttft && times[0] <= ttft + 10, "TTFT \(times[0]) ms")
                for (k, time) in times.enumerated() {
                    // Deadlines are absolute from arrival, which is after the send: never early, never drifting late.
                    #expect(time >= ttft + Double(k) * itl, "token \(k) at \(time) ms")
                    #expect(time <= ttft + Double(k) * itl + 15, "token \(k) at \(time) ms")
                }
                let meanGap = (times[tokens - 1] - times[0]) / Double(tokens - 1)
                #expect(abs(meanGap - itl) < 2, "mean gap \(meanGap) ms")
                // Headers come at once; the tokens come later.
                let headers = try #require(response.headersAt)
                #expect(milliseconds(headers - response.sentAt) < ttft / 2)
            }
        }
    }

    @Test("fixed timing with itl 0: all tokens at once after ttft")
    func fixedZeroITL() async throws {
        try await withMock(MockConfig(timing: .fixed(ttft: .milliseconds(60), itl: .zero))) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, maxTokens: 2000))
            let events = answerEvents(response)
            #expect(events.count == 2000)
            let times = chunkTimes(response, events: events)
            #expect(times[0] >= 60 && times[0] <= 80, "TTFT \(times[0]) ms")
            #expect(times[1999] - times[0] < 100, "2000 tokens took \(times[1999] - times[0]) ms")
        }
    }

    @Test("jitter adds between 0 and jitterMs to each delay")
    func jitter() async throws {
        let config = MockConfig(timing: .fixed(ttft: .milliseconds(50), itl: .milliseconds(10)), jitterMs: 20, seed: 3)
        try await withMock(config) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 30))
            let times = chunkTimes(response, events: answerEvents(response))
            try #require(times.count == 30)
            #expect(times[0] >= 50 && times[0] <= 80, "TTFT \(times[0]) ms")
            let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
            let meanGap = gaps.reduce(0, +) / Double(gaps.count)
            // Mean of 10 + U[0, 20] is 20 ms; without jitter it would be 10.
            #expect(meanGap > 15 && meanGap < 25, "mean gap \(meanGap) ms")
            #expect(Set(gaps.map { Int($0.rounded()) }).count > 5, "gaps should vary: \(gaps)")
        }
    }

    @Test("engine: a lone request pays prefill then one decode step per token")
    func engineLowLoad() async throws {
        // 15 words -> 20 estimated input tokens -> 40 ms prefill; 30 ms steps.
        let profile = EngineProfile(prefillMsPerInputToken: 2, decodeMsPerStep: 30, maxBatch: 8, batchSlowdown: 0)
        try await withMock(MockConfig(timing: .engine(profile))) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, maxTokens: 6))
            let times = chunkTimes(response, events: answerEvents(response))
            try #require(times.count == 6)
            #expect(TokenEstimator.estimate(prompt) == 20)
            #expect(times[0] >= 70 && times[0] <= 82, "TTFT \(times[0]) ms")
            let meanGap = (times[5] - times[0]) / 5
            #expect(abs(meanGap - 30) < 3, "mean gap \(meanGap) ms")
        }
    }

    @Test("engine: with maxBatch 2, the 3rd and 4th of 4 concurrent requests queue")
    func engineQueueing() async throws {
        let profile = EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 40, maxBatch: 2, batchSlowdown: 0)
        try await withMock(MockConfig(timing: .engine(profile))) { mock in
            let port = mock.port
            let requests = (0..<4).map { _ in
                Task { try await RawHTTP.post(port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 5)) }
            }
            #expect(await eventually { await mock.stats().queued == 2 })
            #expect(await mock.stats().activeStreams == 2)
            var ttfts: [Double] = []
            for request in requests {
                let response = try await request.value
                #expect(answerEvents(response).count == 5)
                ttfts.append(milliseconds(try #require(answerEvents(response).first).at - response.sentAt))
            }
            ttfts.sort()
            // Two start within a step or two; two wait for the first pair's 5 steps (200 ms).
            #expect(ttfts[1] < 100, "\(ttfts)")
            #expect(ttfts[2] >= 200, "\(ttfts)")
            #expect(await eventually { await mock.stats() == MockStats(requestsReceived: 4, activeStreams: 0, queued: 0, completed: 4) })
        }
    }

    @Test("engine: steps slow down with the batch size and prefill delays running sequences")
    func engineBatchSlowdownAndPrefill() async throws {
        // Step = 20 ms × (1 + 0.5 × (batch − 1)): 20 ms alone, 30 ms with two running.
        let profile = EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 20, maxBatch: 4, batchSlowdown: 0.5)
        try await withMock(MockConfig(timing: .engine(profile))) { mock in
            let port = mock.port
            let pair = (0..<2).map { _ in
                Task { try await RawHTTP.post(port, "/v1/completions", json: completionsBody(prompt, maxTokens: 11)) }
            }
            for request in pair {
                let response = try await request.value
                let times = chunkTimes(response, events: answerEvents(response))
                try #require(times.count == 11)
                let meanGap = (times[10] - times[0]) / 10
                #expect(abs(meanGap - 30) < 3, "mean gap \(meanGap) ms")
            }
        }
        // 1 ms per input token: a 400-word prompt (534 tokens) joining adds ~534 ms to the running stream's step.
        let heavy = String(repeating: "word ", count: 400)
        let slowPrefill = EngineProfile(prefillMsPerInputToken: 1, decodeMsPerStep: 10, maxBatch: 4, batchSlowdown: 0)
        try await withMock(MockConfig(timing: .engine(slowPrefill))) { mock in
            let port = mock.port
            let light = Task { try await RawHTTP.post(port, "/v1/completions", json: completionsBody("hi", maxTokens: 60)) }
            try await Task.sleep(for: .milliseconds(150))
            let joiner = try await RawHTTP.post(port, "/v1/completions", json: completionsBody(heavy, maxTokens: 1))
            let lightTimes = chunkTimes(try await light.value, events: answerEvents(try await light.value))
            let maxGap = zip(lightTimes.dropFirst(), lightTimes).map { $0 - $1 }.max() ?? 0
            #expect(maxGap > 500, "the prefill should stall the running stream: max gap \(maxGap) ms")
            #expect(answerEvents(joiner).count == 1)
        }
    }

    @Test("many concurrent streams all complete with the right number of tokens")
    func manyStreams() async throws {
        try await withMock(MockConfig(timing: .fixed(ttft: .milliseconds(50), itl: .milliseconds(20)))) { mock in
            let port = mock.port
            let started = ContinuousClock.now
            let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let response = try await RawHTTP.post(port, "/v1/chat/completions", json: chatBody("user \(index)", maxTokens: 10))
                        return response.complete && response.events.last?.data == "[DONE]" ? answerEvents(response).count : -1
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(counts.count == 200)
            #expect(counts.allSatisfy { $0 == 10 })
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(await eventually { await mock.stats().completed == 200 })
        }
    }
}
