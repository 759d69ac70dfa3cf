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
    static func expand(_ arguments: [String], read: (String) throws -> String = { try String(contentsOfFile: $0, encoding: .utf8) })
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
        do { text = try read(path) } catch { throw Failure(description: "--config \(path): cannot read the file (\(error.localizedDescription))") }
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
