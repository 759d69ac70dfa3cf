import Foundation

/// The frame of an HTML report: one self-contained file (inline CSS and SVG, no script, no external
/// reference), readable on a phone and on paper. Pieces of text are escaped by the helpers here.
enum HTMLPage {
    static func document(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="stampede">
        <title>\(Markup.escape(title))</title>
        <style>
        \(css)
        </style>
        </head>
        <body>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }

    static let css = """
    :root{color-scheme:light}
    *{box-sizing:border-box}
    body{margin:0;background:#f9fafb;color:#111827;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
    main{max-width:1280px;margin:0 auto;padding:16px}
    h1{font-size:1.5rem;margin:.2rem 0 .4rem;overflow-wrap:anywhere}
    h2{font-size:1.15rem;margin:1.6rem 0 .6rem;border-bottom:1px solid #e5e7eb;padding-bottom:.2rem}
    h3{font-size:1rem;margin:1rem 0 .4rem}
    p.meta{color:#4b5563;margin:.2rem 0;overflow-wrap:anywhere}
    .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:12px 0}
    .card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:8px 12px}
    .card b{display:block;font-size:1.3rem}
    .card span{color:#4b5563;font-size:.85rem}
    .charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:14px}
    figure{margin:0;background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:6px}
    figcaption{color:#4b5563;font-size:.85rem;padding:2px 6px 4px}
    .scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
    table{border-collapse:collapse;background:#fff;font-size:.9rem;margin:.3rem 0 .8rem}
    th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:right;white-space:nowrap}
    th{background:#f3f4f6}
    td.l,th.l{text-align:left}
    td.f{text-align:left;color:#4b5563;white-space:normal;min-width:14em}
    td.msg{text-align:left;white-space:normal;overflow-wrap:anywhere;max-width:40em}
    .ok{color:#15803d;font-weight:600}
    .bad{color:#b91c1c;font-weight:600}
    pre{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px;overflow-x:auto;font-size:.8rem;white-space:pre}
    footer{color:#6b7280;font-size:.8rem;margin-top:2rem}
    @media (max-width:600px){main{padding:8px}body{font-size:14px}th,td{padding:3px 5px}}
    @media print{
      body{background:#fff;font-size:10.5pt}
      main{max-width:none;padding:0}
      .charts{display:block}
      figure{break-inside:avoid;page-break-inside:avoid;border:none;margin:0 0 8pt}
      table,pre{break-inside:avoid}
      h2{break-after:avoid;page-break-after:avoid}
      pre{white-space:pre-wrap}
      .scroll{overflow:visible}
    }
    """

    /// A table: the first row is the header. Cells are escaped; `left` columns are left-aligned,
    /// `notes` columns wrap (formulas, messages).
    static func table(_ rows: [[String]], left: Set<Int> = [0], notes: Set<Int> = [], messages: Set<Int> = []) -> String {
        guard let header = rows.first else { return "" }
        func cls(_ i: Int) -> String {
            if messages.contains(i) { return " class=\"msg\"" }
            if notes.contains(i) { return " class=\"f\"" }
            return left.contains(i) ? " class=\"l\"" : ""
        }
        var out = "<div class=\"scroll\"><table><thead><tr>"
        for (i, cell) in header.enumerated() { out += "<th\(left.contains(i) || notes.contains(i) || messages.contains(i) ? " class=\"l\"" : "")>\(Markup.escape(cell))</th>" }
        out += "</tr></thead><tbody>"
        for row in rows.dropFirst() {
            out += "<tr>" + row.enumerated().map { i, cell in "<td\(cls(i))>\(Markup.escape(cell))</td>" }.joined() + "</tr>"
        }
        return out + "</tbody></table></div>"
    }

    static func cards(_ items: [(value: String, label: String)]) -> String {
        "<div class=\"cards\">" + items.map { "<div class=\"card\"><b>\(Markup.escape($0.value))</b><span>\(Markup.escape($0.label))</span></div>" }
            .joined() + "</div>"
    }

    static func figure(_ chart: LineChart, id: String, caption: String? = nil) -> String {
        "<figure>" + chart.svg(id: id) + (caption.map { "<figcaption>\(Markup.escape($0))</figcaption>" } ?? "") + "</figure>"
    }

    static func pre(_ text: String) -> String { "<pre>\(Markup.escape(text))</pre>" }

    static func heading(_ level: Int, _ text: String) -> String { "<h\(level)>\(Markup.escape(text))</h\(level)>" }
}
