import Foundation
import StampedeCore
import StampedeTestSupport
import Testing
@testable import StampedeClient

/// A response is read within bounds: a line or an event past the parser's limit, or too many token
/// chunks, ends the request as `response_too_large` and frees what was buffered.
@Suite struct ResponseLimitTests {
    // MARK: The parser

    @Test func aLineOverTheLimitStopsTheParserAndFreesItsBuffer() {
        var parser = SSEParser(maxLineBytes: 64, maxEventBytes: 1024)
        let ok = "data: " + String(repeating: "a", count: 58) + "\n\n"  // 64 bytes without its line end
        #expect(parser.feed(Array(ok.utf8)) == [SSEEvent(data: String(repeating: "a", count: 58))])
        #expect(parser.limitExceeded == nil)
        // 65 bytes, arriving in pieces: refused as soon as the partial line passes the limit.
        #expect(parser.feed(Array(("data: " + String(repeating: "b", count: 40)).utf8)).isEmpty)
        #expect(parser.limitExceeded == nil && parser.hasPendingInput)
        #expect(parser.feed(Array(String(repeating: "b", count: 19).utf8)).isEmpty)
        #expect(parser.limitExceeded == .line(64))
        #expect(!parser.hasPendingInput, "the partial line is released")
        // Later input is ignored, even well-formed events.
        #expect(parser.feed(Array("data: x\n\n".utf8)).isEmpty)
        #expect(parser.limitExceeded == .line(64))
    }

    @Test func aLongLineInOneReadIsRefusedToo() {
        var parser = SSEParser(maxLineBytes: 64, maxEventBytes: 1024)
        let events = parser.feed(Array(("data: 1\n\ndata: " + String(repeating: "x", count: 100) + "\n\n").utf8))
        #expect(events == [SSEEvent(data: "1")], "events before the long line are still delivered")
        #expect(parser.limitExceeded == .line(64))
    }

    @Test func anEventOverTheLimitStopsTheParser() {
        var parser = SSEParser(maxLineBytes: 64, maxEventBytes: 100)
        // 10 lines of 9 bytes + 9 "\n" between them: 99 bytes of data, within the limit.
        let fits = String(repeating: "data: 123456789\n", count: 10) + "\n"
        #expect(parser.feed(Array(fits.utf8)).first?.data.utf8.count == 99)
        // An 11th line makes 109: refused before the event is complete; the data buffer is released.
        #expect(parser.feed(Array(String(repeating: "data: 123456789\n", count: 11).utf8)).isEmpty)
        #expect(parser.limitExceeded == .event(100))
        #expect(!parser.hasPendingInput)
        _ = parser.finish()
        #expect(parser.limitExceeded == nil, "finish() resets the parser for reuse")
    }

    @Test func defaultsAreFourMiB() {
        let parser = SSEParser()
        #expect(parser.maxLineBytes == 4 << 20 && parser.maxEventBytes == 4 << 20)
    }

    // MARK: The session

