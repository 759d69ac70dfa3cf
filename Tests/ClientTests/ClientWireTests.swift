import Foundation
import StampedeClient
import StampedeCore
import StampedeTestSupport
import Testing

/// The client against a scripted server that shapes the wire byte by byte.
@Suite struct ClientWireTests {
    static func token(_ text: String, finish: String = "null") -> String {
        "data: " + Streams.chat(#"{"content":"\#(text)"}"#, finish: finish) + "\n\n"
    }

    static let done = "data: [DONE]\n\n"

    func chatConfig(_ server: ScriptedServer, apiKey: String? = nil) -> ClientConfig {
        ClientConfig(baseURL: server.baseURL, api: .chat, model: "m", apiKey: apiKey)
    }

    @Test func doneEndsTheRequestWithoutWaitingForTheConnection() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token("a")), .sleep(milliseconds: 30), .chunk(Self.done), .hold])
        let (record, elapsed) = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0) }
        }
        #expect(record.succeeded, "\(record.errorMessage ?? "")")
        #expect(record.tokenChunkNs.count == 1)
        #expect(record.endNs - record.sendNs >= .ms(29), "[DONE] comes 30 ms after the token")
        // endNs is the arrival of [DONE], not the moment the drain gave up on the held-open response.
        #expect(elapsed - record.endNs >= StreamingClient.drainGrace.nanoseconds - .ms(1))
        #expect(elapsed < .ms(4000), "the held-open response is abandoned after the drain grace")
    }

    @Test func lateTerminatorAfterDoneDoesNotDelayTheCaller() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token("a") + Self.done), .sleep(milliseconds: 3000), .end])
        let (record, elapsed) = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0) }
        }
        #expect(record.succeeded)
        #expect(elapsed < .ms(2500), "the terminator comes 3 s after [DONE]")
    }

    /// The terminator comes in its own write after `[DONE]`: the client reads it, so the connection
    /// returns to the pool and the next requests reuse it.
    @Test func connectionIsReusedAfterDone() async throws {
        let server = try ScriptedServer(steps: [
            .streamHead, .chunk(Self.token("a")), .chunk(Self.done), .sleep(milliseconds: 20), .end,
        ])
        let records = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { client in
                var records: [RequestRecord] = []
                for _ in 0..<4 { records.append(await send(client).record) }
                return records
            }
        }
        #expect(records.allSatisfy { $0.succeeded })
        #expect(server.requests.count == 4)
        // One connection normally; a heavily loaded machine can miss the drain grace once in a while.
        // Without the drain every request would open its own connection.
        #expect(server.connections <= 2)
    }

    @Test func requestShape() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.done), .end])
        let config = ClientConfig(baseURL: server.baseURL + "/proxy/", api: .chat, model: "llama-3", apiKey: "sk-test-42",
                                  extraBody: .object(["temperature": .number(0), "stream_options": .object(["continuous_usage_stats": .bool(true)])]))
        _ = try await withScriptedServer(server) { _ in
            try await withClient(config) { await send($0, plannedRequest(maxTokens: 7)) }
        }
        let request = try #require(server.requests.first)
        #expect(request.head.hasPrefix("POST /proxy/v1/chat/completions HTTP/1.1\r\n"))
        #expect(request.header("content-type") == "application/json")
        #expect(request.header("accept") == "text/event-stream")
        #expect(request.header("authorization") == "Bearer sk-test-42")
        let body = try JSONDecoder().decode(JSONValue.self, from: Data(request.body.utf8))
        #expect(body == .object([
            "model": .string("llama-3"),
            "messages": .array([.object(["role": .string("user"), "content": .string(livePrompt)])]),
            "max_tokens": .number(7),
            "stream": .bool(true),
            "stream_options": .object(["continuous_usage_stats": .bool(true)]),
            "temperature": .number(0),
        ]))
    }

    @Test func noAuthorizationHeaderWithoutAKey() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.done), .end])
        _ = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0) }
        }
        #expect(server.requests.first?.header("authorization") == nil)
    }

    @Test func apiKeyIsRedactedFromHTTPErrors() async throws {
        let server = try ScriptedServer(steps: [.response("401 Unauthorized", contentType: "application/json",
                                                          body: #"{"error":{"message":"invalid api key sk-live-777"}}"#)])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server, apiKey: "sk-live-777")) { await send($0).record }
        }
        #expect(record.errorClass == .http4xx && record.status == 401)
        #expect(record.errorMessage == "HTTP 401: invalid api key ***")
    }

    /// Each network read gets its own time; an event split across two writes (inside a UTF-8
    /// character) and CR line ends survive the trip; the answer text of all chunks feeds the
    /// correctness check.
    @Test func readsAreTimedOneByOne() async throws {
        let second = Array(Self.token("é1").replacingOccurrences(of: "\n", with: "\r").utf8)
        let cut = second.firstIndex(of: 0xC3)! + 1
        let server = try ScriptedServer(steps: [
            .streamHead, .chunk(Self.token("It is ")), .sleep(milliseconds: 200),
            .raw(chunked(second[..<cut])), .sleep(milliseconds: 200), .raw(chunked(second[cut...])),
            .sleep(milliseconds: 200), .chunk(Self.token("234", finish: #""stop""#) + Self.done), .end,
        ])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0, plannedRequest(expectedNumber: 1234)).record }
        }
        #expect(record.succeeded)
        // Lower bounds from the server's pauses (a busy machine may read late, never early), and one
        // distinct time per read.
        let times = record.tokenChunkNs.map { $0 - record.sendNs }
        #expect(times.count == 3)
        #expect(times.count == 3 && times[0] < times[1] && times[1] < times[2], "\(times)")
        #expect(times.count == 3 && times[1] >= .ms(400) && times[2] >= .ms(600), "\(times)")
        // "It is " + "é1" + "234" contains 1234.
        #expect(record.correct == true)
        #expect(record.outputTokens == 3 && record.tokenSource == .chunks)
    }

    @Test func correctAnswerAcrossChunks() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token("12")), .chunk(Self.token("34") + Self.done), .end])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0, plannedRequest(expectedNumber: 1234)).record }
        }
        #expect(record.correct == true)
    }

    @Test func jsonSuccessBodyIsMalformed() async throws {
        let server = try ScriptedServer(steps: [.response("200 OK", contentType: "application/json",
                                                          body: #"{"choices":[{"message":{"content":"hi"}}]}"#)])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0).record }
        }
        #expect(record.errorClass == .malformed && record.status == 200)
        #expect(record.errorMessage?.hasPrefix("expected an event stream, got application/json") == true)
    }

    @Test func htmlSuccessBodyIsMalformed() async throws {
        let server = try ScriptedServer(steps: [.response("200 OK", contentType: "text/html", body: "<html><body>login</body></html>")])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0).record }
        }
        #expect(record.errorClass == .malformed)
        #expect(record.errorMessage == "response is not an event stream: <html><body>login</body></html>")
    }

    @Test func connectionClosedMidStream() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token("a")), .sleep(milliseconds: 20), .close])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0).record }
        }
        #expect(record.errorClass == .streamError)
        #expect(record.errorMessage == "connection closed mid-stream")
        #expect(record.tokenChunkNs.count == 1 && record.outputTokens == 1)
    }

    @Test func endWithoutDoneAfterFinishReasonSucceeds() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token("a", finish: #""stop""#)), .end])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0).record }
        }
        #expect(record.succeeded)
    }

    @Test func endWithoutDoneOrFinishReasonFails() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token("a")), .end])
        let record = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0).record }
        }
        #expect(record.errorClass == .streamError && record.errorMessage == "stream ended before [DONE]")
    }

    @Test func hugeErrorBodyIsCut() async throws {
        let server = try ScriptedServer(steps: [.response("503 Service Unavailable", contentType: "text/plain",
                                                          body: String(repeating: "overloaded ", count: 100_000))])
        let (record, elapsed) = try await withScriptedServer(server) { server in
            try await withClient(chatConfig(server)) { await send($0) }
        }
        #expect(record.errorClass == .http5xx)
        #expect(record.errorMessage?.count == "HTTP 503: ".count + 201)
        #expect(elapsed < .ms(3000))
    }
}

/// `bytes` as one chunk of a chunked body.
func chunked(_ bytes: some Collection<UInt8>) -> [UInt8] {
    Array(String(bytes.count, radix: 16).utf8) + [13, 10] + Array(bytes) + [13, 10]
}
