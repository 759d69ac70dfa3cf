import Foundation
import NIOCore

/// JSON lines ↔ `ClusterMessage`. Decoding never throws anything but `ProtocolError`.
public enum WireCodec {
    public static let defaultMaxLineBytes = 4 * 1024 * 1024

    /// The bytes a peer may send before it has authenticated (hello and auth are a few hundred).
    public static let preAuthMaxBytes = 16 * 1024

    /// Decodes one line. With `allowing`, a message of another type is refused after reading only
    /// its envelope (`type` and `v`): before authentication no content is looked at.
    public static func decode(_ line: ByteBuffer, allowing: Set<String>? = nil) throws(ProtocolError) -> ClusterMessage {
        var line = line
        if line.readableBytes > 0, line.getInteger(at: line.writerIndex - 1, as: UInt8.self) == UInt8(ascii: "\r") {
            line.moveWriterIndex(to: line.writerIndex - 1)
        }
        let data = Data(line.readableBytesView)
        return try decode(data, allowing: allowing)
    }

    public static func decode(_ data: Data, allowing: Set<String>? = nil) throws(ProtocolError) -> ClusterMessage {
        do {
            if let allowing {
                let envelope = try JSONDecoder().decode(ClusterMessage.Envelope.self, from: data)
                guard envelope.v == ClusterMessage.protocolVersion else { throw ProtocolError.version(envelope.v) }
                guard allowing.contains(envelope.type) else {
                    throw ProtocolError.unexpected("'\(WireLimits.printable(envelope.type, max: 64))' before authentication")
                }
            }
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
