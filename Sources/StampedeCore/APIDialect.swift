/// The HTTP API a target speaks.
public enum APIDialect: String, Sendable, Codable, CaseIterable {
    /// OpenAI-compatible `POST /v1/chat/completions` with `stream: true`.
    case chat
    /// OpenAI-compatible `POST /v1/completions` with `stream: true`.
    case completions
    /// Hugging Face TGI `POST /generate_stream` with `parameters.details = true`.
    case tgi

    /// The request path appended to the target's base URL.
    public var path: String {
        switch self {
        case .chat: "/v1/chat/completions"
        case .completions: "/v1/completions"
        case .tgi: "/generate_stream"
        }
    }
}
