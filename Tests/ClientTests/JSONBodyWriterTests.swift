import Foundation
import NIOCore
import StampedeCore
import Testing
@testable import StampedeClient

@Suite("Request bodies without Foundation's encoder")
struct JSONBodyWriterTests {
    /// What Foundation writes for `value`, with the options the client used before.
    static func foundation(_ value: JSONValue) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    static func written(_ value: JSONValue) -> [UInt8] {
        Array(JSONBodyWriter.buffer(value).readableBytesView)
    }

    @Test("the bytes are Foundation's for every dialect's body, with an --extra-body")
    func dialectBodies() throws {
        let extra: JSONValue = .object(["temperature": .number(0.7), "ignore_eos": .bool(true), "stop": .null,
                                        "logit_bias": .object(["50256": .number(-100)])])
        for api in APIDialect.allCases {
            let prompt = "Say \"hi\"\\n\t to the café 🎉 / ünïcödé\u{1}"
            let body = api.dialect.requestBody(model: "org/model-7b", prompt: prompt, maxTokens: 150, extraBody: extra)
            #expect(Self.written(body) == (try Self.foundation(body)), "\(api)")
        }
    }

    @Test("every character below 0x80, escaped or not, is written as Foundation writes it")
    func everyASCIICharacter() throws {
        for scalar in 0..<0x80 {
            let value: JSONValue = .string("a\(Character(Unicode.Scalar(UInt8(scalar))))b")
            let ours = String(decoding: Self.written(value), as: UTF8.self)
            let theirs = String(decoding: try Self.foundation(value), as: UTF8.self)
            #expect(ours == theirs, "U+\(String(scalar, radix: 16))")
        }
    }

    @Test("generated values (nesting, numbers, unicode keys) read back the same, and match Foundation byte for byte")
    func generatedValues() throws {
        var random = SeededGenerator(seed: 20261130)
        for _ in 0..<500 {
            let value = Self.value(depth: 0, &random)
            let ours = Self.written(value)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(ours)) == value)
            #expect(ours == (try Self.foundation(value)))
        }
    }

    static func value(depth: Int, _ random: inout SeededGenerator) -> JSONValue {
        let pick = Int.random(in: 0..<(depth < 3 ? 6 : 4), using: &random)
        switch pick {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2:
            let numbers: [Double] = [0, -0.5, 1, 150, 0.7, 1e-7, 123456.789, -42, 1e15, 1e16, 2.5e300,
                                     Double(Int.random(in: -1_000_000...1_000_000, using: &random)),
                                     Double.random(in: -1000...1000, using: &random)]
            return .number(numbers.randomElement(using: &random)!)
        case 3: return .string(string(&random))
        case 4: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in value(depth: depth + 1, &random) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &random) { members[string(&random)] = value(depth: depth + 1, &random) }
            return .object(members)
        }
    }

    static func string(_ random: inout SeededGenerator) -> String {
        let pieces = ["a", "Z", "_", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "ü",
                      "世界", "🎉", "e\u{301}", "\u{2028}", "max_tokens", "model"]
        return (0..<Int.random(in: 0...6, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
    }
}
