/// The readings of an output in which a leaked secret must not show: `text`, and the same with
/// JSON escapes undone, twice (JSON inside JSON).
public func secretReadings(of text: String) -> [String] {
    var forms = [text]
    for _ in 0..<2 {
        forms.append(forms.last!.replacingOccurrences(of: #"\/"#, with: "/").replacingOccurrences(of: #"\u002b"#, with: "+")
            .replacingOccurrences(of: #"\u002B"#, with: "+").replacingOccurrences(of: #"\\"#, with: #"\"#))
    }
    return forms
}
