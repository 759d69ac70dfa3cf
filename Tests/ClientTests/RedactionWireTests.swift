import Foundation
import StampedeCore
import StampedeTestSupport
import Testing
@testable import StampedeClient

/// Targets that echo the `Authorization` header back, in every form a server or proxy might: raw,
/// in a JSON body with escaped slashes and `\u002b`, cut at the excerpt limit, in an error event,
/// in a body that is not a stream. No record message may hold 8 characters of the key.
@Suite struct RedactionWireTests {
    static let key = "sk-live/AbCdEfGh+1234/wxyz+5678"
    /// The key as JSON encoders write it: `\/` for `/`, `\u002b` for `+`.
    static let escaped = key.replacingOccurrences(of: "/", with: #"\/"#).replacingOccurrences(of: "+", with: #"\u002b"#)

    static func json(_ status: String, _ body: String) -> [ScriptedServer.Step] {
        [.response(status, contentType: "application/json", body: body)]
    }

    static func stream(_ text: String) -> [ScriptedServer.Step] {
        [.streamHead, .chunk(text), .end]
    }

    static let forms: [(String, [ScriptedServer.Step])] = [
        ("raw in a text error", [.response("401 Unauthorized", contentType: "text/plain", body: "unauthorized: Bearer \(key)")]),
        ("escaped in a JSON error without a message", json("401 Unauthorized", #"{"error":{"code":"bad_key","auth":"Bearer \#(escaped)"}}"#)),
        ("escaped in a JSON detail", json("403 Forbidden", #"{"detail":"Bearer \#(escaped) is not allowed"}"#)),
        ("escaped in an unknown JSON error body", json("400 Bad Request", #"{"seen":{"authorization":"Bearer \#(escaped)"}}"#)),
        ("cut at the excerpt limit", [.response("500 Internal Server Error", contentType: "text/plain",
                                                body: String(repeating: "x", count: 180) + " Bearer " + key)]),
        ("escaped and cut", [.response("502 Bad Gateway", contentType: "text/plain",
                                       body: String(repeating: "y", count: 185) + " " + escaped)]),
        ("escaped in an error event", stream(#"data: {"error":{"message":"bad token Bearer \#(escaped)"}}"# + "\n\n")),
        ("escaped in an error event without a message", stream(#"data: {"error":{"type":"auth","auth":"\#(escaped)"}}"# + "\n\n")),
        ("raw in an `event: error`", stream("event: error\ndata: Bearer \(key)\n\n")),
        ("raw in malformed event data", stream("data: not json, Bearer \(key)\n\n")),
        ("escaped in a JSON body that is not a stream", json("200 OK", #"{"echo":"\#(escaped)"}"#)),
        ("raw in a body that is no stream", [.response("200 OK", contentType: "text/html", body: "<p>Bearer \(key)</p>")]),
    ]

    @Test("no 8 characters of the key in the record's message", arguments: forms)
    func noLeak(_ name: String, _ steps: [ScriptedServer.Step]) async throws {
        let server = try ScriptedServer(steps: steps)
        let record = try await withScriptedServer(server) { server in
            try await withClient(ClientConfig(baseURL: server.baseURL, api: .chat, model: "m", apiKey: Self.key)) { await send($0).record }
        }
        #expect(server.requests.first?.header("authorization") == "Bearer \(Self.key)")
        let message = try #require(record.errorMessage, "\(name): the request must fail")
        for form in secretReadings(of: message) {
            #expect(!Self.leaks(in: form), "\(name): \(message)")
        }
        // What a reader of the JSON outputs sees: the message encoded as JSON.
        let encoded = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        for form in secretReadings(of: encoded) {
            #expect(!Self.leaks(in: form), "\(name) (JSON): \(encoded)")
        }
    }

    /// True when `text` holds any 8 consecutive characters of the key.
    static func leaks(in text: String) -> Bool {
        let characters = Array(key)
        return (0...(characters.count - 8)).contains { text.contains(String(characters[$0..<($0 + 8)])) }
    }
}
