import NIOCore
import StampedeCore

/// Folds one response into a `RequestRecord`: the head, each read of the body with its arrival time,
/// then the end of the body or a failure. It does no I/O: `StreamingClient` drives it from the
/// network, tests drive it with canned bytes and times.
///
/// Bounds: the SSE parser's line and event limits, at most `defaultMaxTokenChunks` token chunks, the first
/// `answerTextLimit` bytes of answer text (for the correctness check) and `ErrorClassifier.errorBodyLimit`
/// bytes of an error body. Past a limit the request fails as `.responseTooLarge` and reading stops.
/// Every failure message is redacted (the `secrets`, see `SecretRedaction`) before it is cut to an excerpt.
struct StreamSession: Sendable {
    /// At most this many token chunks per response (their arrival times are kept for the ITL):
    /// the largest drawn output length (`LengthSpec.maximumDrawn`), as no server sends fewer than one token per chunk.
    static let defaultMaxTokenChunks = LengthSpec.maximumDrawn
    /// The correctness check reads at most this many bytes of the answer (the number comes first).
    static let answerTextLimit = 64 << 10
    /// Failure messages are cut to this many characters.
    static let messageLimit = 400

    enum State: Sendable, Equatable {
        /// Still reading.
        case open
        /// The stream ended well (`[DONE]`, TGI's final event, or the body ended after a finish reason).
        case completed
        /// The request failed; `record.errorClass` says why.
        case failed
    }

    /// How the body is read, decided by the head.
    private enum BodyMode: Sendable {
        /// A 2xx event stream: parse it.
        case events
        /// A non-2xx status: keep up to 4 KiB of the body for the message.
        case httpError(Int)
        /// A 2xx JSON body: the server did not stream. Keep up to 4 KiB for the message.
        case notAStream(String)
    }

    let dialect: any Dialect
    let expectedNumber: Int?
    private(set) var record: RequestRecord
    private(set) var state: State = .open
    private var mode: BodyMode = .events
    /// From the `Content-Type` header: an event stream that ends without events is a broken stream,
    /// a body of another type without events is not a stream at all.
    private var isDeclaredEventStream = false
    private var parser: SSEParser
    /// Never shown: replaced with `***` in every message.
    private let secrets: [String]
    private let maxTokenChunks: Int
    /// The first bytes of the body: the excerpt for error statuses and bodies that are not a stream.
    private var leadingBytes: [UInt8] = []
    private var eventsSeen = 0
    private var tokenChunks = 0
    private var usage: TokenUsage?
    private var generatedTokens: Int?
    private var sawFinishReason = false
    private var answerText = ""

    init(request: PlannedRequest, dialect: any Dialect, scheduledNs: Int64, sendNs: Int64, secrets: [String] = [],
         parser: SSEParser = SSEParser(), maxTokenChunks: Int = StreamSession.defaultMaxTokenChunks) {
        self.maxTokenChunks = maxTokenChunks
        self.dialect = dialect
        self.secrets = secrets.filter { !$0.isEmpty }
        self.parser = parser
        self.expectedNumber = request.expectedNumber
        self.record = RequestRecord(scheduledNs: scheduledNs, sendNs: sendNs, endNs: sendNs,
                                    inputTokensEstimate: request.inputTokensEstimate,
                                    inputTokens: request.inputTokensEstimate,
                                    requestedOutputTokens: request.maxTokens)
    }

    /// The response head arrived.
    mutating func receivedHead(status: Int, contentType: String?, at now: Int64) {
        record.status = status
        record.firstByteNs = now
        isDeclaredEventStream = contentType?.lowercased().contains("event-stream") ?? false
        if !(200...299).contains(status) {
            mode = .httpError(status)
        } else if let contentType, contentType.lowercased().contains("json") {
            mode = .notAStream(contentType)
        }
    }

    /// Takes one read of the body, all of it arrived at `now`. Returns true when the request has
    /// ended and reading should stop.
    mutating func receive(_ buffer: ByteBuffer, at now: Int64) -> Bool {
        guard state == .open else { return true }
        switch mode {
        case .events:
            if eventsSeen == 0, leadingBytes.count < 256 {
                leadingBytes.append(contentsOf: buffer.readableBytesView.prefix(256 - leadingBytes.count))
            }
            // The parser hands each event over as bytes (no `String`, no array); it is moved out of
            // `self` meanwhile so that `handle` may change the session.
            var reader = SSEParser(maxLineBytes: 1, maxEventBytes: 1)
            swap(&reader, &parser)
            var ended = false
            reader.feed(buffer) { event in
                if !ended { ended = handle(event, at: now) }
            }
            swap(&reader, &parser)
            if ended { return true }
            if let limit = parser.limitExceeded {
                let what = switch limit {
                case .line(let bytes): "an event-stream line is longer than \(Self.size(bytes))"
                case .event(let bytes): "an event's data is larger than \(Self.size(bytes))"
                }
                fail(.responseTooLarge, "response too large: \(what); the rest was not read", at: now)
                return true
            }
            return false
        case .httpError, .notAStream:
            leadingBytes.append(contentsOf: buffer.readableBytesView.prefix(ErrorClassifier.errorBodyLimit - leadingBytes.count))
            if leadingBytes.count >= ErrorClassifier.errorBodyLimit {
                bodyEnded(at: now)
                return true
            }
            return false
        }
    }

    /// Takes one read given as bytes (tests).
    mutating func receive(_ bytes: some Sequence<UInt8>, at now: Int64) -> Bool {
        receive(ByteBuffer(bytes: Array(bytes)), at: now)
    }

