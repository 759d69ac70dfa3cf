import Foundation
import NIOCore

/// JSON lines ↔ `ClusterMessage`. Decoding never throws anything but `ProtocolError`.
public enum WireCodec {
    public static let defaultMaxLineBytes = 4 * 1024 * 1024

    public static func decode(_ line: ByteBuffer) throws(ProtocolError) -> ClusterMessage {
        var line = line
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        let data = Data(line.readableBytesView)
        return try decode(data)
    }

    public static func decode(_ data: Data) throws(ProtocolError) -> ClusterMessage {
        do {
            return try JSONDecoder().decode(ClusterMessage.self, from: data)
        } catch let error as ProtocolError {
            throw error
        } catch let DecodingError.dataCorrupted(context) where context.codingPath.isEmpty {
            throw .notJSON(context.underlyingError.map { "\($0)" } ?? context.debugDescription)
        } catch let DecodingError.keyNotFound(key, context) {
            throw .invalid("missing field '\(path(context.codingPath + [key]))'")
        } catch let DecodingError.typeMismatch(_, context) {
            throw .invalid("wrong type at '\(path(context.codingPath))'")
        } catch let DecodingError.valueNotFound(_, context) {
            throw .invalid("null at '\(path(context.codingPath))'")
        } catch let DecodingError.dataCorrupted(context) {
            throw .invalid("\(context.debugDescription) at '\(path(context.codingPath))'")
        } catch {
            throw .notJSON("\(error)")
        }
    }

    /// One line, `\n` included.
    public static func encode(_ message: ClusterMessage, allocator: ByteBufferAllocator = ByteBufferAllocator()) throws -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var buffer = allocator.buffer(bytes: try encoder.encode(message))
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}
