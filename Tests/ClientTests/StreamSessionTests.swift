import StampedeCore
import Testing
@testable import StampedeClient

/// Drives a session the way `StreamingClient` does: head at t=5, each read at 10, 20, 30, …, then the
/// body's end (unless a read ended the request).
func runSession(_ reads: [String], api: APIDialect = .chat, status: Int = 200,
                contentType: String? = "text/event-stream", expectedNumber: Int? = nil,
                apiKey: String? = nil, parser: SSEParser = SSEParser(),
                maxTokenChunks: Int = StreamSession.defaultMaxTokenChunks) -> (record: RequestRecord, state: StreamSession.State, readsTaken: Int) {
    let request = PlannedRequest(prompt: "p", maxTokens: 64, inputTokensEstimate: 11, expectedNumber: expectedNumber)
    var session = StreamSession(request: request, dialect: api.dialect, scheduledNs: 1, sendNs: 2, secrets: apiKey.map { [$0] } ?? [],
                                parser: parser, maxTokenChunks: maxTokenChunks)
    session.receivedHead(status: status, contentType: contentType, at: 5)
    var taken = 0
    var ended = false
    for (index, read) in reads.enumerated() {
        taken += 1
        if session.receive(Array(read.utf8), at: Int64(10 * (index + 1))) {
            ended = true
            break
        }
    }
    if !ended { session.bodyEnded(at: 999) }
    return (session.finalRecord(), session.state, taken)
}

