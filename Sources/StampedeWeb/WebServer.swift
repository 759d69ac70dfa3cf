import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StampedeReport

/// The `--web` server: the dashboard (`/`, `/events`, `/state`), `/metrics`, the control API (`/api/…`),
/// the login form and the downloads. Thin routes around `WebBoard`, `WebAccess` and `RunControl`.
public final class WebServer: Sendable {
    /// The bound address, as a URL (`http://127.0.0.1:8089`).
    public let url: String
    public let board: WebBoard
    private let group: ServiceGroup
    private let server: Task<Void, any Error>

    init(url: String, board: WebBoard, group: ServiceGroup, server: Task<Void, any Error>) {
        self.url = url
        self.board = board
        self.group = group
        self.server = server
    }

    /// Binds (port 0: a free one) and serves in the background; returns once listening.
    public static func start(settings: WebSettings, board: WebBoard, control: RunControl, logger: Logger) async throws -> WebServer {
        let settings = try settings.validated()
        let routes = WebRoutes(board: board, control: control, access: WebAccess(requireToken: settings.requireToken, token: settings.token),
                               sessions: SessionStore(capacity: settings.maxSessions))
        let (bound, boundContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: routes.router(),
            configuration: .init(address: .hostname(settings.host, port: settings.port)),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? settings.port)
                boundContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let server = Task {
            defer { boundContinuation.finish() }
            try await group.run()
        }
        for await port in bound {
            return WebServer(url: "http://" + WebAddress.authority(host: settings.host, port: port), board: board, group: group, server: server)
        }
        try await server.value
        throw WebSettingsError("--web: the dashboard stopped before it listened on \(settings.host):\(settings.port)")
    }

    /// Ends the event streams and stops the server.
    public func stop() async {
        board.close()
        await group.triggerGracefulShutdown()
        let server = server
        let watchdog = Task {
            try await Task.sleep(for: .seconds(3))
            server.cancel()
        }
        _ = await server.result
        watchdog.cancel()
    }
}

