import Foundation

/// `--web [HOST:]PORT` and its companions, checked before anything starts.
public struct WebSettings: Sendable {
    public var host: String
    public var port: Int
    /// How long the server stays up after the run for downloads (nil: until Ctrl-C).
    public var linger: Duration?
    /// Whether the page and API need the cluster token. Always on off loopback; `--web-require-token`
    /// forces it on loopback (for tests of the token path).
    public var requireToken: Bool
    /// The cluster token (never shown, logged or put in a URL).
    public var token: String?
    /// Wait for a start from the page before the run (`coordinator --web` without a preset load).
    public var waitForStart: Bool
    /// The most dashboard event streams open at once; more get 503.
    public var maxStreams = 32
    /// The most login sessions kept; the oldest goes first.
    public var maxSessions = 64

    public init(host: String, port: Int, linger: Duration? = nil, requireToken: Bool = false, token: String? = nil,
                waitForStart: Bool = false) {
        self.host = host
        self.port = port
        self.linger = linger
        self.requireToken = requireToken
        self.token = token
        self.waitForStart = waitForStart
    }

    /// Checks the settings: off loopback the token is required and must be given.
    public func validated() throws(WebSettingsError) -> WebSettings {
        var settings = self
        guard (0...65535).contains(port) else { throw WebSettingsError("--web: port must be 0 to 65535 (got \(port))") }
        if !WebAddress.isLoopback(host) { settings.requireToken = true }
        if settings.requireToken, (token ?? "").isEmpty {
            throw WebSettingsError(WebAddress.isLoopback(host)
                ? "--web-require-token: no cluster token was given (set --token-env or --token-file)"
                : "--web \(host): a dashboard off loopback needs the cluster token (set --token-env or --token-file), or bind 127.0.0.1")
        }
        return settings
    }
}

public struct WebSettingsError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Parsing `--web` and telling loopback from the rest.
public enum WebAddress {
    /// The host when only a port is given.
    public static let defaultHost = "127.0.0.1"

    /// `PORT`, `HOST:PORT` or `[V6]:PORT`; nil when it is none of them or the port is out of range.
    public static func parse(_ text: String) -> (host: String, port: Int)? {
        if let port = Int(text) { return (0...65535).contains(port) ? (defaultHost, port) : nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else { return nil }
        return (host, port)
    }

    /// Loopback: 127.0.0.0/8, ::1 and "localhost". Anything else (0.0.0.0, ::, a name, another address) is not.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isNumber) }),
              let first = Int(parts[0]), parts.compactMap({ Int($0) }).allSatisfy({ $0 <= 255 }) else { return false }
        return first == 127
    }

    /// The address as a URL authority (`[v6]:port`).
    public static func authority(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
