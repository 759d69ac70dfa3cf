import Foundation
import NIOCore
import StampedeCore
import Testing
@testable import StampedeClient

/// The fast route (`ChunkScanner`) and the Foundation route (`JSONSerialization`) give the same
/// `DialectEvent` for every event, in every dialect; the fast route decides the common chunks itself
/// and leaves to Foundation exactly what it says it cannot decide.
@Suite struct FastRoutePropertyTests {
    static let dialects: [any Dialect] = [OpenAIChatDialect(), OpenAICompletionsDialect(), TGIDialect()]

    /// The fast route of `dialect` alone: nil when it falls back to Foundation.
    static func fastOnly(_ event: SSEEvent, _ api: APIDialect) -> DialectEvent? {
        switch api {
        case .chat: DialectSupport.fastInterpret(event, OpenAIChatDialect.read)
        case .completions: DialectSupport.fastInterpret(event, OpenAICompletionsDialect.read)
        case .tgi: DialectSupport.fastInterpret(event, TGIDialect.read)
        }
    }

    /// The fast route on the event's `String`, the fast route on its bytes (as `StreamSession` reads
    /// it) and the Foundation route give the same answer. `bytes` are the data as received, which may
    /// be invalid UTF-8 (the `String` then has U+FFFD, as `SSEParser` makes it).
    static func expectSameAnswer(_ event: SSEEvent, bytes: [UInt8]? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
        let raw = bytes ?? Array(event.data.utf8)
        for dialect in dialects {
            let foundation = dialect.interpret(event, route: .foundation)
            let fast = dialect.interpret(event, route: .fast)
            let fromBytes = raw.withUnsafeBytes { dialect.interpret(SSEEventBytes(event: event.event, data: $0, id: event.id)) }
            let withoutText = raw.withUnsafeBytes { dialect.interpret(SSEEventBytes(event: event.event, data: $0, id: event.id), keepingText: false) }
            #expect(fast == foundation, "\(dialect.api): \(event.data)", sourceLocation: sourceLocation)
            #expect(fromBytes == foundation, "\(dialect.api), bytes: \(event.data)", sourceLocation: sourceLocation)
            // Without the text the flags are the same; the text is empty unless Foundation read the event.
            #expect(withoutText.textless == foundation.textless, "\(dialect.api), no text: \(event.data)", sourceLocation: sourceLocation)
            // (Bytes that are not the event's UTF-8 go the Foundation route, which keeps the text.)
            if raw == Array(event.data.utf8), fastOnly(event, dialect.api) != nil, case .chunk(let chunk) = withoutText {
                #expect(chunk.answer.isEmpty && chunk.reasoning.isEmpty, "\(dialect.api), no text: \(event.data)", sourceLocation: sourceLocation)
            }
        }
    }