/// The routes. Every response carries headers that keep the page out of frames and caches.
struct WebRoutes: Sendable {
    let board: WebBoard
    let control: RunControl
    let access: WebAccess
    let sessions: SessionStore
    /// The largest request body read (control calls and the login form are a few bytes).
    static let maxBody = 16 * 1024

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: AccessMiddleware(access: access, sessions: sessions))
        router.get("/") { _, _ in Self.html(DashboardPage.html, status: .ok) }
        router.get("/login") { _, _ in Self.html(DashboardPage.login(error: nil), status: .ok) }
        router.post("/login") { request, _ in try await login(request) }
        router.get("/state") { _, _ in Self.body(board.frame, type: "application/json") }
        router.get("/metrics") { _, _ in Self.body(board.metrics.text(), type: "text/plain; version=0.0.4; charset=utf-8") }
        router.get("/events") { _, _ in events() }
        router.post("/api/start") { request, _ in
            try await call(request) { body in
                if let rate = (body["rate"] as? NSNumber)?.doubleValue, body["users"] == nil {
                    return try await control.start(rate: rate)
                }
                guard let users = body["users"] as? Int, let rate = (body["spawn_rate"] as? NSNumber)?.doubleValue else {
                    throw RunControl.Refusal(description: "send {\"users\": N, \"spawn_rate\": R} or {\"rate\": R}", status: 400)
                }
                return try await control.start(users: users, spawnRate: rate)
            }
        }
        router.post("/api/users") { request, _ in
            try await call(request) { body in
                guard let users = body["users"] as? Int else { throw RunControl.Refusal(description: "send {\"users\": N}", status: 400) }
                return try await control.changeUsers(users)
            }
        }
        router.post("/api/rate") { request, _ in
            try await call(request) { body in
                guard let rate = (body["rate"] as? NSNumber)?.doubleValue else {
                    throw RunControl.Refusal(description: "send {\"rate\": R}", status: 400)
                }
                return try await control.changeRate(rate)
            }
        }
        router.post("/api/stop") { request, _ in try await call(request) { _ in await control.stop() } }
        router.get("/download/:file") { _, context in try download(context.parameters.get("file") ?? "") }
        return router
    }

    /// Server-sent events: one `frame` event per change, newest only, at most `board.maxStreams` at once.
    func events() -> Response {
        guard let frames = board.subscribe() else {
            return Self.body("{\"error\":\"too many dashboard connections (at most \(board.maxStreams))\"}", type: "application/json",
                             status: .serviceUnavailable)
        }
        var headers = Self.common("text/event-stream")
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            for await frame in frames {
                try await writer.write(ByteBuffer(string: "event: frame\ndata: \(frame)\n\n"))
            }
            try await writer.finish(nil)
        })
    }

    /// A control call: the body is a JSON object; the answer `{"message": …}` or `{"error": …}`.
    func call(_ request: Request, _ action: @Sendable ([String: Any]) async throws -> String) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: Self.maxBody)
        let data = Data(buffer: bytes)
        let object = data.isEmpty ? [:] : (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        guard let object else { return Self.answer(error: "the body must be a JSON object", status: .badRequest) }
        do {
            return Self.answer(message: try await action(object))
        } catch let refusal as RunControl.Refusal {
            return Self.answer(error: refusal.description, status: HTTPResponse.Status(code: refusal.status))
        }
    }

    func login(_ request: Request) async throws -> Response {
        var request = request
        let bytes = try await request.collectBody(upTo: Self.maxBody)
        let form = URLComponents(string: "?" + String(buffer: bytes))?.queryItems ?? []
        let given = form.first { $0.name == "token" }?.value?.replacingOccurrences(of: "+", with: " ") ?? ""
        guard access.tokenMatches(given) else { return Self.html(DashboardPage.login(error: "That is not the cluster token."), status: .unauthorized) }
        var headers = Self.common("text/plain")
        headers[.setCookie] = "\(WebAccess.sessionCookie)=\(sessions.create()); Path=/; HttpOnly; SameSite=Strict"
        headers[.location] = "/"
        return Response(status: .seeOther, headers: headers)
    }

    func download(_ file: String) throws -> Response {
        guard let result = board.final else {
            return Self.body("the run has not finished: its files are ready when it has", type: "text/plain", status: .conflict)
        }
        let (text, type): (String, String)
        switch file {
        case "results.json": (text, type) = (String(decoding: try JSONReport.encode(result), as: UTF8.self), "application/json")
        case "report.html": (text, type) = (HTMLReport.render(result), "text/html; charset=utf-8")
        default:
            let csv = LocustCSV.files(result).first { $0.suffix == "_" + file }
            guard let csv else { return Self.body("no such file: choose results.json, report.html or stats.csv", type: "text/plain", status: .notFound) }
            (text, type) = (csv.text, "text/csv; charset=utf-8")
        }
        var headers = Self.common(type)
        headers[.contentDisposition] = "attachment; filename=\"stampede-\(file)\""
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func common(_ type: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        headers[.init("X-Frame-Options")!] = "DENY"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
            + "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return headers
    }

    static func body(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: common(type), body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func html(_ text: String, status: HTTPResponse.Status) -> Response { body(text, type: "text/html; charset=utf-8", status: status) }

    static func answer(message: String) -> Response { body(json(["message": message]), type: "application/json") }

    static func answer(error: String, status: HTTPResponse.Status) -> Response { body(json(["error": error]), type: "application/json", status: status) }

    static func json(_ object: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }
}

/// Applies `WebAccess` to every request before its route: 401 (the login page for `/`), 403 for cross-site calls.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let access: WebAccess
    let sessions: SessionStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let h = request.headers
        let facts = RequestFacts(method: request.method.rawValue, path: request.uri.path, authorization: h[.authorization],
                                 sessionId: cookieValue(WebAccess.sessionCookie, in: h[.cookie]), origin: h[.origin],
                                 secFetchSite: h[.init("Sec-Fetch-Site")!], host: request.head.authority,
                                 contentType: h[.contentType], controlHeader: h[.init(WebAccess.controlHeaderName)!])
        switch access.decide(facts, sessionValid: sessions.isValid) {
        case .allow:
            return try await next(request, context)
        case .unauthorized:
            if request.method == .get, facts.path == "/" { return WebRoutes.html(DashboardPage.login(error: nil), status: .unauthorized) }
            var headers = WebRoutes.common("application/json")
            headers[.wwwAuthenticate] = "Bearer realm=\"stampede\""
            return Response(status: .unauthorized, headers: headers,
                            body: ResponseBody(byteBuffer: ByteBuffer(string: WebRoutes.json(["error": "the cluster token is required"]))))
        case .forbidden(let why):
            return WebRoutes.answer(error: why, status: .forbidden)
        }
    }
}
