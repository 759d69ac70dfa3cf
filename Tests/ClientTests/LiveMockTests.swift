import StampedeClient
import StampedeCore
import StampedeMock
import StampedeTestSupport
import Testing

/// The client against the simulated server (`StampedeMock`), one dialect at a time.
@Suite struct LiveMockTests {
    static let fixed = MockConfig(timing: .fixed(ttft: .milliseconds(50), itl: .milliseconds(5)))

    @Test(arguments: APIDialect.allCases)
    func dialectAgainstMock(_ api: APIDialect) async throws {
        let record = try await withMock(Self.fixed) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: api, model: "stampede-mock")) { client in
                await send(client).record
            }
        }
        #expect(record.succeeded, "\(record.errorMessage ?? "")")
        #expect(record.status == 200)
        #expect(record.tokenChunkNs.count == 20)
        #expect(record.outputTokens == 20)
        #expect(record.requestedOutputTokens == 20)
        #expect(record.inputTokensEstimate == 999)
        switch api {
        case .chat, .completions:
            #expect(record.tokenSource == .usage)
            #expect(record.inputTokens == TokenEstimator.estimate(livePrompt))
        case .tgi:
            #expect(record.tokenSource == .tgiDetails)
            #expect(record.inputTokens == 999)
        }
        let firstToken = try #require(record.firstTokenNs)
        let firstByte = try #require(record.firstByteNs)
        #expect(record.sendNs >= record.scheduledNs)
        #expect(firstByte >= record.sendNs && firstByte <= firstToken)
        #expect(firstToken - record.sendNs >= .ms(49), "TTFT is at least the mock's 50 ms")
        #expect(firstToken - record.sendNs < .ms(2000))
        #expect(record.firstAnswerTokenNs == firstToken)
        #expect(record.tokenChunkNs == record.tokenChunkNs.sorted())
        #expect(record.tokenChunkNs.first == firstToken)
        // The mock's deadlines are absolute: the 20th token is due 50 + 19 × 5 ms after arrival. (A lower
        // bound only: a busy test machine can read the first tokens late and several in one read.)
        #expect(record.tokenChunkNs.last! - record.sendNs >= .ms(144))
        #expect(record.endNs >= record.tokenChunkNs.last!)
    }

    @Test func reasoningTokensCountTowardTTFTButNotAnswerTTFT() async throws {
        var config = Self.fixed
        config.reasoningTokens = 5
        let record = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .chat, model: "stampede-mock")) { client in
                await send(client).record
            }
        }
        #expect(record.succeeded)
        #expect(record.tokenSource == .usage && record.outputTokens == 25)
        #expect(record.tokenChunkNs.count == 25)
        let firstToken = try #require(record.firstTokenNs)
        let firstAnswer = try #require(record.firstAnswerTokenNs)
        // Five reasoning chunks come first; the sixth token chunk is the first answer, due 50 + 5 × 5 ms after arrival.
        #expect(record.tokenChunkNs[5] == firstAnswer)
        #expect(firstToken <= firstAnswer)
        #expect(firstAnswer - record.sendNs >= .ms(74))
    }

    @Test func throttled429() async throws {
        var config = Self.fixed
        config.error429Rate = 1
        let record = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m")) { await send($0).record }
        }
        #expect(record.errorClass == .throttled)
        #expect(record.status == 429)
        #expect(record.errorMessage == "HTTP 429: simulated rate limit: too many requests")
        #expect(record.tokenChunkNs.isEmpty && record.outputTokens == 0)
    }

    @Test func serverError500() async throws {
        var config = Self.fixed
        config.error500Rate = 1
        let record = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .completions, model: "m")) { await send($0).record }
        }
        #expect(record.errorClass == .http5xx)
        #expect(record.status == 500)
        #expect(record.errorMessage == "HTTP 500: simulated internal server error")
    }

    @Test(arguments: APIDialect.allCases)
    func abortMidStream(_ api: APIDialect) async throws {
        var config = Self.fixed
        config.abortRate = 1
        let record = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: api, model: "m")) { await send($0).record }
        }
        #expect(record.errorClass == .streamError, "\(record.errorMessage ?? "")")
        #expect(record.status == 200)
        // The mock cuts after half the tokens; AsyncHTTPClient may drop the very last read before the
        // close when the consumer had no demand outstanding, so allow a short count.
        #expect((5...10).contains(record.tokenChunkNs.count), "about half the tokens came before the cut")
    }

    @Test(arguments: APIDialect.allCases)
    func streamErrorEvent(_ api: APIDialect) async throws {
        var config = Self.fixed
        config.streamErrorRate = 1
        let record = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: api, model: "m")) { await send($0).record }
        }
        #expect(record.errorClass == .streamError)
        #expect(record.errorMessage == "simulated engine failure")
        #expect(record.tokenChunkNs.count == 10)
    }

    @Test func connectionRefused() async throws {
        let port = try freeLoopbackPort()
        let (record, elapsed) = try await withClient(ClientConfig(baseURL: "http://127.0.0.1:\(port)", api: .chat, model: "m")) {
            await send($0)
        }
        #expect(record.errorClass == .connect, "\(record.errorMessage ?? "")")
        #expect(record.errorMessage == "connect failed: Connection refused")
        #expect(record.status == nil && record.firstByteNs == nil)
        #expect(elapsed < .ms(3000), "a refused connection fails at once, not after retries")
    }

    @Test func timeoutBeforeTheFirstToken() async throws {
        let config = MockConfig(timing: .fixed(ttft: .seconds(5), itl: .milliseconds(5)))
        let (record, elapsed) = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m", requestTimeout: .milliseconds(300))) {
                await send($0)
            }
        }
        #expect(record.errorClass == .timeout)
        #expect(record.errorMessage == "request timed out after 300ms")
        #expect(record.endNs - record.sendNs == .ms(300))
        #expect(elapsed < .ms(2500))
        #expect(record.tokenChunkNs.isEmpty)
    }

    @Test func timeoutMidStream() async throws {
        let config = MockConfig(timing: .fixed(ttft: .milliseconds(10), itl: .milliseconds(150)))
        let (record, elapsed) = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .completions, model: "m", requestTimeout: .milliseconds(1500))) {
                await send($0, plannedRequest(maxTokens: 100))
            }
        }
        #expect(record.errorClass == .timeout)
        #expect(record.errorMessage == "request timed out after 1.5s")
        #expect(record.status == 200)
        #expect((1...10).contains(record.tokenChunkNs.count), "the tokens before the deadline are kept")
        #expect(record.endNs - record.sendNs == .ms(1500), "a timed-out request ends at its deadline")
        #expect(elapsed < .ms(4000))
    }

    @Test func cancellationStopsPromptly() async throws {
        let config = MockConfig(timing: .fixed(ttft: .seconds(10), itl: .milliseconds(5)))
        let elapsed = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m")) { client in
                let start = ContinuousClock.now
                let task = Task { await send(client).record }
                try await Task.sleep(for: .milliseconds(100))
                task.cancel()
                let record = await task.value
                #expect(record.errorClass != nil)
                return ContinuousClock.now - start
            }
        }
        #expect(elapsed < .seconds(3))
    }

    /// AsyncHTTPClient's default pool (8 connections per host) would queue 64 concurrent requests in
    /// eight waves of 300 ms (the slowest TTFT at least 2.4 s); the client's pool takes them all at once.
    @Test func poolIsNotThrottledToEightConnections() async throws {
        let config = MockConfig(timing: .fixed(ttft: .milliseconds(300), itl: .milliseconds(1)))
        let records = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .completions, model: "m")) { client in
                await withTaskGroup(of: RequestRecord.self) { group in
                    for _ in 0..<64 { group.addTask { await send(client, plannedRequest(maxTokens: 2)).record } }
                    return await group.reduce(into: []) { $0.append($1) }
                }
            }
        }
        #expect(records.allSatisfy { $0.succeeded })
        let slowest = records.compactMap { record in record.firstTokenNs.map { $0 - record.sendNs } }.max() ?? .max
        #expect(slowest < .ms(1800), "slowest TTFT \(slowest / 1_000_000) ms")
    }

    @Test func manyConcurrentRequests() async throws {
        let config = MockConfig(timing: .fixed(ttft: .milliseconds(20), itl: .milliseconds(2)))
        let records = try await withMock(config) { mock in
            try await withClient(ClientConfig(baseURL: mock.baseURL, api: .chat, model: "m")) { client in
                await withTaskGroup(of: RequestRecord.self) { group in
                    for _ in 0..<64 { group.addTask { await send(client, plannedRequest(maxTokens: 10)).record } }
                    return await group.reduce(into: []) { $0.append($1) }
                }
            }
        }
        #expect(records.count == 64)
        #expect(records.allSatisfy { $0.succeeded && $0.outputTokens == 10 && $0.tokenChunkNs.count == 10 })
    }
}
