import NIOCore
import Testing
@testable import StampedeClient

/// Feeds `bytes` whole, split into two reads at every offset, and one byte at a time; every way must
/// give `expected`. Returns nothing: it records issues.
func expectEventsAtEverySplit(_ bytes: [UInt8], _ expected: [SSEEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    var whole = SSEParser()
    #expect(whole.feed(bytes) == expected, "one read", sourceLocation: sourceLocation)

    for k in 0...bytes.count {
        var parser = SSEParser()
        let events = parser.feed(bytes[..<k]) + parser.feed(bytes[k...])
        #expect(events == expected, "split at \(k)", sourceLocation: sourceLocation)
        if events != expected { return }
    }

    var bytewise = SSEParser()
    var events: [SSEEvent] = []
    for byte in bytes { events += bytewise.feed(CollectionOfOne(byte)) }
    #expect(events == expected, "one byte at a time", sourceLocation: sourceLocation)

    var buffered = SSEParser()
    #expect(buffered.feed(ByteBuffer(bytes: bytes)) == expected, "ByteBuffer", sourceLocation: sourceLocation)
}

func expectEventsAtEverySplit(_ text: String, _ expected: [SSEEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    expectEventsAtEverySplit(Array(text.utf8), expected, sourceLocation: sourceLocation)
}

@Suite struct SSEParserTests {
    @Test func lineFeedLineEnds() {
        expectEventsAtEverySplit("data: a\n\ndata: b\n\n", [SSEEvent(data: "a"), SSEEvent(data: "b")])
    }

    @Test func crlfLineEnds() {
        expectEventsAtEverySplit("data: a\r\n\r\ndata: b\r\n\r\n", [SSEEvent(data: "a"), SSEEvent(data: "b")])
    }

    @Test func crLineEnds() {
        expectEventsAtEverySplit("data: a\r\rdata: b\r\r", [SSEEvent(data: "a"), SSEEvent(data: "b")])
    }

    @Test func mixedLineEnds() {
        expectEventsAtEverySplit("data: a\r\n\rdata: b\n\r\ndata: c\r\n\n", [
            SSEEvent(data: "a"), SSEEvent(data: "b"), SSEEvent(data: "c"),
        ])
    }

    /// A CR ending one read and an LF starting the next are one line end, not a line end and an
    /// empty line: the two data lines must stay in one event.
    @Test func crlfSplitAcrossReadsIsOneLineEnd() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\r".utf8)).isEmpty)
        #expect(parser.feed(Array("\ndata: b\r".utf8)).isEmpty)
        #expect(parser.feed(Array("\n\r".utf8)) == [SSEEvent(data: "a\nb")])
        #expect(parser.feed(Array("\n".utf8)).isEmpty)
        expectEventsAtEverySplit("data: a\r\ndata: b\r\n\r\n", [SSEEvent(data: "a\nb")])
    }

    @Test func loneCRThenOtherByteAcrossReads() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\r".utf8)).isEmpty)
        #expect(parser.feed(Array("\rdata: b\r\r".utf8)) == [SSEEvent(data: "a"), SSEEvent(data: "b")])
    }

    @Test func dataWithAndWithoutSpace() {
        expectEventsAtEverySplit("data:x\n\ndata: y\n\ndata:  z\n\ndata:\n\n", [
            SSEEvent(data: "x"), SSEEvent(data: "y"), SSEEvent(data: " z"), SSEEvent(data: ""),
        ])
    }

    @Test func severalDataLinesJoinWithLineFeed() {
        expectEventsAtEverySplit("data: one\ndata:two\ndata\ndata: four\n\n", [SSEEvent(data: "one\ntwo\n\nfour")])
        expectEventsAtEverySplit("data: a\ndata:\n\n", [SSEEvent(data: "a\n")])
    }

    @Test func emptyLineDispatchesOnlyWhenDataWasSeen() {
        expectEventsAtEverySplit("\n\n\nevent: x\n\nid: 1\n\ndata: y\n\n", [SSEEvent(event: nil, data: "y", id: "1")])
    }

    @Test func eventAndIDFields() {
        let stream = "event: add\nid: 7\ndata: x\n\ndata: y\n\nid\ndata: z\n\nevent:\ndata: w\n\n"
        expectEventsAtEverySplit(stream, [
            SSEEvent(event: "add", data: "x", id: "7"),
            // The event type resets after each dispatch; the last event ID persists.
            SSEEvent(event: nil, data: "y", id: "7"),
            SSEEvent(event: nil, data: "z", id: ""),
            SSEEvent(event: nil, data: "w", id: ""),
        ])
    }

    @Test func idWithNullIsIgnored() {
        expectEventsAtEverySplit("id: 1\ndata: a\n\nid: 2\u{0}3\ndata: b\n\n", [
            SSEEvent(data: "a", id: "1"), SSEEvent(data: "b", id: "1"),
        ])
    }

    @Test func retryAndUnknownFieldsAreIgnored() {
        expectEventsAtEverySplit("retry: 1000\nfoo: bar\nDATA: no\ndata : no\ndata: x\nretry\n\n", [SSEEvent(data: "x")])
    }

    @Test func commentsAreIgnored() {
        expectEventsAtEverySplit(": ping\n\n:\ndata: x\n: between\ndata: y\n\n:keep-alive\r\n\r\n", [SSEEvent(data: "x\ny")])
    }

    @Test func utf8SplitAcrossReads() {
        let text = "héllo 世界 🎉 done"
        expectEventsAtEverySplit("data: \(text)\n\ndata: \(text)\r\n\r\n", [SSEEvent(data: text), SSEEvent(data: text)])
    }

    @Test func invalidUTF8BecomesReplacementCharacter() {
        expectEventsAtEverySplit(Array("data: a".utf8) + [0xFF] + Array("b\n\n".utf8), [SSEEvent(data: "a\u{FFFD}b")])
    }

    @Test func leadingByteOrderMarkIsSkippedOnce() {
        expectEventsAtEverySplit("\u{FEFF}data: a\n\n\u{FEFF}data: b\n\n", [SSEEvent(data: "a")])
        expectEventsAtEverySplit("\u{FEFF}\ndata: a\n\n", [SSEEvent(data: "a")])
    }

    @Test func doneMarkerIsPlainData() {
        expectEventsAtEverySplit("data: [DONE]\n\ndata:[DONE]\n\n", [SSEEvent(data: "[DONE]"), SSEEvent(data: "[DONE]")])
    }

    /// Per the spec, an event not closed by an empty line is discarded at the end of the stream.
    @Test func finishDiscardsAnUnterminatedEvent() {
        var parser = SSEParser()
        #expect(parser.feed(Array("data: a\n\ndata: b\n".utf8)) == [SSEEvent(data: "a")])
        #expect(parser.hasPendingInput)
        #expect(parser.finish().isEmpty)
        #expect(!parser.hasPendingInput)

        var unterminatedLine = SSEParser()
        #expect(unterminatedLine.feed(Array("data: a".utf8)).isEmpty)
        #expect(unterminatedLine.hasPendingInput)
        #expect(unterminatedLine.finish().isEmpty)

        var clean = SSEParser()
        #expect(clean.feed(Array("data: a\n\n".utf8)).count == 1)
        #expect(!clean.hasPendingInput)
    }

    @Test func realVLLMChatStream() {
        let chunks = [
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Héllo"},"logprobs":null,"finish_reason":null}]}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":" 世界"},"logprobs":null,"finish_reason":"length","stop_reason":null}]}"#,
            #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":5,"total_tokens":7,"completion_tokens":2}}"#,
            "[DONE]",
        ]
        for lineEnd in ["\n", "\r\n", "\r"] {
            let stream = chunks.map { "data: \($0)\(lineEnd)\(lineEnd)" }.joined()
            expectEventsAtEverySplit(stream, chunks.map { SSEEvent(data: $0) })
        }
    }

    @Test("the eight-bytes-at-a-time line scan finds a CR or LF at every position and nothing else")
    func wordLineEndTest() {
        // Backgrounds without a line end, among them bytes one bit away from CR and LF and high bytes.
        let backgrounds: [UInt8] = [0x00, 0x09, 0x0B, 0x0C, 0x0E, 0x20, 0x61, 0x8A, 0x8D, 0xFF]
        for background in backgrounds {
            for position in 0..<8 {
                for value in UInt8.min...UInt8.max {
                    var bytes = [UInt8](repeating: background, count: 8)
                    bytes[position] = value
                    let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let expected = value == 0x0A || value == 0x0D
                    if SSEParser.hasLineEnd(word) != expected {
                        Issue.record("byte \(value) at \(position) on \(background): \(!expected)")
                        return
                    }
                }
            }
        }
    }

    @Test("long lines end at every alignment with LF, CR and CRLF")
    func longLinesAtEveryAlignment() {
        for lineEnd in ["\n", "\r", "\r\n"] {
            // Data of 0 to 24 bytes puts each line end at every offset within an eight-byte word.
            let datas = (0...24).map { String(repeating: "x", count: $0) + "é" }
            let stream = ": comment that is longer than a word\(lineEnd)" + datas.map { "data: \($0)\(lineEnd)\(lineEnd)" }.joined()
            expectEventsAtEverySplit(stream, datas.map { SSEEvent(data: $0) })
        }
    }
}
