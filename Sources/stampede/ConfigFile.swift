import ArgumentParser
import Foundation
import Yams

/// `--config FILE`: a YAML scenario file. Every key is a flag of the command, without its dashes;
/// the file's flags go before the command line's, so a flag given on the command line wins.
struct ConfigOption: ParsableArguments {
    @Option(help: ArgumentHelp("""
        YAML scenario file: each key is a flag of this command without the dashes (users: 10, \
        run-time: 5m, stages: [1u:30s, 5u:60s], slo: [ttft_p90<=2s, error_rate<=1%], \
        extra-body: {temperature: 0}, correctness: true). Flags on the command line win.
        """, valueName: "path"))
    var config: String?
}

/// Turns a scenario file into flags before ArgumentParser sees them, so that a file and the command
/// line go through the same parsing and validation, with the same error messages.
enum ConfigFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `arguments` without the program name. When they hold `--config PATH` (or `--config=PATH`)
    /// after a subcommand, the file's flags are inserted right after the subcommand's name.
    static func expand(_ arguments: [String], read: (String) throws -> String = readFile)
        throws(Failure) -> [String] {
        guard let command = arguments.first, !command.hasPrefix("-") else { return arguments }
        var path: String?
        for (index, argument) in arguments.enumerated().dropFirst() {
            if argument == "--" { break }
            if argument == "--config" {
                guard index + 1 < arguments.count else { return arguments }  // ArgumentParser says the value is missing
                path = arguments[index + 1]
            } else if argument.hasPrefix("--config=") {
                path = String(argument.dropFirst("--config=".count))
            }
        }
        guard let path else { return arguments }
        let text: String
        do { text = try read(path) } catch { throw Failure(description: "--config \(path): cannot read the file (\((error as? Failure)?.description ?? error.localizedDescription))") }
        guard text.utf8.count <= maxFileBytes else {
            throw Failure(description: "--config \(path): larger than \(maxFileBytes >> 20) MiB; a scenario file is a few dozen lines")
        }
        let flags = try self.flags(yaml: text, source: path)
        return [command] + flags + arguments.dropFirst()
    }

    /// The flags a YAML map stands for: `key: value` → `--key=value`; `key: true` → `--key`
    /// (`false` leaves it out); a list → its items joined with commas; a map → JSON.
    static func flags(yaml: String, source: String) throws(Failure) -> [String] {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw Failure(description: "--config \(source): not valid YAML: \(String(describing: error).split(separator: "\n").joined(separator: " "))")
        }
        guard let root else { return [] }  // an empty file
        try checkSize(root, source: source)
        guard let mapping = root.mapping else {
            throw Failure(description: "--config \(source): expected a map of flag names to values at the top level")
        }
        var flags: [String] = []
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string, isFlagName(key) else {
                throw Failure(description: "--config \(source): line \(keyNode.mark?.line ?? 0): '\(keyNode.scalar?.string ?? "?")' is not a flag name (letters, digits and dashes, e.g. spawn-rate)")
            }
            if key == "config" || key == "help" {
                throw Failure(description: "--config \(source): '\(key)' cannot be set in a scenario file")
            }
            let line = value.mark?.line ?? keyNode.mark?.line ?? 0
            switch value {
            case .scalar(let scalar):
                if scalar.style == .plain, ["true", "True", "TRUE"].contains(scalar.string) {
                    flags.append("--\(key)")
                } else if scalar.style == .plain, ["false", "False", "FALSE"].contains(scalar.string) {
                    continue
                } else if scalar.style == .plain, ["", "~", "null", "Null", "NULL"].contains(scalar.string) {
                    throw Failure(description: "--config \(source): line \(line): '\(key)' has no value")
                } else {
                    flags.append("--\(key)=\(scalar.string)")  // one argument: a value may start with "-"
                }
            case .sequence(let sequence):
                var items: [String] = []
                for item in sequence {
                    guard let text = item.scalar?.string else {
                        throw Failure(description: "--config \(source): line \(item.mark?.line ?? line): the items of '\(key)' must be plain values")
                    }
                    items.append(text)
                }
                guard !items.isEmpty else { throw Failure(description: "--config \(source): line \(line): '\(key)' is an empty list") }
                flags.append("--\(key)=\(items.joined(separator: ","))")
            case .mapping:
                flags.append("--\(key)=\(try json(value, key: key, source: source))")
            case .alias:
                throw Failure(description: "--config \(source): line \(line): '\(key)': YAML aliases are not supported")
            }
        }
        return flags
    }

    /// The file as text, at most `maxFileBytes` + 1 bytes of it (enough to tell that it is too large,
    /// without reading all of a huge file or a device that never ends).
    static func readFile(_ path: String) throws -> String {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var data = Data()
        while data.count <= maxFileBytes, let chunk = try handle.read(upToCount: maxFileBytes + 1 - data.count), !chunk.isEmpty {
            data.append(chunk)
        }
        if data.count > maxFileBytes { return String(decoding: data, as: UTF8.self) }  // refused as too large
        guard let text = String(data: data, encoding: .utf8) else { throw Failure(description: "not UTF-8 text") }
        return text
    }

    /// A scenario file is a few dozen values. Yams resolves each alias (`*name`) to a copy of its
    /// anchored node, so a few lines of nested aliases ("billion laughs") stand for billions of nodes,
    /// which writing `extra-body` out as JSON would expand. The tree is walked, aliases expanded, until
    /// one of these is passed; then the file is refused before anything is expanded.
    static let maxNodes = 10_000
    static let maxScalarBytes = 1 << 20
    static let maxFileBytes = 1 << 20

    private static func checkSize(_ root: Node, source: String) throws(Failure) {
        var nodes = 0
        var bytes = 0
        var stack = [root]
        while let node = stack.popLast() {
            nodes += 1
            switch node {
            case .scalar(let scalar): bytes += scalar.string.utf8.count
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .mapping(let mapping):
                for (key, value) in mapping { stack.append(key); stack.append(value) }
            case .alias: break
            }
            if nodes > maxNodes || bytes > maxScalarBytes {
                throw Failure(description: "--config \(source): too large: more than \(maxNodes) YAML values or \(maxScalarBytes >> 20) MiB of text once aliases (*name) are expanded; write the values out")
            }
        }
    }

    private static func isFlagName(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first.properties.isLowercase else { return false }
        return key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }

    /// A YAML map as compact JSON (for --extra-body).
    private static func json(_ node: Node, key: String, source: String) throws(Failure) -> String {
        do {
            let value = try Yams.load(yaml: try Yams.serialize(node: node))
            let data = try JSONSerialization.data(withJSONObject: value as Any, options: [.sortedKeys])
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw Failure(description: "--config \(source): '\(key)' cannot be written as JSON (\(error))")
        }
    }
}
