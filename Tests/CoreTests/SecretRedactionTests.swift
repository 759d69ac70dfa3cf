import Foundation
import StampedeCore
import Testing

/// True when `text` holds any run of `length` characters of `secret`.
func leaks(_ secret: String, in text: String, length: Int = SecretRedaction.minimumRun) -> Bool {
    let characters = Array(secret)
    guard characters.count >= length else { return text.contains(secret) }
    return (0...(characters.count - length)).contains { text.contains(String(characters[$0..<($0 + length)])) }
}

@Suite("SecretRedaction: any 8 characters of a secret, raw, cut or escaped")
struct SecretRedactionTests {
    static let key = "sk-SECRET/1234+abcdEFGH/5678"

    /// The forms a target may echo the key in, and what must be left of each.
    static let forms: [(String, String)] = [
        ("raw", "invalid key Bearer \(key) given"),
        ("JSON-escaped slashes", #"{"auth":"Bearer sk-SECRET\/1234+abcdEFGH\/5678"}"#),
        ("\\u escapes", #"key sk-SECRET\u002f1234\u002Babcd\u0045FGH/5678 end"#),
        ("URL-encoded", "?key=sk-SECRET%2F1234%2BabcdEFGH%2F5678&x=1"),
        ("JSON inside JSON", #"{"body":"{\"auth\":\"sk-SECRET\\\/1234+abcdEFGH\\\/5678\"}"}"#),
        ("cut at an excerpt", "Bearer sk-SECRET/12…"),
        ("cut and escaped", #"Bearer sk-SECRET\/1234+ab…"#),
        ("a middle run", "xx1234+abcdEFGHyy"),
    ]

    @Test("no form leaves 8 characters of the key", arguments: forms)
    func noFormLeaks(_ name: String, _ text: String) {
        #expect(leaks(Self.key, in: text), "the test input of \(name) must hold the key")
        let redacted = SecretRedaction.redact(text, secrets: [Self.key])
        #expect(!leaks(Self.key, in: redacted), "\(name): \(redacted)")
        #expect(!SecretRedaction.decodedForms(redacted).contains { leaks(Self.key, in: $0) }, "\(name) once unescaped: \(redacted)")
        #expect(redacted.contains("***"), "\(name): \(redacted)")
    }

    @Test func surroundingTextStays() {
        #expect(SecretRedaction.redact("invalid key Bearer \(Self.key) given", secrets: [Self.key]) == "invalid key Bearer *** given")
        #expect(SecretRedaction.redact(#"{"a":"sk-SECRET\/1234+abcdEFGH\/5678"}"#, secrets: [Self.key]) == #"{"a":"***"}"#)
        // Seven characters of the key are not a run: ordinary words that share them stay.
        #expect(SecretRedaction.redact("sk-SECR and 1234+ab", secrets: [Self.key]) == "sk-SECR and 1234+ab")
        #expect(SecretRedaction.redact("nothing here", secrets: [Self.key]) == "nothing here")
        #expect(SecretRedaction.redact("", secrets: [Self.key]).isEmpty)
    }

    @Test func severalSecretsAndShortOnes() {
        let token = "cluster-token-0123456789"
        let text = "a \(Self.key) b \(token) c"
        #expect(SecretRedaction.redact(text, secrets: [Self.key, token]) == "a *** b *** c")
        // A secret shorter than 8 characters is hidden where it appears whole.
        #expect(SecretRedaction.redact("key sk-1 and sk-1", secrets: ["sk-1"]) == "key *** and ***")
        #expect(SecretRedaction.redact("key sk-1", secrets: [""]) == "key sk-1")
        #expect(SecretRedaction.redact("key sk-1", secret: nil) == "key sk-1")
    }

    /// Adjacent copies become one mask; the result is stable when redacted again.
    @Test func idempotent() {
        let once = SecretRedaction.redact("\(Self.key)\(Self.key) / \(Self.key)", secrets: [Self.key])
        #expect(once == "*** / ***")
        #expect(SecretRedaction.redact(once, secrets: [Self.key]) == once)
    }

    /// CI found this one: a `%` right before the cut key read as the escape `%12`, taking two of its characters.
    @Test func percentRightBeforeTheSecret() {
        let redacted = SecretRedaction.redact(#" igd/%i{i}e%1234\u002babc…"#, secrets: [Self.key])
        #expect(!SecretRedaction.decodedForms(redacted).contains { leaks(Self.key, in: $0) }, "\(redacted)")
        #expect(redacted.hasSuffix("%***…"), "\(redacted)")
    }

    /// Random cuts of the key in random escapes, inside random text: never 8 characters left.
    @Test func randomFormsNeverLeak() {
        var generator = SystemRandomNumberGenerator()
        let filler = Array("abcdefghij /+{}\":\\%")
        for _ in 0..<3_000 {
            let characters = Array(Self.key)
            let start = Int.random(in: 0..<(characters.count - 8), using: &generator)
            let end = Int.random(in: (start + 8)...characters.count, using: &generator)
            var piece = ""
            for character in characters[start..<end] {
                switch (character, Int.random(in: 0..<4, using: &generator)) {
                case ("/", 0): piece += #"\/"#
                case ("/", 1): piece += "%2F"
                case ("+", 0): piece += #"\u002b"#
                case ("+", 1): piece += "%2B"
                case (_, 2) where character.isLetter: piece += String(format: #"\u%04x"#, character.unicodeScalars.first!.value)
                default: piece.append(character)
                }
            }
            let prefix = String((0..<Int.random(in: 0..<20, using: &generator)).map { _ in filler.randomElement()! })
            let redacted = SecretRedaction.redact(prefix + piece + "…", secrets: [Self.key])
            #expect(!SecretRedaction.decodedForms(redacted).contains { leaks(Self.key, in: $0) }, "\(piece) -> \(redacted)")
        }
    }
}

extension SecretRedaction {
    /// `text` and its unescaped forms (JSON `\/`, `\uXXXX`, URL `%XX`), as a reader could decode them.
    static func decodedForms(_ text: String) -> [String] {
        var forms = [text]
        for _ in 0..<3 {
            var next = forms.last!.replacingOccurrences(of: #"\/"#, with: "/").replacingOccurrences(of: #"\\"#, with: #"\"#)
            for (escape, character) in [(#"\u002f"#, "/"), (#"\u002F"#, "/"), (#"\u002b"#, "+"), (#"\u002B"#, "+"),
                                        ("%2F", "/"), ("%2f", "/"), ("%2B", "+"), ("%2b", "+")] {
                next = next.replacingOccurrences(of: escape, with: character)
            }
            // Any other \u escape of a letter or digit.
            while let range = next.range(of: #"\\u[0-9a-fA-F]{4}"#, options: .regularExpression),
                  let value = UInt32(next[range].dropFirst(2), radix: 16), let scalar = Unicode.Scalar(value) {
                next.replaceSubrange(range, with: String(Character(scalar)))
            }
            forms.append(next)
        }
        return forms
    }
}
