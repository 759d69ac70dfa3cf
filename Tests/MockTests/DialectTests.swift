import Foundation
import StampedeCore
@testable import StampedeMock
import StampedeTestSupport
import Testing

extension MockServerTests {
@Suite("Dialect shapes")
struct DialectTests {
    let prompt = "Tell me about load testing with many concurrent users please"

    @Test("chat streams role chunk, max_tokens content chunks, finish, usage, [DONE]")
    func chatStream() async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 7))
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/event-stream")
            #expect(response.isChunked && response.complete)
            let events = response.events
            try #require(events.count == 11) // role, 7 tokens, finish, usage, [DONE]

            let first = try #require(events[0].json)
            #expect(first["object"]?.stringValue == "chat.completion.chunk")
            #expect(first["id"]?.stringValue?.hasPrefix("chatcmpl-") == true)
            #expect(first["model"]?.stringValue == "test-model")
            #expect(first["created"]?.intValue != nil)
            #expect(first["choices"]?[0]?["delta"] == .object(["role": .string("assistant"), "content": .string("")]))

            for event in events[1...7] {
                let choice = try #require(event.json?["choices"]?[0])
                #expect(choice["index"]?.intValue == 0)
                #expect(choice["finish_reason"] == .null)
                #expect(choice["logprobs"] == .null)
                #expect((choice["delta"]?["content"]?.stringValue ?? "").isEmpty == false)
            }
            #expect(answerEvents(response).count == 7)

            let finish = try #require(events[8].json?["choices"]?[0])
            #expect(finish["delta"] == .object([:]))
            #expect(finish["finish_reason"]?.stringValue == "length")

            let usageEvent = try #require(events[9].json)
            #expect(usageEvent["choices"] == .array([]))
            let usage = try #require(usageEvent["usage"])
            let expectedPrompt = TokenEstimator.estimate("You are terse.\n" + prompt)
            #expect(usage["prompt_tokens"]?.intValue == expectedPrompt)
            #expect(usage["completion_tokens"]?.intValue == 7)
            #expect(usage["total_tokens"]?.intValue == expectedPrompt + 7)
            #expect(events[10].data == "[DONE]")
        }
    }

    @Test("chat without include_usage sends no usage chunk")
    func chatWithoutUsage() async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 3, includeUsage: false))
            #expect(answerEvents(response).count == 3)
            #expect(response.events.allSatisfy { $0.json?["usage"] == nil })
            #expect(response.events.last?.data == "[DONE]")
        }
    }

    @Test("reasoning chunks come first and count in completion_tokens")
    func chatReasoning() async throws {
        try await withMock(MockConfig(timing: instant, reasoningTokens: 4)) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 6))
            let reasoning = reasoningEvents(response)
            let answers = answerEvents(response)
            #expect(reasoning.count == 4)
            #expect(answers.count == 6)
            // Role chunk, then the 4 reasoning chunks, then the answer.
            #expect(response.events[1...4].allSatisfy { $0.json?["choices"]?[0]?["delta"]?["reasoning_content"] != nil })
            let usage = response.events.compactMap { $0.json?["usage"] }.first
            #expect(usage?["completion_tokens"]?.intValue == 10)
        }
    }

    @Test("max_completion_tokens wins over max_tokens; defaultMaxTokens applies when neither is given")
    func maxTokenFields() async throws {
        try await withMock(MockConfig(timing: instant, defaultMaxTokens: 9)) { mock in
            let none = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: nil))
            #expect(answerEvents(none).count == 9)
            let body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true,\"max_tokens\":3,\"max_completion_tokens\":4}"
            let both = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: body)
            #expect(answerEvents(both).count == 4)
            #expect(both.events[0].json?["model"]?.stringValue == "stampede-mock")
        }
    }

    @Test("completions streams text chunks, finish, usage, [DONE]")
    func completionsStream() async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let response = try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, maxTokens: 6))
            #expect(response.status == 200)
            #expect(response.complete)
            let events = response.events
            try #require(events.count == 9) // 6 tokens, finish, usage, [DONE]
            for event in events[0..<6] {
                let json = try #require(event.json)
                #expect(json["object"]?.stringValue == "text_completion")
                #expect(json["id"]?.stringValue?.hasPrefix("cmpl-") == true)
                #expect(json["choices"]?[0]?["finish_reason"] == .null)
                #expect((json["choices"]?[0]?["text"]?.stringValue ?? "").isEmpty == false)
            }
            #expect(events[6].json?["choices"]?[0]?["finish_reason"]?.stringValue == "length")
            #expect(events[6].json?["choices"]?[0]?["text"]?.stringValue == "")
            let usage = try #require(events[7].json?["usage"])
            #expect(events[7].json?["choices"] == .array([]))
            #expect(usage["prompt_tokens"]?.intValue == TokenEstimator.estimate(prompt))
            #expect(usage["completion_tokens"]?.intValue == 6)
            #expect(events[8].data == "[DONE]")
        }
    }

    @Test("TGI streams max_new_tokens token events; the last carries generated_text and details; no [DONE]")
    func tgiStream() async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let response = try await RawHTTP.post(mock.port, "/generate_stream", json: tgiBody(prompt, maxNewTokens: 8))
            #expect(response.status == 200)
            #expect(response.header("content-type") == "text/event-stream")
            #expect(response.complete)
            let tokens = tgiTokenEvents(response)
            #expect(tokens.count == 8)
            #expect(response.events.count == 8)
            #expect(!response.events.contains { $0.data == "[DONE]" })
            var text = ""
            for (offset, event) in tokens.enumerated() {
                let json = try #require(event.json)
                #expect(json["index"]?.intValue == offset + 1)
                let token = try #require(json["token"])
                #expect(token["id"]?.intValue != nil)
                #expect(token["logprob"]?.doubleValue != nil)
                #expect(token["special"] == .bool(false))
                text += token["text"]?.stringValue ?? ""
                if offset < 7 {
                    #expect(json["generated_text"] == .null)
                    #expect(json["details"] == .null)
                }
            }
            let last = try #require(tokens.last?.json)
            #expect(last["generated_text"]?.stringValue == text)
            #expect(last["details"]?["finish_reason"]?.stringValue == "length")
            #expect(last["details"]?["generated_tokens"]?.intValue == 8)
            #expect(last["details"]?["seed"] == .null)
        }
    }

    @Test("TGI without details leaves details null on the last event")
    func tgiWithoutDetails() async throws {
        try await withMock(MockConfig(timing: instant)) { mock in
            let response = try await RawHTTP.post(mock.port, "/generate_stream", json: tgiBody(prompt, maxNewTokens: 3, details: false))
            let last = try #require(tgiTokenEvents(response).last?.json)
            #expect(last["generated_text"]?.stringValue != nil)
            #expect(last["details"] == .null)
        }
    }

    @Test("non-streamed replies: chat.completion, text_completion and TGI /generate")
    func nonStreamed() async throws {
        try await withMock(MockConfig(timing: instant, reasoningTokens: 2)) { mock in
            let chat = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 5, stream: false, includeUsage: false))
            #expect(chat.status == 200)
            #expect(chat.header("content-type") == "application/json")
            let chatJSON = try #require(chat.bodyJSON)
            #expect(chatJSON["object"]?.stringValue == "chat.completion")
            #expect(chatJSON["choices"]?[0]?["message"]?["role"]?.stringValue == "assistant")
            #expect(chatJSON["choices"]?[0]?["message"]?["reasoning_content"]?.stringValue != nil)
            #expect(chatJSON["choices"]?[0]?["finish_reason"]?.stringValue == "length")
            let content = chatJSON["choices"]?[0]?["message"]?["content"]?.stringValue ?? ""
            #expect(TokenEstimator.wordCount(content) == 5)
            #expect(chatJSON["usage"]?["completion_tokens"]?.intValue == 7)

            let completion = try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, maxTokens: 4, stream: false))
            let completionJSON = try #require(completion.bodyJSON)
            #expect(completionJSON["object"]?.stringValue == "text_completion")
            #expect(TokenEstimator.wordCount(completionJSON["choices"]?[0]?["text"]?.stringValue ?? "") == 4)
            #expect(completionJSON["usage"]?["completion_tokens"]?.intValue == 4)
            #expect(completionJSON["usage"]?["prompt_tokens"]?.intValue == TokenEstimator.estimate(prompt))

            let tgi = try await RawHTTP.post(mock.port, "/generate", json: tgiBody(prompt, maxNewTokens: 3))
            let tgiJSON = try #require(tgi.bodyJSON)
            #expect(TokenEstimator.wordCount(tgiJSON["generated_text"]?.stringValue ?? "") == 3)
            #expect(tgiJSON["details"]?["generated_tokens"]?.intValue == 3)
        }
    }

    @Test("GET /health, /v1/models; unknown paths are 404")
    func infoEndpoints() async throws {
        try await withMock(MockConfig(timing: instant, model: "my-model")) { mock in
            #expect(try await RawHTTP.get(mock.port, "/health").status == 200)
            let models = try await RawHTTP.get(mock.port, "/v1/models")
            #expect(models.status == 200)
            #expect(models.bodyJSON?["object"]?.stringValue == "list")
            #expect(models.bodyJSON?["data"]?[0]?["id"]?.stringValue == "my-model")
            #expect(try await RawHTTP.get(mock.port, "/nope").status == 404)
        }
    }

    @Test("the correctness prompt's number is the answer's first token, in every dialect")
    func correctness() async throws {
        let number = 48_213
        let prompt = CorrectnessCheck.instruction(for: number) + " Then some filler text about sonnets follows here."
        try await withMock(MockConfig(timing: instant, reasoningTokens: 2)) { mock in
            let chat = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody(prompt, maxTokens: 6))
            #expect(answerEvents(chat).first?.json?["choices"]?[0]?["delta"]?["content"]?.stringValue == "48213")
            #expect(CorrectnessCheck.passes(reply: answerText(chat), expected: number))
            #expect(answerEvents(chat).count == 6)

            let completion = try await RawHTTP.post(mock.port, "/v1/completions", json: completionsBody(prompt, maxTokens: 3))
            #expect(answerEvents(completion).first?.json?["choices"]?[0]?["text"]?.stringValue == "48213")

            let tgi = try await RawHTTP.post(mock.port, "/generate_stream", json: tgiBody(prompt, maxNewTokens: 3))
            #expect(tgiTokenEvents(tgi).first?.json?["token"]?["text"]?.stringValue == "48213")
            #expect(CorrectnessCheck.passes(reply: tgiTokenEvents(tgi).last?.json?["generated_text"]?.stringValue ?? "", expected: number))

            // Without the instruction the reply has no digits.
            let plain = try await RawHTTP.post(mock.port, "/v1/chat/completions", json: chatBody("hello there", maxTokens: 20))
            #expect(!answerText(plain).contains { $0.isNumber })
        }
    }
}
}
