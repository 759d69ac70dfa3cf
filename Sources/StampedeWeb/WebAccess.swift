import Foundation
import Synchronization

/// What the access checks need to know of a request: plain values, so the decisions are tested without a server.
public struct RequestFacts: Sendable {
    public var method: String
    public var path: String
    public var authorization: String?
    /// The `stampede_session` cookie's value.
    public var sessionId: String?
    public var origin: String?
    public var secFetchSite: String?
    /// The `Host` header.
    public var host: String?
    public var contentType: String?
    /// The custom header every control call must carry (`X-Stampede-Control`): a cross-site form cannot set it,
    /// and a cross-site script cannot without a CORS preflight, which this server never grants.
    public var controlHeader: String?

    public init(method: String, path: String, authorization: String? = nil, sessionId: String? = nil, origin: String? = nil,
                secFetchSite: String? = nil, host: String? = nil, contentType: String? = nil, controlHeader: String? = nil) {
        self.method = method
        self.path = path
        self.authorization = authorization
        self.sessionId = sessionId
        self.origin = origin
        self.secFetchSite = secFetchSite
        self.host = host
        self.contentType = contentType
        self.controlHeader = controlHeader
    }
}

public enum AccessDecision: Sendable, Equatable {
    case allow
    /// 401: no valid token or session.
    case unauthorized
    /// 403: a cross-site or malformed control request.
    case forbidden(String)
}

/// The dashboard's access rules, pure. Off loopback (or with `--web-require-token`) every path but the
/// login form needs the cluster token as `Authorization: Bearer`, or a session cookie from the login form
/// (which holds a random id, never the token). Control calls are refused cross-site whatever the auth.
public struct WebAccess: Sendable {
    public static let controlHeaderName = "X-Stampede-Control"
    public static let sessionCookie = "stampede_session"
    /// Paths open without the token: the login form itself.
    static let openPaths: Set<String> = ["/login"]

    public let requireToken: Bool
    let token: [UInt8]

    public init(requireToken: Bool, token: String?) {
        self.requireToken = requireToken
        self.token = Array((token ?? "").utf8)
    }

    /// Whether the request may reach its route; `sessionValid` says whether a session id is live.
    public func decide(_ r: RequestFacts, sessionValid: (String) -> Bool) -> AccessDecision {
        if r.method == "POST" {
            if let refusal = Self.crossSiteRefusal(r) { return .forbidden(refusal) }
        }
        if r.path.hasPrefix("/api/") {
            guard r.method == "POST" else { return .forbidden("control calls must be POST") }
            if let refusal = Self.controlRefusal(r) { return .forbidden(refusal) }
        }
        guard requireToken, !Self.openPaths.contains(r.path) else { return .allow }
        if let header = r.authorization, header.hasPrefix("Bearer "), tokenMatches(String(header.dropFirst(7))) { return .allow }
        if let id = r.sessionId, sessionValid(id) { return .allow }
        return .unauthorized
    }

    /// Constant time in the token's length, so the comparison does not tell how much of a guess was right.
    public func tokenMatches(_ candidate: String) -> Bool {
        !token.isEmpty && constantTimeEqual(Array(candidate.utf8), token)
    }

    /// A POST from another site: a `Sec-Fetch-Site` other than same-origin/none, or an `Origin` whose
    /// host:port is not the `Host` this request was sent to.
    static func crossSiteRefusal(_ r: RequestFacts) -> String? {
        if let site = r.secFetchSite?.lowercased(), site != "same-origin", site != "none" {
            return "cross-site request refused (Sec-Fetch-Site: \(site))"
        }
        if let origin = r.origin {
            guard let host = r.host, let parts = URLComponents(string: origin), let originHost = parts.host,
                  parts.scheme == "http" || parts.scheme == "https" else { return "cross-site request refused (Origin)" }
            let authority = parts.port.map { "\(originHost.contains(":") ? "[\(originHost)]" : originHost):\($0)" } ?? originHost
            guard authority.lowercased() == host.lowercased() else { return "cross-site request refused (Origin does not match Host)" }
        }
        return nil
    }

    /// A control call must be a JSON body with the custom header.
    static func controlRefusal(_ r: RequestFacts) -> String? {
        guard r.controlHeader == "1" else { return "control calls need the \(controlHeaderName): 1 header" }
        guard let type = r.contentType?.lowercased(), type.hasPrefix("application/json") else {
            return "control calls need a JSON body (Content-Type: application/json)"
        }
        return nil
    }
}

/// Login sessions: random ids (256 bits), at most `capacity` at once (the oldest is dropped), each for `lifetime`.
/// Sendable: its table sits behind a `Mutex`.
public final class SessionStore: Sendable {
    let capacity: Int
    let lifetime: Duration
    private let sessions = Mutex<[(id: String, expires: ContinuousClock.Instant)]>([])

    public init(capacity: Int = 64, lifetime: Duration = .seconds(12 * 3600)) {
        self.capacity = max(1, capacity)
        self.lifetime = lifetime
    }

    public func create() -> String {
        var generator = SystemRandomNumberGenerator()
        let id = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16).leftPadded(16) }.joined()
        let now = ContinuousClock.now
        sessions.withLock { table in
            table.removeAll { $0.expires <= now }
            if table.count >= capacity { table.removeFirst(table.count - capacity + 1) }
            table.append((id, now + lifetime))
        }
        return id
    }

    public func isValid(_ id: String) -> Bool {
        let now = ContinuousClock.now
        let given = Array(id.utf8)
        // Every live session is compared in full, so the time does not tell how much of a guessed id was right.
        return sessions.withLock { table in
            table.reduce(false) { found, entry in constantTimeEqual(given, Array(entry.id.utf8)) && entry.expires > now || found }
        }
    }

    public var count: Int { sessions.withLock { $0.count } }
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var difference: UInt8 = 0
    for (x, y) in zip(a, b) { difference |= x ^ y }
    return difference == 0
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

/// Reads one cookie's value from a `Cookie` header.
public func cookieValue(_ name: String, in header: String?) -> String? {
    guard let header else { return nil }
    for part in header.split(separator: ";") {
        let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        if pair.count == 2, pair[0] == name { return pair[1] }
    }
    return nil
}
