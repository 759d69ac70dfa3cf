import Foundation

/// Number formatting shared by the console outputs.
enum Fmt {
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return "-" }
        return String(format: "%.\(digits)f", value)
    }

    /// Seconds as milliseconds with sensible precision.
    static func ms(_ seconds: Double) -> String {
        let ms = seconds * 1000
        if ms >= 1000 { return fixed(ms, 0) }
        if ms >= 10 { return fixed(ms, 1) }
        return fixed(ms, 2)
    }

    static func percent(_ fraction: Double) -> String { fixed(fraction * 100, 2) + "%" }

    static func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
        let count = text.count
        guard count < width else { return text }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + text : text + padding
    }

    /// A plain text table: first row is the header; columns after the first are right-aligned,
    /// except those in `leftAligned`.
    static func table(_ rows: [[String]], leftAligned: Set<Int> = [0]) -> String {
        guard let columns = rows.map(\.count).max() else { return "" }
        var widths = Array(repeating: 0, count: columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        var lines: [String] = []
        for (r, row) in rows.enumerated() {
            let cells = row.enumerated().map { i, cell in pad(cell, widths[i], right: !leftAligned.contains(i)) }
            lines.append("  " + cells.joined(separator: "  "))
            if r == 0 { lines.append("  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")) }
        }
        return lines.joined(separator: "\n")
    }
}
