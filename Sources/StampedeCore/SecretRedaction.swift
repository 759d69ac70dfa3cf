/// Keeps secrets (the API key, the cluster token) out of text meant for people and files: error
/// messages, logs, reports.
///
/// A target that echoes the `Authorization` header may hand it back whole, cut at an excerpt limit
/// (`Bearer sk-SECRET-12…`), or escaped by a JSON or URL encoder (`sk-SECRET\/1234\u002babc`,
/// `sk-SECRET%2F1234`). So redaction does not look for the exact secret only: every run of at least
/// `minimumRun` characters that also occurs inside a secret is replaced with `***`, after the text is
/// read through JSON string escapes (`\/`, `\"`, `\\`, `\uXXXX`) and URL percent escapes (`%2B`),
/// up to three levels deep (JSON inside JSON), and once more through the JSON escapes alone (a `%`
/// right before the secret is not always an escape). A secret shorter than `minimumRun` is replaced where
/// it appears whole. Shorter fragments of a secret (7 characters or fewer) stay: they are what
/// "no 8-character substring" allows, and hiding them would also hide ordinary words.
///
/// Callers redact before they cut an excerpt and again on the final message.
public enum SecretRedaction {
    /// The shortest run of a secret's characters that is hidden.
    public static let minimumRun = 8
    public static let mask = "***"

