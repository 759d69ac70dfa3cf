import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import StampedeCore

/// Turns HTTP statuses, error bodies and transport errors into an `ErrorClass` and a short message,
/// and keeps the API key out of every message.
public enum ErrorClassifier {
    /// Where in the exchange a transport error happened.
    public enum Phase: Sendable {
        /// Before the response head arrived (connecting, sending, waiting).
        case beforeHead
        /// While the body streamed.
        case body
    }

    /// At most this many bytes of an error body are read.
    public static let errorBodyLimit = 4096

    /// The class and message of a non-2xx response: `HTTP 503: <excerpt>`, where the excerpt is the
    /// error message when the body is JSON (`error.message`, `error`, `message` or `detail`), else the
    /// first ~200 characters of the body, or the reason phrase when the body is empty.
    /// The `secrets` are redacted from the body before anything is cut from it.
    public static func httpError(status: Int, body: some Collection<UInt8>, secrets: [String] = []) -> (ErrorClass, String) {
        (ErrorClass.forStatus(status), "HTTP \(status): \(bodyExcerpt(body, status: status, secrets: secrets))")
    }

    /// A one-line description of an error body (see `httpError`), the `secrets` redacted first.
    static func bodyExcerpt(_ body: some Collection<UInt8>, status: Int, secrets: [String] = []) -> String {
        let text = SecretRedaction.redact(String(decoding: body.prefix(errorBodyLimit), as: UTF8.self), secrets: secrets)
        if let object = DialectSupport.parseObject(text) {
            if let message = DialectSupport.errorMessage(in: object) ?? object["message"] as? String
                ?? object["detail"] as? String {
                return DialectSupport.excerpt(message)
            }
            return DialectSupport.compactJSON(object)
        }
        let excerpt = DialectSupport.excerpt(text)
        return excerpt.isEmpty ? HTTPResponseStatus(statusCode: status).reasonPhrase : excerpt
    }

    /// The class and message of an error thrown by AsyncHTTPClient or SwiftNIO.
    ///
    /// Before the head: timeouts are `.timeout`; a connection closed by the server is `.streamError`;
    /// an unparsable response is `.malformed` (but a message cut short by a closed connection, which
    /// NIO reports as `HTTPParserError.invalidEOFState`, is `.streamError`); everything else (refused, unreachable, DNS, TLS,
    /// connect timeout) is `.connect`. In the body: timeouts are `.timeout`, an unparsable response is
    /// `.malformed`, everything else broke the stream (`.streamError`).
    public static func transport(_ error: any Error, phase: Phase) -> (ErrorClass, String) {
        let description = describe(error)
        if let errno = resourceErrno(error) {
            return (.resource, "out of a local resource: \(String(cString: strerror(errno)))")
        }
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return (.timeout, "timed out (\(description))")
            case .connectTimeout, .tlsHandshakeTimeout, .socksHandshakeTimeout, .httpProxyHandshakeTimeout,
                 .getConnectionFromPoolTimeout:
                return (.connect, "connect failed: \(description)")
            case .remoteConnectionClosed:
                return (.streamError, phase == .beforeHead
                    ? "connection closed before the response head" : "connection closed mid-stream")
            default:
                break
            }
        }
        if let parserError = error as? HTTPParserError {
            switch parserError {
            case .invalidEOFState, .closedConnection:
                // The connection closed inside a message: mid-head, or a chunked body without its terminator.
                return (.streamError, phase == .beforeHead
                    ? "connection closed before the response head" : "connection closed mid-stream")
            default:
                return (.malformed, "unparsable HTTP response: \(description)")
            }
        }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout:
                return (.connect, "connect failed: \(description)")
            case .eof, .ioOnClosedChannel, .alreadyClosed, .inputClosed, .outputClosed:
                return (.streamError, phase == .beforeHead
                    ? "connection closed before the response head (\(description))"
                    : "connection closed mid-stream (\(description))")
            default:
                break
            }
        }
        switch phase {
        case .beforeHead:
            return (.connect, "connect failed: \(description)")
        case .body:
            return (.streamError, "stream broke: \(description)")
        }
    }

    /// `message` with the API key replaced by `***`: whole, cut, or JSON/URL-escaped, down to any
    /// run of 8 of its characters (see `SecretRedaction`).
    public static func redact(_ message: String, apiKey: String?) -> String {
        SecretRedaction.redact(message, secret: apiKey)
    }

    /// The errno of a local resource exhaustion behind `error` (this process or host ran out of file
    /// descriptors or ports), found in NIO's I/O errors and in each failed attempt of a connection.
    static func resourceErrno(_ error: any Error) -> Int32? {
        let resourceErrnos: Set<Int32> = [EMFILE, ENFILE, EADDRNOTAVAIL, ENOBUFS]
        if let ioError = error as? IOError, resourceErrnos.contains(ioError.errnoCode) { return ioError.errnoCode }
        if let connection = error as? NIOConnectionError {
            for failure in connection.connectionErrors {
                if let errno = resourceErrno(failure.error) { return errno }
            }
            if let dns = connection.dnsAError.flatMap(resourceErrno) { return dns }
            if let dns = connection.dnsAAAAError.flatMap(resourceErrno) { return dns }
        }
        return nil
    }

    static func describe(_ error: any Error) -> String {
        if let ioError = error as? IOError {
            // NIO's own description is "connection reset (error set): Connection refused (errno: 111)".
            return String(cString: strerror(ioError.errnoCode))
        }
        return DialectSupport.excerpt(String(describing: error))
    }
}
