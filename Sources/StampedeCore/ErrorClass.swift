/// Why a request failed. Every failed request carries exactly one class.
public enum ErrorClass: String, Sendable, Codable, CaseIterable, Comparable {
    /// The TCP/TLS connection could not be made (refused, unreachable, DNS).
    case connect
    /// The request ran past `--request-timeout`.
    case timeout
    /// A 4xx response other than 429.
    case http4xx = "http_4xx"
    /// A 5xx response.
    case http5xx = "http_5xx"
    /// A 429 Too Many Requests response: the target throttled us.
    case throttled
    /// The stream broke: an `{"error": ...}` event, or the connection closed before the stream ended.
    case streamError = "stream_error"
    /// The response could not be understood: bad JSON in an event, or a body that is not a stream.
    case malformed
    /// The response broke a size limit: an SSE line or event longer than the client accepts, or more
    /// token chunks than any request may have. The rest of the response is not read.
    case responseTooLarge = "response_too_large"
    /// The load generator ran out of a local resource (file descriptors or ephemeral ports: EMFILE,
    /// ENFILE, EADDRNOTAVAIL, ENOBUFS). Not the server's doing: the user backs off and retries.
    case resource
    /// The answer had fewer output tokens than `--min-output-ratio` × `max_tokens` (see `OutputLengthCheck`).
    case shortOutput = "short_output"

    public static func < (lhs: ErrorClass, rhs: ErrorClass) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether the class is a refusing HTTP status (4xx, 5xx, 429): the status says more than the class.
    public var isHTTPStatus: Bool { self == .http4xx || self == .http5xx || self == .throttled }

    /// The class of a non-2xx HTTP status.
    public static func forStatus(_ status: Int) -> ErrorClass {
        if status == 429 { return .throttled }
        if status >= 500 { return .http5xx }
        return .http4xx
    }
}

/// Where a request's token counts came from.
public enum TokenCountSource: String, Sendable, Codable, CaseIterable {
    /// The server's `usage` object (OpenAI dialects with `stream_options.include_usage`).
    case usage
    /// TGI's `details.generated_tokens` (output only; input stays an estimate).
    case tgiDetails = "tgi_details"
    /// Counted from token-bearing chunks (output) and the prompt estimate (input).
    case chunks
}
