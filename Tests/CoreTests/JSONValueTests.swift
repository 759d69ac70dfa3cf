import Foundation
import StampedeCore
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    static let sample: JSONValue = .object([
        "int": .number(50),
        "negative": .number(-3),
        "fraction": .number(1.5),
        "flag": .bool(true),
        "off": .bool(false),
        "nothing": .null,
        "text": .string("héllo \"quoted\""),
        "list": .array([.number(1), .string("x"), .null, .array([])]),
        "nested": .object(["a": .object([:])]),
    ])

    static func encode(_ value: JSONValue) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func roundTrip() throws {
        #expect(try Self.decode(Self.encode(Self.sample)) == Self.sample)
    }

    @Test func decodesEachKind() throws {
        let value = try Self.decode(#"{"a": 1, "b": true, "c": null, "d": "s", "e": [2.5], "f": {}}"#)
        #expect(value["a"] == .number(1))
        #expect(value["b"] == .bool(true))
        #expect(value["c"] == .null)
        #expect(value["d"] == .string("s"))
        #expect(value["e"]?[0] == .number(2.5))
        #expect(value["f"] == .object([:]))
    }

    @Test func integersStayIntegersWhenEncoded() throws {
        #expect(try Self.encode(.object(["max_tokens": .number(50)])) == #"{"max_tokens":50}"#)
        #expect(try Self.encode(.number(-7)) == "-7")
        #expect(try Self.encode(.number(0.5)) == "0.5")
        #expect(try Self.encode(.array([.number(1e3), .number(2.25)])) == "[1000,2.25]")
        // Linux's encoder already drops ".0" from integral Doubles; negative zero is where the integer path shows.
        #expect(try Self.encode(.number(-0.0)) == "0")
    }

    @Test func accessors() {
        #expect(JSONValue.number(50).intValue == 50)
        #expect(JSONValue.number(1.5).intValue == nil)
        #expect(JSONValue.number(1.5).doubleValue == 1.5)
        #expect(JSONValue.string("x").stringValue == "x")
        #expect(JSONValue.bool(true).boolValue == true)
        #expect(JSONValue.null.isNull)
        #expect(JSONValue.array([.null])[1] == nil)
        #expect(JSONValue.string("x")["key"] == nil)
        #expect(JSONValue.object([:]).objectValue == [:])
    }

    @Test func mergingOverridesKeysShallowly() {
        let base: JSONValue = .object(["a": .number(1), "b": .number(2), "n": .object(["x": .number(1)])])
        let extra: JSONValue = .object(["b": .number(3), "c": .string("new"), "n": .object(["y": .number(2)])])
        #expect(base.merging(extra) == .object([
            "a": .number(1), "b": .number(3), "c": .string("new"), "n": .object(["y": .number(2)]),
        ]))
        #expect(base.merging(.object([:])) == base)
    }

    @Test func mergingANonObjectReturnsTheOther() {
        #expect(JSONValue.string("x").merging(.object(["a": .null])) == .object(["a": .null]))
        #expect(JSONValue.object(["a": .null]).merging(.number(1)) == .number(1))
    }
}
