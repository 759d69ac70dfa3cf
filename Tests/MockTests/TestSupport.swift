import Foundation
import StampedeCore
@testable import StampedeMock
import StampedeTestSupport
import Testing

/// The suites that run a server, one test at a time: the timing tests measure milliseconds on a
/// 2-core machine, so no other mock test may compete with them for the CPU.
@Suite("Mock server", .serialized)
struct MockServerTests {}

/// Fast timing for shape tests: no waits at all.
let instant = MockConfig.Timing.fixed(ttft: .zero, itl: .zero)

func chatBody(_ prompt: String, maxTokens: Int? = 5, stream: Bool = true, includeUsage: Bool = true) -> String {
    var fields = ["\"model\":\"test-model\"", "\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\(JSON.quote(prompt))}]",
                  "\"stream\":\(stream)"]
    if let maxTokens { fields.append("\"max_tokens\":\(maxTokens)") }
    if includeUsage { fields.append("\"stream_options\":{\"include_usage\":true}") }
    return "{" + fields.joined(separator: ",") + "}"
}

func completionsBody(_ prompt: String, maxTokens: Int = 5, stream: Bool = true, includeUsage: Bool = true) -> String {
    "{\"model\":\"test-model\",\"prompt\":\(JSON.quote(prompt)),\"max_tokens\":\(maxTokens),\"stream\":\(stream)"
        + (includeUsage ? ",\"stream_options\":{\"include_usage\":true}}" : "}")
}

func tgiBody(_ prompt: String, maxNewTokens: Int = 5, details: Bool = true) -> String {
    "{\"inputs\":\(JSON.quote(prompt)),\"parameters\":{\"max_new_tokens\":\(maxNewTokens),\"details\":\(details)}}"
}

/// OpenAI events that carry answer text (`delta.content` or `text`, non-empty).
func answerEvents(_ response: RawResponse) -> [TimedEvent] {
    response.events.filter { event in
        guard let choice = event.json?["choices"]?[0] else { return false }
        let text = choice["delta"]?["content"]?.stringValue ?? choice["text"]?.stringValue ?? ""
        return !text.isEmpty
    }
}

/// OpenAI events that carry reasoning text.
func reasoningEvents(_ response: RawResponse) -> [TimedEvent] {
    response.events.filter { !($0.json?["choices"]?[0]?["delta"]?["reasoning_content"]?.stringValue ?? "").isEmpty }
}

/// The concatenated answer text of an OpenAI stream.
func answerText(_ response: RawResponse) -> String {
    answerEvents(response).map { event in
        let choice = event.json?["choices"]?[0]
        return choice?["delta"]?["content"]?.stringValue ?? choice?["text"]?.stringValue ?? ""
    }.joined()
}

/// TGI token events.
func tgiTokenEvents(_ response: RawResponse) -> [TimedEvent] {
    response.events.filter { $0.json?["token"] != nil }
}

func milliseconds(_ duration: Duration) -> Double { duration.seconds * 1000 }

extension RawResponse: CustomTestStringConvertible {
    public var testDescription: String {
        "HTTP \(status), \(events.count) events, \(isChunked ? "chunked" : "sized"), complete: \(complete)"
    }
}
