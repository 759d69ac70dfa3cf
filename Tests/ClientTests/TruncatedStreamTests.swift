import Foundation
import StampedeClient
import StampedeCore
import StampedeTestSupport
import Testing

/// A server that cuts responses short under load is counted, not hidden: a transfer that ends badly
/// is a `stream_error` even when the stream's end event came first (a llama.cpp server gave 20 of 20
/// "ok" at 1–3 of 40 tokens; aiperf counted 19 of those as errors).
@Suite struct TruncatedStreamTests {
    static let token = ClientWireTests.token("a")
    static let done = ClientWireTests.done

    func config(_ server: ScriptedServer) -> ClientConfig {
        ClientConfig(baseURL: server.baseURL, api: .chat, model: "m")
    }

    @Test("a chunked body cut off after [DONE] (no terminator, connection closed) is a stream_error")
    func chunkedCutAfterDone() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token + Self.done), .sleep(milliseconds: 20), .close])
        let (record, _) = try await withScriptedServer(server) { server in
            try await withClient(config(server)) { await send($0) }
        }
        #expect(record.errorClass == .streamError, "\(record.errorMessage ?? "succeeded")")
        #expect(record.errorMessage?.contains("cut after its end event") == true, "\(record.errorMessage ?? "")")
    }

    @Test("a content length not reached after [DONE] is a stream_error")
    func contentLengthShort() async throws {
        let body = "data: " + Streams.chat(#"{"content":"a"}"#, finish: "null") + "\n\n" + Self.done
        let server = try ScriptedServer(steps: [
            .raw("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: \(body.utf8.count + 500)\r\n\r\n\(body)"),
            .sleep(milliseconds: 20), .close,
        ])
        let (record, _) = try await withScriptedServer(server) { server in
            try await withClient(config(server)) { await send($0) }
        }
        #expect(record.errorClass == .streamError, "\(record.errorMessage ?? "succeeded")")
    }

    @Test("the same stream with its terminator is a success")
    func wellEndedIsASuccess() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk(Self.token + Self.done), .sleep(milliseconds: 20), .end, .hold])
        let (record, _) = try await withScriptedServer(server) { server in
            try await withClient(config(server)) { await send($0) }
        }
        #expect(record.succeeded, "\(record.errorMessage ?? "")")
    }
}
