import Foundation
import NIOCore
import StampedeCore
import StampedeMetrics
import StampedeReport
#if DEBUG
// StreamSession is internal; debug builds (the fuzz build is one) enable testability.
@testable import StampedeClient
#else
import StampedeClient
#endif

/// One fuzz input for a target's streamed reply: the SSE parser, every dialect, and the stream
/// session that turns a reply into a `RequestRecord`, then what the worker does with that record.
///
/// Input layout (Fuzz/corpus/sse/README.md):
/// - byte 0: bits 0-1 the dialect (0 chat, 1 completions, 2 TGI, 3 chat); bits 2-4 the response head
///   (0-4: 200 text/event-stream, 5: 200 application/json, 6: 500 text/plain, 7: 200 without a type);
///   bit 5: a correctness check is on;
/// - byte 1: the number of cuts (low 4 bits);
/// - then two bytes per cut: an offset into the body (little-endian, modulo its length + 1);
/// - the rest is the response body, delivered as one read per piece.
public enum SSEFuzz {
    public static let apiKey = "sk-fuzz-SECRET-1234"

    public struct Options {
        public var dialect: APIDialect
        public var status: Int
        public var contentType: String?
        public var expectedNumber: Int?
        public var cuts: Int
    }

    public static func options(_ mode: UInt8, _ cutByte: UInt8) -> Options {
        let dialect: APIDialect = [.chat, .completions, .tgi, .chat][Int(mode & 3)]
        let head = Int(mode >> 2) & 7
        let (status, type): (Int, String?) = switch head {
        case 5: (200, "application/json")
        case 6: (500, "text/plain")
        case 7: (200, nil)
        default: (200, "text/event-stream")
        }
        return Options(dialect: dialect, status: status, contentType: type, expectedNumber: mode & 0x20 != 0 ? 42 : nil,
                       cuts: Int(cutByte & 15))
    }

    public static func run(_ bytes: UnsafeRawBufferPointer) {
        let input = Array(bytes)[...]
        let opts = options(input.first ?? 0, input.dropFirst().first ?? 0)
        let control = input.dropFirst(2).prefix(2 * opts.cuts)
        let body = input.dropFirst(2 + control.count)
        let pieces = FuzzBytes.pieces(of: body, cuts: opts.cuts, control: control)

        // The parser: cutting the stream anywhere must not change the events.
        var whole = SSEParser()
        let expected = whole.feed(body)
        var parser = SSEParser()
        var events: [SSEEvent] = []
        for piece in pieces { events += parser.feed(piece) }
        if events != expected {
            fatalError("SSEParser: events differ when the stream is cut at \(pieces.map(\.count)): \(events.count) vs \(expected.count)")
        }
        _ = parser.hasPendingInput
        _ = parser.finish()

        // Every dialect on every event, by both routes and from the bytes (`feed(_:each:)`, as
        // StreamSession reads them): the fast route (ChunkScanner) must give what Foundation gives.
        let dialects: [any Dialect] = [OpenAIChatDialect(), OpenAICompletionsDialect(), TGIDialect()]
        var byteParser = SSEParser()
        var viaBytes: [SSEEvent] = []
        byteParser.feed(ByteBuffer(bytes: Array(body))) { event in
            let materialized = event.materialized
            viaBytes.append(materialized)
            guard viaBytes.count <= 256 else { return }
            for dialect in dialects {
                let foundation = dialect.interpret(materialized, route: .foundation)
                let fast = dialect.interpret(materialized, route: .fast)
                let fromBytes = dialect.interpret(event)
                if fast != foundation || fromBytes != foundation {
                    fatalError("\(dialect.api): fast route \(fast), from bytes \(fromBytes), Foundation \(foundation)")
                }
                #if DEBUG
                // Without the text (as a session with no correctness check reads): the same flags.
                let withoutText = dialect.interpret(event, keepingText: false)
                if withoutText.textless != foundation.textless {
                    fatalError("\(dialect.api): without text \(withoutText), Foundation \(foundation)")
                }
                #endif
            }
        }
        if viaBytes != expected {
            fatalError("SSEParser: feed(_:each:) gives \(viaBytes.count) events, feed(_:) \(expected.count)")
        }
        #if DEBUG
        // The scanner alone on the raw body, invalid UTF-8 and all: it must refuse or scan, never trap.
        _ = Array(body).withUnsafeBytes { ChunkScanner.scan($0) }
        #endif

        #if DEBUG
        // The session, as StreamingClient drives it: head, one read per piece, the end of the body.
        let request = PlannedRequest(prompt: "fuzz", maxTokens: 64, inputTokensEstimate: 10, expectedNumber: opts.expectedNumber)
        var session = StreamSession(request: request, dialect: opts.dialect.dialect, scheduledNs: 1_000, sendNs: 2_000, secrets: [apiKey])
        var now: Int64 = 1_000_000
        session.receivedHead(status: opts.status, contentType: opts.contentType, at: now)
        var ended = false
        for piece in pieces {
            now += 1_000_000
            if session.receive(ByteBuffer(bytes: piece), at: now) { ended = true; break }
        }
        if !ended { session.bodyEnded(at: now + 1) }
        let record = session.finalRecord()
        if let message = record.errorMessage, message.contains(apiKey) {
            fatalError("StreamSession: the API key is in the error message: \(message)")
        }
        afterRequest(record)
        #endif
    }

    /// What happens to a record once the request ended: the worker's interval metrics, the wire
    /// (sent to a coordinator, which checks it), and the reports (the LLMPerf summary and responses).
    static func afterRequest(_ record: RequestRecord) {
        // WorkerRunState: the record joins its interval's metrics.
        var set = MetricSet()
        if !KnownIssues.skipMetrics(record) { set.record(record) }
        let overall = StatsSummary(set, durationSeconds: 1)
        _ = try? record.check()
        _ = try? JSONEncoder().encode(record)
        // `stampede run --llmperf-dir`: the records go to the LLMPerf files.
        LLMPerfFuzz.export(set, overall: overall, records: [record])
    }
}
