import StampedeCore

/// How a `StreamingClient` talks to its target.
public struct ClientConfig: Sendable {
    /// Base URL, e.g. `http://127.0.0.1:8000`; it may have a path prefix. The dialect's path is appended.
    public var baseURL: String
    public var api: APIDialect
    public var model: String
    /// Sent as `Authorization: Bearer …`. Never appears in an error message: it is replaced with `***`.
    public var apiKey: String?
    /// An object merged into every request body (its keys win). For TGI it is merged into `parameters`.
    public var extraBody: JSONValue?
    /// The whole request, streaming included.
    public var requestTimeout: Duration
    /// Connection pool size per host (AsyncHTTPClient's default of 8 would throttle a load test).
    public var maxConnections: Int

    public init(baseURL: String, api: APIDialect, model: String, apiKey: String? = nil, extraBody: JSONValue? = nil,
                requestTimeout: Duration = .seconds(600), maxConnections: Int = 1024) {
        self.baseURL = baseURL
        self.api = api
        self.model = model
        self.apiKey = apiKey
        self.extraBody = extraBody
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }

    /// `baseURL` (without a trailing `/`) followed by the dialect's path.
    public var requestURL: String {
        var base = Substring(baseURL)
        while base.hasSuffix("/") { base = base.dropLast() }
        return base + api.path
    }
}