@Suite struct StreamSessionTests {
    @Test func reasoningChatWithUsage() {
        // Split mid-event: the second read completes the first reasoning chunk.
        let stream = Streams.vllmReasoningChat
        let cut1 = stream.index(stream.startIndex, offsetBy: 250)
        let cut2 = stream.range(of: "data: " + Streams.chat(#"{"content":"The"}"#))!.lowerBound
        let (record, state, _) = runSession([String(stream[..<cut1]), String(stream[cut1..<cut2]), String(stream[cut2...])])
        #expect(state == .completed)
        #expect(record.succeeded)
        #expect(record.scheduledNs == 1 && record.sendNs == 2 && record.firstByteNs == 5)
        #expect(record.firstTokenNs == 20)
        #expect(record.firstAnswerTokenNs == 30)
        #expect(record.tokenChunkNs == [20, 20, 30, 30])
        #expect(record.endNs == 30)
        #expect(record.tokenSource == .usage)
        #expect(record.inputTokens == 17 && record.outputTokens == 4)
        #expect(record.inputTokensEstimate == 11 && record.requestedOutputTokens == 64)
        #expect(record.status == 200 && record.errorClass == nil && record.errorMessage == nil)
        #expect(record.correct == nil)
    }

    @Test func doneEndsAtOnceAndLaterBytesAreIgnored() {
        let tail = "data: " + Streams.chat(#"{"content":"late"}"#) + "\n\n"
        let (record, state, taken) = runSession([sse([Streams.chat(#"{"content":"a"}"#)]), "data: [DONE]\n\n" + tail, tail])
        #expect(state == .completed)
        #expect(taken == 2)
        #expect(record.endNs == 20)
        #expect(record.tokenChunkNs == [10])
        #expect(record.outputTokens == 1 && record.tokenSource == .chunks && record.inputTokens == 11)
    }

    @Test func chunkCountsWithoutUsage() {
        let (record, _, _) = runSession([Streams.vllmCompletions.replacingOccurrences(of: #","usage":{"prompt_tokens":9,"total_tokens":12,"completion_tokens":3}"#, with: "")],
                                        api: .completions)
        #expect(record.succeeded)
        #expect(record.tokenSource == .chunks && record.outputTokens == 3 && record.inputTokens == 11)
    }

    @Test func completionsWithUsage() {
        let (record, _, _) = runSession([Streams.vllmCompletions], api: .completions)
        #expect(record.tokenSource == .usage && record.outputTokens == 3 && record.inputTokens == 9)
        #expect(record.firstTokenNs == 10 && record.firstAnswerTokenNs == 10)
    }

    @Test func absurdUsageIsClampedToWhatARecordMayCarry() throws {
        let huge = Streams.vllmCompletions.replacingOccurrences(of: #""prompt_tokens":9"#, with: #""prompt_tokens":9223372036854775807"#)
            .replacingOccurrences(of: #""completion_tokens":3"#, with: #""completion_tokens":4611686018427387904"#)
        let (record, _, _) = runSession([huge], api: .completions)
        #expect(record.tokenSource == .usage)
        #expect(record.inputTokens == RequestRecord.maxTokens && record.outputTokens == RequestRecord.maxTokens)
        try record.check()   // a worker's record of it passes the coordinator's checks
    }

    @Test func tgiFinalEventEndsAndDetailsCount() {
        let stream = Streams.tgi + "data: " + Streams.tgiToken(9, "ignored") + "\n\n"
        let (record, state, _) = runSession([stream], api: .tgi)
        #expect(state == .completed && record.endNs == 10)
        #expect(record.tokenSource == .tgiDetails && record.outputTokens == 3 && record.inputTokens == 11)
        #expect(record.tokenChunkNs == [10, 10])
    }

    @Test func endWithoutDoneSucceedsAfterFinishReason() {
        let stream = sse([Streams.chat(#"{"content":"a"}"#), Streams.chat(#"{}"#, finish: #""stop""#)])
        let (record, state, _) = runSession([stream])
        #expect(state == .completed && record.succeeded && record.endNs == 999)
    }

    @Test func endWithoutDoneOrFinishReasonIsAStreamError() {
        let (record, _, _) = runSession([sse([Streams.chat(#"{"content":"a"}"#)])])
        #expect(record.errorClass == .streamError)
        #expect(record.errorMessage == "stream ended before [DONE]")
        #expect(record.endNs == 999 && record.outputTokens == 1)

        let (unterminated, _, _) = runSession([sse([Streams.chat(#"{"content":"a"}"#)]) + "data: [DONE]\n"])
        #expect(unterminated.errorMessage == "stream ended before [DONE] (an unterminated event was discarded)")

        let (tgi, _, _) = runSession([sse([Streams.tgiToken(1, "a")])], api: .tgi)
        #expect(tgi.errorMessage == "stream ended before the final event")
    }

    @Test func errorEventIsAStreamError() {
        let stream = sse([Streams.chat(#"{"content":"a"}"#), #"{"error":{"message":"engine died","code":500}}"#, "[DONE]"])
        let (record, state, _) = runSession([stream])
        #expect(state == .failed && record.errorClass == .streamError && record.errorMessage == "engine died")
        #expect(record.endNs == 10 && record.outputTokens == 1)
    }

    @Test func invalidJSONIsMalformed() {
        let (record, _, _) = runSession([sse([Streams.chat(#"{"content":"a"}"#), #"{"choices":[{"#])])
        #expect(record.errorClass == .malformed)
        #expect(record.errorMessage?.hasPrefix("event data is not a JSON object") == true)
    }

    @Test func httpErrorStatusesUseTheBody() {
        let (unavailable, _, _) = runSession([#"{"error":{"message":"no capacity","type":"x"}}"#], status: 503, contentType: "application/json")
        #expect(unavailable.errorClass == .http5xx && unavailable.status == 503)
        #expect(unavailable.errorMessage == "HTTP 503: no capacity")

        let (throttled, _, _) = runSession(["Too many ", "requests, slow down"], status: 429, contentType: "text/plain")
        #expect(throttled.errorClass == .throttled && throttled.errorMessage == "HTTP 429: Too many requests, slow down")

        let (empty, _, _) = runSession([], status: 404, contentType: nil)
        #expect(empty.errorClass == .http4xx && empty.errorMessage == "HTTP 404: Not Found")
    }

    @Test func httpErrorBodyIsReadUpTo4KiB() {
        let (record, _, taken) = runSession(Array(repeating: String(repeating: "x", count: 1000), count: 10), status: 500)
        #expect(taken == 5)
        #expect(record.endNs == 50)
        #expect(record.errorMessage == "HTTP 500: " + String(repeating: "x", count: 200) + "…")
    }

    @Test func nonStreamedSuccessIsMalformed() {
        let (json, _, _) = runSession([#"{"id":"x","choices":[{"message":{"content":"hi"}}]}"#], contentType: "application/json")
        #expect(json.errorClass == .malformed)
        #expect(json.errorMessage?.hasPrefix("expected an event stream, got application/json: ") == true)

        let (text, _, _) = runSession(["<html>hello</html>"], contentType: "text/html")
        #expect(text.errorClass == .malformed && text.errorMessage == "response is not an event stream: <html>hello</html>")

        let (emptyStream, _, _) = runSession([], contentType: "text/event-stream; charset=utf-8")
        #expect(emptyStream.errorClass == .streamError)
    }

    @Test func correctnessUsesAnswerTextOnly() {
        let stream = sse([
            Streams.chat(#"{"reasoning_content":"maybe 1234"}"#),
            Streams.chat(#"{"content":"It is 1,2"}"#),
            Streams.chat(#"{"content":"34."}"#),
            "[DONE]",
        ])
        #expect(runSession([stream], expectedNumber: 1234).record.correct == true)
        #expect(runSession([stream], expectedNumber: 4321).record.correct == false)
        let reasoningOnly = sse([Streams.chat(#"{"reasoning_content":"1234"}"#), "[DONE]"])
        #expect(runSession([reasoningOnly], expectedNumber: 1234).record.correct == false)
        #expect(runSession([stream]).record.correct == nil)
        // Failed requests carry no verdict.
        #expect(runSession([sse([Streams.chat(#"{"content":"1234"}"#)])], expectedNumber: 1234).record.correct == nil)
    }

    @Test func apiKeyIsRedactedFromMessages() {
        let key = "sk-secret-123"
        let (record, _, _) = runSession([#"{"error":{"message":"invalid key sk-secret-123 (sk-secret-123)"}}"#], status: 401,
                                        contentType: "application/json", apiKey: key)
        #expect(record.errorMessage == "HTTP 401: invalid key *** (***)")
        let (event, _, _) = runSession([sse([#"{"error":"bad token sk-secret-123"}"#])], apiKey: key)
        #expect(event.errorMessage == "bad token ***")
    }
}