    /// Takes one event; returns true when the request has ended (later events of the read are ignored).
    private mutating func handle(_ event: SSEEventBytes, at now: Int64) -> Bool {
        eventsSeen += 1
        switch dialect.interpret(event, keepingText: expectedNumber != nil) {
        case .ignored:
            return false
        case .done:
            complete(at: now)
            return true
        case .error(let message):
            fail(.streamError, message, at: now)
            return true
        case .malformed(let message):
            fail(.malformed, message, at: now)
            return true
        case .chunk(let chunk):
            if chunk.isToken {
                guard tokenChunks < maxTokenChunks else {
                    fail(.responseTooLarge, "response too large: more than \(maxTokenChunks) token chunks; the rest was not read", at: now)
                    return true
                }
                tokenChunks += 1
                record.tokenChunkNs.append(now)
                if record.firstTokenNs == nil { record.firstTokenNs = now }
            }
            if chunk.isAnswerToken, record.firstAnswerTokenNs == nil { record.firstAnswerTokenNs = now }
            if expectedNumber != nil, !chunk.answer.isEmpty, answerText.utf8.count < Self.answerTextLimit {
                answerText += chunk.answer
                if answerText.utf8.count > Self.answerTextLimit {
                    answerText = String(decoding: answerText.utf8.prefix(Self.answerTextLimit), as: UTF8.self)
                }
            }
            if let chunkUsage = chunk.usage { usage = chunkUsage }
            if let generated = chunk.generatedTokens { generatedTokens = generated }
            if chunk.finishReason != nil { sawFinishReason = true }
            if chunk.isFinal {
                complete(at: now)
                return true
            }
            return false
        }
    }

    /// The body ended cleanly at `now` (the server finished the response).
    ///
    /// An event stream that ends without its end marker still succeeds when a finish reason was seen
    /// (some servers omit `[DONE]`); otherwise it is a `.streamError`. Per the SSE spec an event not
    /// closed by an empty line is discarded; the message says so.
    mutating func bodyEnded(at now: Int64) {
        guard state == .open else { return }
        switch mode {
        case .httpError(let status):
            let (errorClass, message) = ErrorClassifier.httpError(status: status, body: leadingBytes, secrets: secrets)
            fail(errorClass, message, at: now)
        case .notAStream(let contentType):
            let excerpt = ErrorClassifier.bodyExcerpt(leadingBytes, status: record.status ?? 200, secrets: secrets)
            fail(.malformed, "expected an event stream, got \(contentType): \(excerpt)", at: now)
        case .events:
            let discarded = parser.hasPendingInput
            _ = parser.finish()
            if sawFinishReason {
                complete(at: now)
            } else if eventsSeen == 0 && !isDeclaredEventStream {
                let text = SecretRedaction.redact(String(decoding: leadingBytes, as: UTF8.self), secrets: secrets)
                let excerpt = DialectSupport.excerpt(text)
                fail(.malformed, "response is not an event stream: \(excerpt.isEmpty ? "empty body" : excerpt)", at: now)
            } else {
                let suffix = discarded ? " (an unterminated event was discarded)" : ""
                fail(.streamError, "stream ended before \(dialect.endMarker)\(suffix)", at: now)
            }
        }
    }

    /// Marks the request completed at `now`, unless it already ended.
    mutating func complete(at now: Int64) {
        guard state == .open else { return }
        state = .completed
        record.endNs = now
    }

    /// Marks the request failed at `now`, unless it already ended. The message (an in-band error can
    /// be as long as an event) is bounded, redacted, then cut to one line of `messageLimit` characters.
    /// The transfer broke after the stream had completed (its end event came, then the chunked body
    /// was cut off or the content length not reached): the server broke the response, so it counts as
    /// a `stream_error` after all, not as a success with fewer tokens.
    mutating func transferBroke(_ message: String, at now: Int64) {
        guard state == .completed else { return }
        state = .open
        fail(.streamError, message, at: now)
    }

    mutating func fail(_ errorClass: ErrorClass, _ message: String, at now: Int64) {
        guard state == .open else { return }
        state = .failed
        record.errorClass = errorClass
        let bounded = message.utf8.count > ErrorClassifier.errorBodyLimit
            ? String(decoding: message.utf8.prefix(ErrorClassifier.errorBodyLimit), as: UTF8.self) : message
        record.errorMessage = DialectSupport.excerpt(SecretRedaction.redact(bounded, secrets: secrets), limit: Self.messageLimit)
        record.endNs = now
    }

    /// `4 MiB`, `512 KiB` or `100 bytes`.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }

    /// The finished record: token counts and their source, correctness, and the secrets redacted
    /// (again: `fail` already did, this is the last net).
    func finalRecord() -> RequestRecord {
        var result = record
        if let completion = usage?.completionTokens {
            result.outputTokens = completion
            result.inputTokens = usage?.promptTokens ?? record.inputTokensEstimate
            result.tokenSource = .usage
        } else if let generatedTokens {
            result.outputTokens = generatedTokens
            result.inputTokens = record.inputTokensEstimate
            result.tokenSource = .tgiDetails
        } else {
            result.outputTokens = tokenChunks
            result.inputTokens = record.inputTokensEstimate
            result.tokenSource = .chunks
        }
        // A target's counts can say anything: keep them in the range a record may carry (the wire
        // refuses records outside it), so sums and rates on them stay far from the integer bounds.
        result.inputTokens = min(max(0, result.inputTokens), RequestRecord.maxTokens)
        result.outputTokens = min(max(0, result.outputTokens), RequestRecord.maxTokens)
        if let expectedNumber, state == .completed {
            result.correct = CorrectnessCheck.passes(reply: answerText, expected: expectedNumber)
        }
        if let message = result.errorMessage {
            result.errorMessage = SecretRedaction.redact(message, secrets: secrets)
        }
        return result
    }
}