    @Test func theSessionFailsAsResponseTooLarge() {
        let long = "data: " + String(repeating: "z", count: 1000)
        let (record, state, taken) = runSession([sse([Streams.chat(#"{"content":"a"}"#)]), long, "more", sse(["[DONE]"])],
                                                parser: SSEParser(maxLineBytes: 400, maxEventBytes: 400))
        #expect(state == .failed)
        #expect(record.errorClass == .responseTooLarge)
        #expect(record.errorMessage == "response too large: an event-stream line is longer than 400 bytes; the rest was not read")
        #expect(taken == 2, "reading stops at the read that passed the limit")
        #expect(record.tokenChunkNs == [10], "the token before it is kept")
        let (event, _, _) = runSession([String(repeating: "data: 0123456789\n", count: 20)], parser: SSEParser(maxEventBytes: 128))
        #expect(event.errorClass == .responseTooLarge)
        #expect(event.errorMessage?.contains("an event's data is larger than 128 bytes") == true, "\(event.errorMessage ?? "")")
    }

    @Test func tooManyTokenChunksFail() {
        let tokens = (0..<5).map { _ in Streams.chat(#"{"content":"t"}"#) } + ["[DONE]"]
        let (record, _, _) = runSession([sse(tokens)], maxTokenChunks: 4)
        #expect(record.errorClass == .responseTooLarge)
        #expect(record.errorMessage?.contains("more than 4 token chunks") == true)
        #expect(record.tokenChunkNs.count == 4)
        #expect(runSession([sse(Array(tokens.dropFirst()))], maxTokenChunks: 4).record.succeeded)
    }

    /// The correctness check keeps 64 KiB of answer: a reply that goes on for megabytes costs no more.
    @Test func answerTextIsBounded() {
        let big = String(repeating: "x", count: 40_000)
        let chunks = [Streams.chat(#"{"content":"1234 "}"#)] + (0..<50).map { _ in Streams.chat(#"{"content":"\#(big)"}"#) } + ["[DONE]"]
        #expect(runSession([sse(chunks)], expectedNumber: 1234).record.correct == true)
        let late = (0..<50).map { _ in Streams.chat(#"{"content":"\#(big)"}"#) } + [Streams.chat(#"{"content":" 1234"}"#), "[DONE]"]
        #expect(runSession([sse(late)], expectedNumber: 1234).record.correct == false, "a number past 64 KiB is not read")
    }

    /// An in-band error as long as an event is cut to one line of at most 400 characters.
    @Test func longMessagesAreCut() {
        let message = String(repeating: "m", count: 100_000)
        let (record, _, _) = runSession([sse([#"{"error":{"message":"\#(message)"}}"#])])
        #expect(record.errorClass == .streamError)
        #expect((record.errorMessage?.count ?? 0) <= StreamSession.messageLimit + 1)
    }

    // MARK: On the wire

    /// A 50 MB line (one chunk of 64 KiB after another, then its end): the request fails as soon as
    /// the first 4 MiB have come, instead of buffering 50 MB and counting a success.
    @Test(.timeLimit(.minutes(1)))
    func aFiftyMegabyteLineFailsPromptly() async throws {
        let piece = String(repeating: "a", count: 64 << 10)
        let server = try ScriptedServer(steps: [
            .streamHead, .chunk("data: {\"choices\":[{\"delta\":{\"content\":\""), .repeatChunk(piece, times: 800),
            .chunk("\"}}]}\n\n" + "data: [DONE]\n\n"), .end,
        ])
        let (record, elapsed) = try await withScriptedServer(server) { server in
            try await withClient(ClientConfig(baseURL: server.baseURL, api: .chat, model: "m")) { await send($0) }
        }
        #expect(record.errorClass == .responseTooLarge, "\(record.errorClass?.rawValue ?? "success") \(record.errorMessage ?? "")")
        #expect(record.errorMessage?.contains("line is longer than 4 MiB") == true)
        #expect(elapsed < .ms(10_000), "\(elapsed / 1_000_000) ms")
    }

    /// A line that never ends (64 GB, if the client kept reading): failed at the limit, not at the
    /// 600 s request timeout.
    @Test(.timeLimit(.minutes(1)))
    func aNeverEndingLineFailsPromptly() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .chunk("data: "), .repeatChunk(String(repeating: "b", count: 64 << 10), times: 1_000_000)])
        let (record, elapsed) = try await withScriptedServer(server) { server in
            try await withClient(ClientConfig(baseURL: server.baseURL, api: .chat, model: "m")) { await send($0) }
        }
        #expect(record.errorClass == .responseTooLarge, "\(record.errorClass?.rawValue ?? "success") \(record.errorMessage ?? "")")
        #expect(elapsed < .ms(10_000), "\(elapsed / 1_000_000) ms")
    }

    /// Many events that never end (data lines without the empty line): the event limit.
    @Test(.timeLimit(.minutes(1)))
    func anEventThatNeverEndsFailsPromptly() async throws {
        let server = try ScriptedServer(steps: [.streamHead, .repeatChunk("data: " + String(repeating: "c", count: 1000) + "\n", times: 1_000_000)])
        let (record, elapsed) = try await withScriptedServer(server) { server in
            try await withClient(ClientConfig(baseURL: server.baseURL, api: .chat, model: "m")) { await send($0) }
        }
        #expect(record.errorClass == .responseTooLarge)
        #expect(record.errorMessage?.contains("event's data is larger than 4 MiB") == true, "\(record.errorMessage ?? "")")
        #expect(elapsed < .ms(10_000), "\(elapsed / 1_000_000) ms")
    }
}