    /// The events of the dialect tests (DialectTests.swift).
    static var dialectTestEvents: [SSEEvent] {
        var parser = SSEParser()
        var events = parser.feed(Array((Streams.vllmReasoningChat + Streams.vllmCompletions + Streams.tgi).utf8))
        let more = [
            Streams.chat(#"{"reasoning":"hmm"}"#), Streams.chat(#"{}"#), Streams.chat(#"{"content":""}"#),
            Streams.chat(#"{"content":null}"#), Streams.chat(#"{"reasoning_content":""}"#), Streams.chat(#"{"role":"assistant"}"#),
            Streams.tgiToken(4, "!", final: 4),
            #"{"index":1,"token":{"id":1,"text":"a","special":false},"generated_text":"a","details":null}"#,
            #"{"error":{"message":"The model ran out of KV cache","type":"InternalServerError","code":500}}"#,
            #"{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}"#,
            #"{"error":"Request failed during generation: Server error: CUDA OOM","error_type":"generation"}"#,
            Streams.chatPrefix + #""error":null,"choices":[]}"#,
            "hello there", #"{"choices": ["#, "[1,2]", #""text""#, "42", "", "  ", "[DONE]",
            Streams.chatPrefix + #""choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1}}"#,
        ]
        events += more.map { SSEEvent(data: $0) }
        events += [SSEEvent(event: "error", data: "overloaded"), SSEEvent(event: "error", data: more[8])]
        return events
    }

    /// Every event of every FuzzSSE seed (Fuzz/corpus/sse: real captures from the mock and hand-made edges),
    /// as bytes (some are not UTF-8).
    static var corpusEvents: [(SSEEvent, [UInt8])] {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fuzz/corpus/sse")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var events: [(SSEEvent, [UInt8])] = []
        for name in names.sorted() where !name.hasSuffix(".md") {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path), data.count >= 2 else { continue }
            let bytes = Array(data)
            let cuts = Int(bytes[1] & 15)
            var parser = SSEParser()
            parser.feed(ByteBuffer(bytes: bytes.dropFirst(2 + 2 * cuts))) { events.append(($0.materialized, Array($0.data))) }
        }
        return events
    }

    @Test func dialectTestEventsAgree() {
        let events = Self.dialectTestEvents
        #expect(events.count > 30)
        for event in events { Self.expectSameAnswer(event) }
        // The fast route decided the chunks and the error payloads with a message itself.
        for event in events where event.event == nil && event.data.hasPrefix("{") && event.data.hasSuffix("}") {
            #expect(Self.fastOnly(event, .chat) != nil, "\(event.data)")
        }
    }

    @Test func corpusEventsAgree() {
        let events = Self.corpusEvents
        #expect(events.count > 100, "the corpus was read")
        var decided = 0
        for (event, bytes) in events {
            Self.expectSameAnswer(event, bytes: bytes)
            if Self.fastOnly(event, .chat) != nil { decided += 1 }
        }
        #expect(decided * 10 > events.count * 7, "the fast route decided \(decided) of \(events.count)")
    }

    /// Seeded generated chunks: escapes, astral-plane characters, keys in random order, random
    /// whitespace, unknown nested fields, odd types. Replay a failure with its seed.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func generatedChunksAgree(seed: UInt64) {
        var generator = ChunkGenerator(seed: seed)
        var decided = 0
        let count = 1_500
        for _ in 0..<count {
            var bytes = Array(generator.event().utf8)
            // Now and then a byte that breaks the UTF-8 (the bytes route leaves those events to Foundation).
            if generator.chance(0.03) { bytes.insert(generator.pick([0xFF, 0xC3, 0x80, 0xED, 0xF4, 0xE0]), at: generator.int(0...bytes.count)) }
            let event = SSEEvent(data: String(decoding: bytes, as: UTF8.self))
            Self.expectSameAnswer(event, bytes: bytes)
            if Self.fastOnly(event, .chat) != nil { decided += 1 }
        }
        // Most generated events are plain enough for the fast route (the rest test the fallback).
        #expect(decided * 2 > count, "seed \(seed): the fast route decided \(decided) of \(count)")
    }
}

/// What the fast route decides itself and what it leaves to Foundation.
@Suite struct FastRouteFallbackTests {
    func fast(_ data: String, _ api: APIDialect = .chat) -> DialectEvent? {
        FastRoutePropertyTests.fastOnly(SSEEvent(data: data), api)
    }

