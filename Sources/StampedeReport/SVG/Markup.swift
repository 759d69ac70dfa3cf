import Foundation

/// Escaping and number text for HTML and SVG output. Every piece of text that comes from a scenario,
/// a target or a peer (names, labels, error messages) goes through `escape` before it is written.
public enum Markup {
    /// Escapes `& < > " '`, so the text is safe in element content and in quoted attributes alike.
    /// Control characters other than tab, CR and LF become U+FFFD (they are not allowed in XML).
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// A coordinate in SVG user units: two decimals, no exponent, never NaN.
    static func coordinate(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let clamped = min(max(value, -1e6), 1e6)
        var text = String(format: "%.2f", clamped)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }

    /// A tick or value label: 3 significant digits, k/M for thousands and millions.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let magnitude = abs(value)
        if magnitude >= 1e6 { return trimmed(value / 1e6) + "M" }
        if magnitude >= 1e4 { return trimmed(value / 1e3) + "k" }
        return trimmed(value)
    }

    static func trimmed(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude > 0, magnitude < 0.01 { return String(format: "%.2g", value) }
        let digits = magnitude >= 100 || magnitude == 0 ? 0 : magnitude >= 10 ? 1 : magnitude >= 1 ? 2 : 3
        var text = String(format: "%.\(digits)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text == "-0" ? "0" : text
    }
}
