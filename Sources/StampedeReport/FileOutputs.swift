import Foundation
import StampedeCore
import StampedeEngine

public struct ReportWriteError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "cannot write \(path): \(reason)" }
}

/// `--json PATH`: the native results, summary plus time series.
public enum JSONReport {
    public static func encode(_ result: RunResult) throws -> Data {
        try encoder().encode(result)
    }

    /// Pretty, sorted, snake_case: every JSON file Stampede writes (runs and sweeps) looks alike.
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }

    public static func write(_ result: RunResult, to path: String) throws {
        try FileOutput.write(try encode(result), to: path)
    }
}

/// `--requests-jsonl PATH`: one JSON object per finished request, appended as records arrive.
public final class RecordsJSONLWriter: Sendable {
    let handle: FileHandle
    let path: String
    let encoder: JSONEncoder

    public init(path: String) throws {
        self.path = path
        try FileOutput.prepareDirectory(for: path)
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw ReportWriteError(path: path, reason: "could not create the file")
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        self.encoder = encoder
    }

    public func append(_ records: [RequestRecord]) {
        var data = Data()
        for record in records {
            guard let line = try? encoder.encode(record) else { continue }
            data.append(line)
            data.append(0x0A)
        }
        handle.write(data)
    }

    public func close() throws { try handle.close() }
}

enum FileOutput {
    static func prepareDirectory(for path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw ReportWriteError(path: path, reason: error.localizedDescription)
        }
    }

    static func write(_ data: Data, to path: String) throws {
        try prepareDirectory(for: path)
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw ReportWriteError(path: path, reason: error.localizedDescription)
        }
    }
}