    @Test func undecidedGoesToFoundation() {
        let deep = String(repeating: "[", count: 70) + String(repeating: "]", count: 70)
        let undecided: [(String, APIDialect)] = [
            (#"{"choices":[{"delta":{"content":"a","content":"b"}}]}"#, .chat),  // duplicate key it reads
            (#"{"choices":[],"choices":[]}"#, .chat),
            (#"{"choices":[{"delta":{"cont\u0065nt":"a"}}]}"#, .chat),  // escaped key where it reads
            (#"{"x":"# + deep + "}", .chat),  // deeper than maxDepth
            (#"{"x":1e400}"#, .chat),  // exponent of 3 digits
            (#"{"x":123456789012345678901}"#, .chat),  // 21 digits
            (#"{"x":"\u0000"}"#, .chat),
            (#"{"x":"\ud800"}"#, .chat),  // lone high surrogate
            (#"{"x":"\udc00"}"#, .chat),  // lone low surrogate
            (#"{"x":"\ud800\u0041"}"#, .chat),
            ("{\"x\":\"\u{FEFF}\"}", .chat),  // raw U+FEFF
            (#"{"usage":{"prompt_tokens":true}}"#, .chat),  // a boolean read as a count
            (#"{"usage":{"completion_tokens":2.5}}"#, .chat),  // a fraction read as a count
            (#"{"usage":{"completion_tokens":1e2}}"#, .completions),
            (#"{"token":{"text":"a","special":1}}"#, .tgi),  // a number read as a boolean
            (#"{"details":{"generated_tokens":3.0}}"#, .tgi),
            (#"{"error":{"type":"x"}}"#, .chat),  // no message: Foundation writes the object out
            (#"{"object":"error","code":1}"#, .chat),
            (#"{"choices":[1,]}"#, .chat),  // invalid JSON: Foundation words the message
            (#"{"a":01}"#, .chat),
            ("{\"a\":\"\u{1}\"}", .chat),  // raw control character
            ("[1,2]", .chat),  // not an object
            ("\u{FEFF}{}", .chat),
        ]
        for (data, api) in undecided {
            #expect(fast(data, api) == nil, "\(data)")
            // And the dialect's answer is Foundation's.
            let event = SSEEvent(data: data)
            #expect(api.dialect.interpret(event) == api.dialect.interpret(event, route: .foundation), "\(data)")
        }
        #expect(fast("x", .chat) == nil)
        #expect(DialectSupport.fastInterpret(SSEEvent(event: "error", data: "{}"), OpenAIChatDialect.read) == nil)
    }

    @Test func decidedWithoutFoundation() {
        #expect(fast(#"{"choices":[{"delta":{"content":"\ud83d\ude00 \u00e9\n\"\\\/"}}]}"#)
            == .chunk(StreamChunk(answer: "😀 é\n\"\\/", isToken: true, isAnswerToken: true)))
        #expect(fast(#" { "choices" : [ { "text" : "a" , "x" : { "y" : [ 1 , -2.5e-3 , true , null ] } } ] } "#, .completions)
            == .chunk(StreamChunk(answer: "a", isToken: true, isAnswerToken: true)))
        #expect(fast(#"{"usage":{"prompt_tokens":-3,"completion_tokens":999999999999999},"choices":[]}"#)
            == .chunk(StreamChunk(usage: TokenUsage(promptTokens: -3, completionTokens: 999_999_999_999_999))))
        #expect(fast(#"{"usage":{"prompt_tokens":"7","completion_tokens":null}}"#)
            == .chunk(StreamChunk(usage: TokenUsage())))
        #expect(fast(#"{"token":{"text":"<\/s>","special":true},"generated_text":"","details":{"generated_tokens":0,"finish_reason":""}}"#, .tgi)
            == .chunk(StreamChunk(generatedTokens: 0, isFinal: true)))
        #expect(fast(#"{"error":"boom \u2603"}"#, .tgi) == .error("boom ☃"))
        #expect(fast(#"{"object":"\u0065rror","message":"m"}"#) == .error("m"))
        #expect(fast(#"{"error":[1],"object":"chat"}"#) == .chunk(StreamChunk()))
        // Keys it does not read may repeat, or carry escapes.
        #expect(fast(#"{"id":1,"id":2,"x":{"\u0041":3,"\u0041":4},"choices":[{"text":"t"}]}"#, .completions)
            == .chunk(StreamChunk(answer: "t", isToken: true, isAnswerToken: true)))
        // Only choices[0] is read.
        #expect(fast(#"{"choices":[{"text":""},{"text":"second"}]}"#, .completions) == .chunk(StreamChunk()))
        #expect(fast(#"{"choices":["x",{"text":"second"}]}"#, .completions) == .chunk(StreamChunk()))
    }

    /// The eight-byte string scan jumps to the first byte that is not plain: a quote, a backslash, a
    /// control character or a non-ASCII byte, wherever it is in the word and whatever follows it.
    @Test func wordScanFindsTheFirstSpecialByte() {
        func reference(_ bytes: [UInt8]) -> Int? {
            bytes.firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 || $0 >= 0x80 }
        }
        var generator = ChunkGenerator(seed: 11)
        let specials: [UInt8] = [0x22, 0x5C, 0x00, 0x01, 0x1F, 0x80, 0xC3, 0xFF, 0x21, 0x5B, 0x5D, 0x20, 0x7F]
        for _ in 0..<20_000 {
            let bytes = (0..<8).map { _ in generator.chance(0.2) ? generator.pick(specials) : UInt8(generator.int(0x20...0x7E)) }
            let word = bytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            let flags = ChunkScanner.special(word)
            if let first = reference(bytes) {
                #expect(flags.trailingZeroBitCount >> 3 == first, "\(bytes)")
            } else {
                #expect(flags == 0, "\(bytes)")
            }
        }
    }

    @Test func scannerNeverReadsPastTheText() {
        // Every prefix of a valid chunk: the scanner must refuse cleanly (no trap, no result).
        let text = Array(#"{"choices":[{"delta":{"content":"a\u00e9\ud83d\ude00"},"finish_reason":null}],"usage":{"prompt_tokens":12}}"#.utf8)
        for end in 0..<text.count {
            let fields = text[..<end].withUnsafeBytes { ChunkScanner.scan($0) }
            #expect(fields == nil, "prefix of \(end) bytes")
        }
        #expect(text.withUnsafeBytes { ChunkScanner.scan($0) } != nil)
    }
}
