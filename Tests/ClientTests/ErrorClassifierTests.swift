import AsyncHTTPClient
import Foundation
import NIOCore
import StampedeCore
import Testing
@testable import StampedeClient

@Suite struct ErrorClassifierTests {
    func http(_ status: Int, _ body: String) -> (ErrorClass, String) {
        ErrorClassifier.httpError(status: status, body: Array(body.utf8))
    }

    @Test func statusClasses() {
        #expect(http(429, "").0 == .throttled)
        #expect(http(400, "").0 == .http4xx)
        #expect(http(401, "").0 == .http4xx)
        #expect(http(404, "").0 == .http4xx)
        #expect(http(500, "").0 == .http5xx)
        #expect(http(503, "").0 == .http5xx)
        #expect(http(504, "").0 == .http5xx)
    }

    @Test func jsonBodiesGiveTheirMessage() {
        #expect(http(503, #"{"error":{"message":"Service overloaded","type":"server_error","code":503}}"#).1 == "HTTP 503: Service overloaded")
        #expect(http(429, #"{"object":"error","message":"rate limited","type":"x","code":429}"#).1 == "HTTP 429: rate limited")
        #expect(http(422, #"{"error":"Input validation error: inputs too long","error_type":"validation"}"#).1
            == "HTTP 422: Input validation error: inputs too long")
        #expect(http(404, #"{"detail":"Not Found"}"#).1 == "HTTP 404: Not Found")
        #expect(http(400, #"{"message":"bad"}"#).1 == "HTTP 400: bad")
        #expect(http(500, #"{"status":"down"}"#).1 == #"HTTP 500: {"status":"down"}"#)
    }

    @Test func textBodiesGiveAnExcerpt() {
        #expect(http(502, "<html>\n  <body>Bad   Gateway</body>\n</html>").1 == "HTTP 502: <html> <body>Bad Gateway</body> </html>")
        let long = String(repeating: "abcdefghij", count: 100)
        #expect(http(500, long).1 == "HTTP 500: " + String(long.prefix(200)) + "…")
        #expect(http(503, "").1 == "HTTP 503: Service Unavailable")
        #expect(http(429, " \n").1 == "HTTP 429: Too Many Requests")
    }

    @Test func onlyTheFirst4KiBAreRead() {
        // A JSON message placed after 4 KiB of padding cannot be seen.
        let body = "{\"pad\":\"" + String(repeating: " ", count: 5000) + "\",\"message\":\"late\"}"
        #expect(!http(500, body).1.contains("late"))
    }

    @Test func transportErrors() {
        #expect(ErrorClassifier.transport(HTTPClientError.deadlineExceeded, phase: .beforeHead).0 == .timeout)
        #expect(ErrorClassifier.transport(HTTPClientError.readTimeout, phase: .body).0 == .timeout)
        #expect(ErrorClassifier.transport(HTTPClientError.connectTimeout, phase: .beforeHead).0 == .connect)
        #expect(ErrorClassifier.transport(ChannelError.connectTimeout(.seconds(1)), phase: .beforeHead).0 == .connect)
        #expect(ErrorClassifier.transport(IOError(errnoCode: ECONNREFUSED, reason: "connect"), phase: .beforeHead)
            == (.connect, "connect failed: Connection refused"))
        #expect(ErrorClassifier.transport(HTTPClientError.remoteConnectionClosed, phase: .body)
            == (.streamError, "connection closed mid-stream"))
        #expect(ErrorClassifier.transport(HTTPClientError.remoteConnectionClosed, phase: .beforeHead).0 == .streamError)
        #expect(ErrorClassifier.transport(ChannelError.eof, phase: .body).0 == .streamError)
        #expect(ErrorClassifier.transport(IOError(errnoCode: ECONNRESET, reason: "read"), phase: .body).0 == .streamError)
    }

    @Test func redaction() {
        #expect(ErrorClassifier.redact("key sk-1 and sk-1", apiKey: "sk-1") == "key *** and ***")
        #expect(ErrorClassifier.redact("nothing here", apiKey: "sk-1") == "nothing here")
        #expect(ErrorClassifier.redact("empty key", apiKey: "") == "empty key")
        #expect(ErrorClassifier.redact("no key", apiKey: nil) == "no key")
    }
}
