import Foundation
import StampedeCore
@testable import StampedeMock
import StampedeTestSupport
import Testing

extension MockServerTests {
@Suite("Faults, bad input, stats and lifecycle")
struct FaultTests {
    let prompt = "Explain continuous batching in one paragraph"

    @Test("error500Rate 1 answers 500 with an OpenAI error body, in every dialect")
    func http500() async throws {
        try await withMock(MockConfig(timing: instant, error500Rate: 1)) { mock in
            for (path, body) in [("/v1/chat/completions", chatBody(prompt)), ("/v1/completions", completionsBody(prompt)),
                                 ("/generate_stream", tgiBody(prompt))] {
                let response = try await RawHTTP.post(mock.port, path, json: body)
                #expect(response.status == 500, "\(path)")
                #expect(response.bodyJSON?["error"]?["message"]?.stringValue != nil)
                #expect(response.bodyJSON?["error"]?["code"]?.intValue == 500)
                #expect(response.events.allSatisfy { $0.json?["choices"] == nil })
            }
        }
    }

    @Test("error429Rate 1 answers 429 with Retry-After: 1")
    func http429() async throws {
        try await withMock(MockConfig(timing: instant, error429Rate: 1)) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt))
            #expect(response.status == 429)
            #expect(response.header("retry-after") == "1")
            #expect(response.bodyJSON?["error"]?["code"]?.intValue == 429)
        }
    }

    @Test("abortRate 1 cuts the stream after about half the tokens: no [DONE], unterminated chunked body")
    func abort() async throws {
        try await withMock(MockConfig(timing: .fixed(ttft: .milliseconds(5), itl: .milliseconds(2)), abortRate: 1)) { mock in
            let chat = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 10))
            #expect(chat.status == 200)
            #expect(chat.isChunked)
            #expect(!chat.complete)
            #expect(answerEvents(chat).count == 5)
            #expect(!chat.events.contains { $0.data == "[DONE]" })
            #expect(!chat.events.contains { $0.json?["usage"] != nil || $0.json?["choices"]?[0]?["finish_reason"]?.stringValue != nil })

            let tgi = try await RawHTTP.post(mock.port, "/generate_stream", json: tgiBody(prompt, maxNewTokens: 10))
            #expect(!tgi.complete)
            #expect(tgiTokenEvents(tgi).count == 5)
            #expect(tgi.events.allSatisfy { $0.json?["generated_text"] == .null })

            // The server stays healthy and counts none of them as completed.
            #expect(try await RawHTTP.get(mock.port, "/health").status == 200)
            #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats().activeStreams == 0 })
            #expect(await mock.stats().completed == 0)
        }
    }

    @Test("abort also cuts a non-streamed reply")
    func abortNonStreamed() async throws {
        try await withMock(MockConfig(timing: instant, abortRate: 1)) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, stream: false))
            #expect(!response.complete)
            #expect(response.bodyJSON == nil)
        }
    }

    @Test("streamErrorRate 1 sends an error event midway, then ends the response")
    func streamError() async throws {
        try await withMock(MockConfig(timing: instant, streamErrorRate: 1)) { mock in
            let chat = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 10))
            #expect(chat.status == 200)
            #expect(chat.complete)
            #expect(answerEvents(chat).count == 5)
            let errorEvent = try #require(chat.events.first { $0.json?["error"] != nil }?.json)
            #expect(errorEvent["error"]?["message"]?.stringValue == "simulated engine failure")
            #expect(errorEvent["error"]?["type"]?.stringValue == "internal_error")
            #expect(errorEvent["error"]?["code"]?.intValue == 500)
            #expect(!chat.events.contains { $0.json?["choices"]?[0]?["finish_reason"]?.stringValue == "length" })

            let tgi = try await RawHTTP.post(mock.port, "/generate_stream", json: tgiBody(prompt, maxNewTokens: 10))
            #expect(tgi.complete)
            #expect(tgiTokenEvents(tgi).count == 5)
            let tgiError = try #require(tgi.events.last?.json)
            #expect(tgiError["error"]?.stringValue == "simulated engine failure")
            #expect(tgiError["error_type"]?.stringValue == "generation")
        }
    }

    @Test("faults are drawn per request from the seed: same seed, same sequence")
    func deterministicFaults() async throws {
        func statuses(seed: UInt64) async throws -> [Int] {
            try await withMock(MockConfig(timing: instant, error500Rate: 0.3, error429Rate: 0.3, seed: seed)) { mock in
                var statuses: [Int] = []
                for _ in 0..<20 {
                    statuses.append(try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, maxTokens: 1)).status)
                }
                return statuses
            }
        }
        let first = try await statuses(seed: 42)
        #expect(try await statuses(seed: 42) == first)
        #expect(Set(first) == [200, 429, 500])
        #expect(try await statuses(seed: 7) != first)
    }

    @Test("bad input gets 400 with an OpenAI-shaped error", arguments: [
        ("/v1/chat/completions", "{not json"),
        ("/v1/chat/completions", "[1, 2]"),
        ("/v1/chat/completions", "{\"model\":\"m\"}"),
        ("/v1/chat/completions", "{\"messages\":\"hello\"}"),
        ("/v1/chat/completions", "{\"messages\":[]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":5}]}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"ten\"}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":0}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2.5}"),
        ("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}"),
        ("/v1/chat/completions", ""),
        ("/v1/completions", "{\"max_tokens\":5}"),
        ("/v1/completions", "{\"prompt\":42}"),
        ("/v1/completions", "{\"prompt\":\"hi\",\"stream_options\":5}"),
        ("/generate_stream", "{\"parameters\":{\"max_new_tokens\":5}}"),
        ("/generate_stream", "{\"inputs\":\"hi\",\"parameters\":{\"max_new_tokens\":-1}}"),
        ("/generate_stream", "{\"inputs\":\"hi\",\"parameters\":[]}"),
    ])
    func badInput(path: String, body: String) async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let response = try await RawHTTP.post(mock.port, path, json: body)
            #expect(response.status == 400)
            let error = response.bodyJSON?["error"]
            #expect(error?["type"]?.stringValue == "invalid_request_error")
            #expect(error?["code"]?.intValue == 400)
            #expect((error?["message"]?.stringValue ?? "").isEmpty == false)
            #expect(await mock.stats().requestsReceived == 1)
        }
    }

    @Test("chat content may be an array of text parts")
    func contentParts() async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let body = "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"one two three\"}]}],\"stream\":true,\"max_tokens\":2,\"stream_options\":{\"include_usage\":true}}"
            let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: body)
            #expect(response.status == 200)
            #expect(response.events.compactMap { $0.json?["usage"] }.first?["prompt_tokens"]?.intValue == TokenEstimator.estimate("one two three"))
        }
    }

    @Test("/stats counts requests received, completed and in flight")
    func stats() async throws {
        try await withMock(MockConfig(timing: .fixed(ttft: .milliseconds(300), itl: .milliseconds(10)))) { mock in
            #expect(await mock.stats() == MockStats())
            _ = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 2))
            _ = try await RawHTTP.post(mock.port, "/v1/completions", json: "{}")
            async let slow = RawHTTP.post(mock.port, "/generate_stream", json: tgiBody(prompt, maxNewTokens: 2))
            #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats().activeStreams == 1 })
            let during = try #require(try await RawHTTP.get(mock.port, "/stats").bodyJSON)
            #expect(during["requestsReceived"]?.intValue == 3)
            #expect(during["activeStreams"]?.intValue == 1)
            #expect(during["queued"]?.intValue == 0)
            #expect(during["completed"]?.intValue == 1)
            _ = try await slow
            #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats() == MockStats(requestsReceived: 3, activeStreams: 0, queued: 0, completed: 2) })
            // Served JSON decodes as MockStats.
            let served = try await RawHTTP.get(mock.port, "/stats")
            let decoded = try JSONDecoder().decode(MockStats.self, from: Data(served.body))
            #expect(decoded == (await mock.stats()))
        }
    }

    @Test("stop() closes the port; start() reports a port already taken; bad config is refused")
    func lifecycle() async throws {
        let mock = try await MockServer.start(config: MockConfig(timing: instant))
        #expect(mock.baseURL == "http://127.0.0.1:\(mock.port)")
        #expect(mock.port > 0)
        #expect(RawHTTP.canConnect(mock.port))
        await #expect(throws: (any Error).self) {
            _ = try await MockServer.start(config: MockConfig(timing: instant), port: mock.port)
        }
        await mock.stop()
        await mock.stop()
        #expect(!RawHTTP.canConnect(mock.port))
        await #expect(throws: MockConfigError.self) {
            _ = try await MockServer.start(config: MockConfig(timing: .engine(EngineProfile(maxBatch: 0))))
        }
        await #expect(throws: MockConfigError.self) {
            _ = try await MockServer.start(config: MockConfig(abortRate: 1.5))
        }
    }

    @Test("stop() cuts streams in progress and returns promptly")
    func stopDuringStreams() async throws {
        let mock = try await MockServer.start(config: MockConfig(timing: .engine(EngineProfile(decodeMsPerStep: 50, maxBatch: 1))))
        let port = mock.port
        let streams = (0..<3).map { _ in
            Task { try await RawHTTP.post(port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 1000)) }
        }
        #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats().queued == 2 })
        let started = ContinuousClock.now
        await mock.stop()
        #expect(ContinuousClock.now - started < .seconds(2))
        for stream in streams {
            let response = try? await stream.value
            #expect(response?.complete != true)
        }
    }

    @Test("a client that hangs up frees its batch slot and its in-flight count")
    func clientHangUp() async throws {
        let profile = EngineProfile(prefillMsPerInputToken: 0, decodeMsPerStep: 10, maxBatch: 1, batchSlowdown: 0)
        try await withMock(MockConfig(timing: .engine(profile))) { mock in
            let port = mock.port
            let leaver = Task {
                try await RawHTTP.post(port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 100_000), hangUpAfterEvents: 3)
            }
            #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats().activeStreams == 1 })
            let waiter = try await RawHTTP.post(port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 3))
            #expect(answerEvents(waiter).count == 3)
            #expect(try await leaver.value.events.count >= 3)
            #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats() == MockStats(requestsReceived: 2, activeStreams: 0, queued: 0, completed: 1) })
        }
    }

    @Test("stop() also ends fixed-timing streams that are waiting on a long delay")
    func stopDuringLongDelay() async throws {
        let mock = try await MockServer.start(config: MockConfig(timing: .fixed(ttft: .seconds(30), itl: .zero)))
        let port = mock.port
        let streams = (0..<2).map { _ in Task { try await RawHTTP.post(port, "/generate_stream", json: tgiBody(prompt)) } }
        let nonStreamed = Task { try await RawHTTP.post(port, "/v1/completions", json: completionsBody(prompt, stream: false)) }
        #expect(await waitUntil(timeout: .seconds(3)) { await mock.stats().activeStreams == 3 })
        let started = ContinuousClock.now
        await mock.stop()
        #expect(ContinuousClock.now - started < .seconds(1))
        for stream in streams {
            let response = try? await stream.value
            #expect(response?.complete != true)
        }
        #expect((try? await nonStreamed.value)?.status != 200)
    }

    @Test("serve() reports its port, serves, and returns when cancelled")
    func serveUntilCancelled() async throws {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let serving = Task {
            try await MockServer.serve(config: MockConfig(timing: instant), host: "127.0.0.1", port: 0,
                                       logger: .init(label: "test")) { portContinuation.yield($0) }
        }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        #expect(try await RawHTTP.get(port, "/health").status == 200)
        serving.cancel()
        try await serving.value
        #expect(!RawHTTP.canConnect(port))
    }
}
}