    /// `text` with the secrets' runs replaced by `***` (adjacent runs become one `***`).
    /// Empty secrets are ignored. Cost: about text length x matches of each character in the secrets.
    public static func redact(_ text: String, secrets: [String]) -> String {
        let patterns = secrets.filter { !$0.isEmpty }.map { Pattern(Array($0.unicodeScalars)) }
        guard !patterns.isEmpty else { return text }
        let scalars = Array(text.unicodeScalars)
        let shortest = patterns.map(\.threshold).min() ?? minimumRun
        guard scalars.count >= shortest else { return text }

        var hidden = [Bool](repeating: false, count: scalars.count)
        let original = scalars.enumerated().map { Unit(scalar: $1, start: $0, end: $0 + 1) }
        // URL encoders escape only reserved characters; `%34` in `%34…` is a stray `%` before "34".
        let alphabet = Set(patterns.flatMap(\.scalars)).filter { !isUnreserved($0) }
        // Two readings: with URL percent escapes and without. A `%` just before the secret (`%1234…`)
        // reads as an escape in the first and takes two of its characters; the second keeps them.
        for percent in [true, false] {
            var units = original
            for level in 0..<4 {
                if level > 0 {
                    let decoded = decode(units, percent: percent ? alphabet : nil)
                    if decoded.count == units.count { break }  // nothing left to unescape
                    units = decoded
                }
                if level > 0 || percent { for pattern in patterns { pattern.mark(units, in: &hidden) } }
            }
        }
        guard hidden.contains(true) else { return text }

        var result = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if hidden[index] {
                result.append(contentsOf: mask.unicodeScalars)
                while index < scalars.count, hidden[index] { index += 1 }
            } else {
                result.append(scalars[index])
                index += 1
            }
        }
        return String(result)
    }

    /// Redacts one optional secret (the API key); nil or empty leaves `text` as it is.
    public static func redact(_ text: String, secret: String?) -> String {
        guard let secret, !secret.isEmpty else { return text }
        return redact(text, secrets: [secret])
    }

    /// One character after unescaping, and the scalars of the original text it came from.
    struct Unit {
        var scalar: Unicode.Scalar
        var start: Int
        var end: Int
    }

    /// A secret, indexed for matching: where each character occurs, and the hashes of its windows of
    /// `threshold` characters (a cheap first test at each position of the text).
    struct Pattern {
        let scalars: [Unicode.Scalar]
        let positions: [Unicode.Scalar: [Int]]
        let windows: Set<UInt64>
        /// Runs at least this long are hidden.
        let threshold: Int

        init(_ scalars: [Unicode.Scalar]) {
            self.scalars = scalars
            threshold = min(SecretRedaction.minimumRun, scalars.count)
            var positions: [Unicode.Scalar: [Int]] = [:]
            for (index, scalar) in scalars.enumerated() { positions[scalar, default: []].append(index) }
            self.positions = positions
            var windows = Set<UInt64>()
            for start in 0...(scalars.count - threshold) {
                windows.insert(Self.hash(scalars[start..<(start + threshold)]))
            }
            self.windows = windows
        }

        static func hash(_ scalars: some Sequence<Unicode.Scalar>) -> UInt64 {
            var value: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
            for scalar in scalars { value = (value ^ UInt64(scalar.value)) &* 0x100_0000_01b3 }
            return value
        }

        /// Marks, in `hidden` (indexed by original scalar), every run of `units` of at least
        /// `threshold` characters that occurs in the secret.
        func mark(_ units: [Unit], in hidden: inout [Bool]) {
            var index = 0
            while index + threshold <= units.count {
                defer { index += 1 }
                guard windows.contains(Self.hash(units[index..<(index + threshold)].lazy.map(\.scalar))) else { continue }
                var longest = 0
                for start in positions[units[index].scalar] ?? [] {
                    var length = 0
                    while index + length < units.count, start + length < scalars.count,
                          units[index + length].scalar == scalars[start + length] {
                        length += 1
                    }
                    longest = max(longest, length)
                }
                guard longest >= threshold else { continue }
                for unit in units[index..<(index + longest)] {
                    for original in unit.start..<unit.end { hidden[original] = true }
                }
            }
        }
    }

    /// One level of unescaping: JSON string escapes, and URL percent escapes of the ASCII characters in
    /// `percent` (the secrets' own: an escape of any other character cannot be part of a secret, and
    /// reading `%23` in `%234…` as `#` would hide the `23` of a secret that follows a stray `%`).
    static func decode(_ units: [Unit], percent: Set<Unicode.Scalar>?) -> [Unit] {
        var output: [Unit] = []
        output.reserveCapacity(units.count)
        var index = 0
        while index < units.count {
            let unit = units[index]
            if unit.scalar == "\\", index + 1 < units.count {
                let next = units[index + 1].scalar
                if let simple = simpleEscape(next) {
                    output.append(Unit(scalar: simple, start: unit.start, end: units[index + 1].end))
                    index += 2
                    continue
                }
                if next == "u", let value = hex(units, from: index + 2, digits: 4) {
                    var scalarValue = value
                    var end = units[index + 5].end
                    var consumed = 6
                    // A UTF-16 surrogate pair: \uD83D\uDE00.
                    if (0xD800...0xDBFF).contains(value), index + 11 < units.count, units[index + 6].scalar == "\\",
                       units[index + 7].scalar == "u", let low = hex(units, from: index + 8, digits: 4), (0xDC00...0xDFFF).contains(low) {
                        scalarValue = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        end = units[index + 11].end
                        consumed = 12
                    }
                    if let scalar = Unicode.Scalar(scalarValue) {
                        output.append(Unit(scalar: scalar, start: unit.start, end: end))
                        index += consumed
                        continue
                    }
                }
            }
            if let percent, unit.scalar == "%", let value = hex(units, from: index + 1, digits: 2), value < 0x80,
               let scalar = Unicode.Scalar(value), percent.contains(scalar) {
                output.append(Unit(scalar: scalar, start: unit.start, end: units[index + 2].end))
                index += 3
                continue
            }
            output.append(unit)
            index += 1
        }
        return output
    }

    /// RFC 3986's unreserved characters: letters, digits, `-`, `.`, `_`, `~`.
    static func isUnreserved(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_", "~": true
        default: false
        }
    }

    private static func simpleEscape(_ scalar: Unicode.Scalar) -> Unicode.Scalar? {
        switch scalar {
        case "/", "\\", "\"", "'": scalar
        case "n": "\n"
        case "t": "\t"
        case "r": "\r"
        default: nil
        }
    }

    private static func hex(_ units: [Unit], from start: Int, digits: Int) -> UInt32? {
        guard start + digits <= units.count else { return nil }
        var value: UInt32 = 0
        for unit in units[start..<(start + digits)] {
            let digit: UInt32
            switch unit.scalar.value {
            case 0x30...0x39: digit = unit.scalar.value - 0x30  // 0-9
            case 0x41...0x46: digit = unit.scalar.value - 0x41 + 10  // A-F
            case 0x61...0x66: digit = unit.scalar.value - 0x61 + 10  // a-f
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
