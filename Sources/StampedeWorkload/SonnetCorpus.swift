import Foundation

/// The text prompts are cut from: lines of verse, each split into words the way `TokenEstimator`
/// counts them. The bundled corpus is Shakespeare's sonnets (`Resources/sonnets.txt`, public domain).
public struct SonnetCorpus: Sendable, Equatable {
    /// Non-empty lines, trimmed.
    public let lines: [String]
    /// The words of each line, parallel to `lines`: runs of non-whitespace Unicode scalars, exactly
    /// as `TokenEstimator.wordCount` counts them, so `words[i].count == TokenEstimator.wordCount(lines[i])`.
    let words: [[String]]

    /// A corpus from explicit lines; blank lines are dropped. Throws when nothing is left.
    public init(lines: [String]) throws(PromptFactoryError) {
        let kept = lines
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
        guard !kept.isEmpty else { throw .emptyCorpus }
        self.lines = kept
        self.words = kept.map { line in
            line.unicodeScalars.split(whereSeparator: { $0.properties.isWhitespace }).map { String($0) }
        }
    }

    /// A corpus from a text with one line of verse per line.
    public init(text: String) throws(PromptFactoryError) {
        try self.init(lines: text.components(separatedBy: .newlines))
    }

    /// The sonnets shipped in the module's resource bundle, read once per process.
    public static func bundled() throws(PromptFactoryError) -> SonnetCorpus {
        try cachedBundled.get()
    }

    private static let cachedBundled: Result<SonnetCorpus, PromptFactoryError> = {
        guard let url = BundledResource.url(forResource: "sonnets", withExtension: "txt") else {
            return .failure(.resourceMissing(BundledResource.missingMessage))
        }
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            return .failure(.resourceMissing("cannot read \(url.path): \(error)"))
        }
        return Result { () throws(PromptFactoryError) in try SonnetCorpus(text: text) }
    }()
}

/// Why a `PromptFactory` could not be made.
public enum PromptFactoryError: Error, CustomStringConvertible, Equatable {
    /// The bundled prompt text could not be found or read (a broken install: the
    /// `stampede_StampedeWorkload.resources` folder must sit next to the executable).
    case resourceMissing(String)
    /// The prompt text has no non-blank line.
    case emptyCorpus

    public var description: String {
        switch self {
        case .resourceMissing(let detail): "prompt corpus missing: \(detail)"
        case .emptyCorpus: "prompt corpus is empty: it needs at least one non-blank line"
        }
    }
}
