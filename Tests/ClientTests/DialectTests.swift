import Foundation
import StampedeCore
import Testing
@testable import StampedeClient

/// Runs a whole SSE stream through the parser and a dialect.
func interpret(_ stream: String, _ dialect: any Dialect) -> [DialectEvent] {
    var parser = SSEParser()
    return parser.feed(Array(stream.utf8)).map(dialect.interpret)
}

func sse(_ payloads: [String]) -> String {
    payloads.map { "data: \($0)\n\n" }.joined()
}

enum Streams {
    static let chatPrefix = #"{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1718000000,"model":"m","#

    static func chat(_ delta: String, finish: String = "null") -> String {
        chatPrefix + #""choices":[{"index":0,"delta":"# + delta + #","logprobs":null,"finish_reason":"# + finish + "}]}"
    }

    /// vLLM chat with a reasoning parser: role-only first chunk, reasoning, answer, finish, usage-only chunk, [DONE].
    static let vllmReasoningChat = sse([
        chat(#"{"role":"assistant","content":""}"#),
        chat(#"{"reasoning_content":"Let"}"#),
        chat(#"{"reasoning_content":" me think"}"#),
        chat(#"{"content":"The"}"#),
        chat(#"{"content":" answer"}"#),
        chat(#"{}"#, finish: #""length""#),
        chatPrefix + #""choices":[],"usage":{"prompt_tokens":17,"total_tokens":21,"completion_tokens":4}}"#,
        "[DONE]",
    ])

    static func completion(_ text: String, finish: String = "null") -> String {
        #"{"id":"cmpl-3","object":"text_completion","created":1718000000,"model":"m","choices":[{"index":0,"text":"# + text + #","logprobs":null,"finish_reason":"# + finish + #","stop_reason":null}]}"#
    }

    static let vllmCompletions = sse([
        completion(#""Once""#),
        completion(#"" upon""#),
        completion(#""""#),
        completion(#"" a""#, finish: #""length""#),
        #"{"id":"cmpl-3","object":"text_completion","created":1718000000,"model":"m","choices":[],"usage":{"prompt_tokens":9,"total_tokens":12,"completion_tokens":3}}"#,
        "[DONE]",
    ])

    static func tgiToken(_ index: Int, _ text: String, special: Bool = false, final: Int? = nil) -> String {
        let token = #"{"index":\#(index),"token":{"id":\#(100 + index),"text":"\#(text)","logprob":-0.5,"special":\#(special)},"#
        if let final {
            return token + #""generated_text":"Hello world","details":{"finish_reason":"eos_token","generated_tokens":\#(final),"seed":null}}"#
        }
        return token + #""generated_text":null,"details":null}"#
    }

    static let tgi = sse([
        tgiToken(1, "Hello"),
        tgiToken(2, " world"),
        tgiToken(3, "</s>", special: true, final: 3),
    ])
}

@Suite struct DialectTests {
    @Test func chatReasoningStream() {
        let events = interpret(Streams.vllmReasoningChat, OpenAIChatDialect())
        #expect(events.count == 8)
        guard case .chunk(let role) = events[0] else { Issue.record("role chunk"); return }
        #expect(!role.isToken && !role.isAnswerToken)
        guard case .chunk(let reasoning) = events[1] else { Issue.record("reasoning chunk"); return }
        #expect(reasoning.isToken && !reasoning.isAnswerToken && reasoning.reasoning == "Let" && reasoning.answer.isEmpty)
        guard case .chunk(let answer) = events[3] else { Issue.record("answer chunk"); return }
        #expect(answer.isToken && answer.isAnswerToken && answer.answer == "The")
        guard case .chunk(let finish) = events[5] else { Issue.record("finish chunk"); return }
        #expect(!finish.isToken && finish.finishReason == "length")
        guard case .chunk(let usage) = events[6] else { Issue.record("usage chunk"); return }
        #expect(!usage.isToken && usage.usage == TokenUsage(promptTokens: 17, completionTokens: 4))
        #expect(events[7] == .done)
        #expect(events.filter { if case .chunk(let c) = $0 { c.isToken } else { false } }.count == 4)
    }

    @Test func chatReasoningFieldNamedReasoning() {
        let event = OpenAIChatDialect().interpret(SSEEvent(data: Streams.chat(#"{"reasoning":"hmm"}"#)))
        #expect(event == .chunk(StreamChunk(reasoning: "hmm", isToken: true)))
    }

    @Test func chatEmptyAndNullDeltasAreNotTokens() {
        for delta in [#"{}"#, #"{"content":""}"#, #"{"content":null}"#, #"{"reasoning_content":""}"#, #"{"role":"assistant"}"#] {
            let event = OpenAIChatDialect().interpret(SSEEvent(data: Streams.chat(delta)))
            #expect(event == .chunk(StreamChunk()), "\(delta)")
        }
    }

    @Test func completionsStream() {
        let events = interpret(Streams.vllmCompletions, OpenAICompletionsDialect())
        let tokens = events.compactMap { if case .chunk(let c) = $0, c.isToken { c.answer } else { nil } }
        #expect(tokens == ["Once", " upon", " a"])
        guard case .chunk(let usage) = events[4] else { Issue.record("usage chunk"); return }
        #expect(usage.usage == TokenUsage(promptTokens: 9, completionTokens: 3))
        guard case .chunk(let last) = events[3] else { Issue.record("last chunk"); return }
        #expect(last.finishReason == "length")
        #expect(events.last == .done)
    }

    @Test func tgiStream() {
        let events = interpret(Streams.tgi, TGIDialect())
        #expect(events == [
            .chunk(StreamChunk(answer: "Hello", isToken: true, isAnswerToken: true)),
            .chunk(StreamChunk(answer: " world", isToken: true, isAnswerToken: true)),
            // The special EOS token is no output text, but the final event ends the request.
            .chunk(StreamChunk(generatedTokens: 3, finishReason: "eos_token", isFinal: true)),
        ])
    }

    @Test func tgiFinalEventCarriesItsToken() {
        let event = TGIDialect().interpret(SSEEvent(data: Streams.tgiToken(4, "!", final: 4)))
        #expect(event == .chunk(StreamChunk(answer: "!", isToken: true, isAnswerToken: true, generatedTokens: 4,
                                            finishReason: "eos_token", isFinal: true)))
        let textOnly = TGIDialect().interpret(SSEEvent(data: #"{"index":1,"token":{"id":1,"text":"a","special":false},"generated_text":"a","details":null}"#))
        #expect(textOnly == .chunk(StreamChunk(answer: "a", isToken: true, isAnswerToken: true, isFinal: true)))
    }

    @Test func doneWithAndWithoutSpace() {
        for dialect in APIDialect.allCases.map(\.dialect) {
            #expect(interpret("data: [DONE]\n\ndata:[DONE]\n\n", dialect) == [.done, .done])
        }
    }

    @Test func errorEvents() {
        let vllm = #"{"error":{"message":"The model ran out of KV cache","type":"InternalServerError","code":500}}"#
        let vllmObject = #"{"object":"error","message":"max_tokens is too large","type":"BadRequestError","param":null,"code":400}"#
        let tgi = #"{"error":"Request failed during generation: Server error: CUDA OOM","error_type":"generation"}"#
        for dialect in APIDialect.allCases.map(\.dialect) {
            #expect(dialect.interpret(SSEEvent(data: vllm)) == .error("The model ran out of KV cache"))
            #expect(dialect.interpret(SSEEvent(data: vllmObject)) == .error("max_tokens is too large"))
            #expect(dialect.interpret(SSEEvent(data: tgi)) == .error("Request failed during generation: Server error: CUDA OOM"))
            #expect(dialect.interpret(SSEEvent(event: "error", data: "overloaded")) == .error("overloaded"))
            #expect(dialect.interpret(SSEEvent(event: "error", data: vllm)) == .error("The model ran out of KV cache"))
        }
        // A null error field is no error.
        let nullError = OpenAIChatDialect().interpret(SSEEvent(data: Streams.chatPrefix + #""error":null,"choices":[]}"#))
        #expect(nullError == .chunk(StreamChunk()))
    }

    @Test func nonJSONEventIsMalformed() {
        for dialect in APIDialect.allCases.map(\.dialect) {
            for data in ["hello there", #"{"choices": ["#, "[1,2]", #""text""#, "42"] {
                guard case .malformed(let message) = dialect.interpret(SSEEvent(data: data)) else {
                    Issue.record("\(data) is not malformed in \(dialect.api)")
                    continue
                }
                #expect(message.contains("not a JSON object"))
            }
        }
    }

    @Test func emptyDataIsIgnored() {
        #expect(OpenAIChatDialect().interpret(SSEEvent(data: "")) == .ignored)
        #expect(TGIDialect().interpret(SSEEvent(data: "  ")) == .ignored)
    }

    @Test func continuousUsageStatsLastOneWins() {
        let chunk = Streams.chatPrefix + #""choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}],"usage":{"prompt_tokens":5,"completion_tokens":1}}"#
        #expect(OpenAIChatDialect().interpret(SSEEvent(data: chunk))
            == .chunk(StreamChunk(answer: "x", isToken: true, isAnswerToken: true, usage: TokenUsage(promptTokens: 5, completionTokens: 1))))
    }
}

@Suite struct RequestBodyTests {
    func decode(_ body: JSONValue) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(DialectSupport.encode(body)))
    }

    @Test func chatBody() throws {
        let body = OpenAIChatDialect().requestBody(model: "llama", prompt: "Hi \"there\"", maxTokens: 50,
                                                   extraBody: .object(["temperature": .number(0), "max_tokens": .number(7)]))
        #expect(try decode(body) == .object([
            "model": .string("llama"),
            "messages": .array([.object(["role": .string("user"), "content": .string("Hi \"there\"")])]),
            "max_tokens": .number(7),
            "stream": .bool(true),
            "stream_options": .object(["include_usage": .bool(true)]),
            "temperature": .number(0),
        ]))
        let text = String(decoding: DialectSupport.encode(body), as: UTF8.self)
        #expect(text.contains(#""max_tokens":7"#), "integers stay integers: \(text)")
    }

    @Test func completionsBody() throws {
        let body = OpenAICompletionsDialect().requestBody(model: "m", prompt: "p", maxTokens: 3, extraBody: nil)
        #expect(try decode(body) == .object([
            "model": .string("m"), "prompt": .string("p"), "max_tokens": .number(3), "stream": .bool(true),
            "stream_options": .object(["include_usage": .bool(true)]),
        ]))
    }

    @Test func tgiBodyMergesExtraBodyIntoParameters() throws {
        let body = TGIDialect().requestBody(model: "ignored", prompt: "p", maxTokens: 20,
                                            extraBody: .object(["temperature": .number(0.5), "max_new_tokens": .number(9)]))
        #expect(try decode(body) == .object([
            "inputs": .string("p"),
            "parameters": .object(["max_new_tokens": .number(9), "details": .bool(true), "temperature": .number(0.5)]),
        ]))
    }

    @Test func requestURLAppendsPath() {
        #expect(ClientConfig(baseURL: "http://h:8000", api: .chat, model: "m").requestURL == "http://h:8000/v1/chat/completions")
        #expect(ClientConfig(baseURL: "http://h:8000/proxy/", api: .tgi, model: "m").requestURL == "http://h:8000/proxy/generate_stream")
        #expect(ClientConfig(baseURL: "https://h", api: .completions, model: "m").requestURL == "https://h/v1/completions")
    }
}
