import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import StampedeCore
import UnixSignals

/// A mock server running in the background (see `MockServer.start`).
public final class RunningMock: Sendable {
    /// The bound port.
    public let port: Int
    /// `http://HOST:PORT`.
    public let baseURL: String
    private let core: MockCore
    private let group: ServiceGroup
    private let server: Task<Void, any Error>

    init(port: Int, host: String, core: MockCore, group: ServiceGroup, server: Task<Void, any Error>) {
        self.port = port
        self.baseURL = "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        self.core = core
        self.group = group
        self.server = server
    }

    /// The counters also served at `GET /stats`.
    public func stats() async -> MockStats {
        await core.stats()
    }

    /// Stops the server and returns once it has stopped: the listener is closed, streams in progress are
    /// cut at their next token (connection closed), idle connections are closed and every handler has
    /// finished. Safe to call more than once.
    ///
    /// This is a graceful shutdown rather than task cancellation: cancelling a NIO server task while an
    /// accepted connection is still buffered traps ("Deinited NIOAsyncWriter without calling finish()").
    public func stop() async {
        await core.beginShutdown()
        await group.triggerGracefulShutdown()
        let server = server
        // Streams see the shutdown at once (the shared scheduler resumes every waiter); cancel as a last resort
        // once the listener is long gone.
        let watchdog = Task {
            try await Task.sleep(for: .seconds(5))
            server.cancel()
        }
        _ = await server.result
        watchdog.cancel()
    }

    /// Fixed-timing streams waiting on the shared scheduler for their next token (tests).
    func pendingDeadlines() async -> Int {
        await core.scheduler.pending
    }

    /// Waits until the server stops on its own (it only does on error); rethrows that error.
    func waitUntilStopped() async throws {
        try await server.value
    }
}

/// The simulated LLM serving engine: OpenAI chat and completions, and TGI, on one port.
///
/// Routes: `POST /v1/chat/completions`, `POST /v1/completions`, `POST /generate_stream` (TGI, streamed),
/// `POST /generate` (TGI, whole reply), `GET /health`, `GET /v1/models`, `GET /stats` (`MockStats` JSON).
public enum MockServer {
    /// Binds (port 0 = ephemeral), starts serving in the background, returns once listening.
    public static func start(config: MockConfig, host: String = "127.0.0.1", port: Int = 0, logger: Logger? = nil) async throws -> RunningMock {
        try config.validate()
        let logger = logger ?? {
            var quiet = Logger(label: "stampede.mock")
            quiet.logLevel = .warning
            return quiet
        }()
        let core = MockCore(config: config)
        let (bound, boundContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: makeRouter(core: core, logger: logger),
            // A capacity run opens thousands of connections at once: keep the accept backlog deep.
            configuration: .init(address: .hostname(host, port: port), backlog: 4096),
            onServerRunning: { channel in
                boundContinuation.yield(channel.localAddress?.port ?? port)
                boundContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let server = Task {
            defer { boundContinuation.finish() }
            try await group.run()
        }
        for await boundPort in bound {
            return RunningMock(port: boundPort, host: host, core: core, group: group, server: server)
        }
        // The server stopped before listening: its error says why (e.g. the port is taken).
        try await server.value
        throw MockConfigError("the mock server stopped before it started listening on \(host):\(port)")
    }

    /// Serves in the foreground until cancelled or SIGINT/SIGTERM (used by `stampede mock`); calls
    /// onListening with the bound port. A signal stops the server at once (streams in progress are cut).
    public static func serve(config: MockConfig, host: String, port: Int, logger: Logger,
                             onListening: @Sendable @escaping (Int) -> Void) async throws {
        let (stopRequests, stopRequested) = AsyncStream.makeStream(of: Void.self)
        let signals = await UnixSignalsSequence(trapping: .sigint, .sigterm)

        let running = try await start(config: config, host: host, port: port, logger: logger)
        onListening(running.port)
        try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await running.waitUntilStopped() }
                group.addTask { for await _ in stopRequests { return } }
                group.addTask { for await _ in signals { return } }
                defer { group.cancelAll() }
                do {
                    try await group.next()
                } catch {
                    await running.stop()
                    throw error
                }
                logger.info("mock: stopping")
                await running.stop()
            }
        } onCancel: {
            stopRequested.yield()
        }
    }

    static func makeRouter(core: MockCore, logger: Logger) -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/v1/chat/completions") { request, _ in
            await core.generate(request, dialect: .chat, logger: logger)
        }
        router.post("/v1/completions") { request, _ in
            await core.generate(request, dialect: .completions, logger: logger)
        }
        router.post("/generate_stream") { request, _ in
            await core.generate(request, dialect: .tgi, streamOverride: true, logger: logger)
        }
        router.post("/generate") { request, _ in
            await core.generate(request, dialect: .tgi, streamOverride: false, logger: logger)
        }
        router.get("/health") { _, _ in
            Response(status: .ok)
        }
        router.get("/v1/models") { _, _ in
            let created = Int(Date().timeIntervalSince1970)
            return MockCore.jsonResponse("{\"object\":\"list\",\"data\":[{\"id\":\(JSON.quote(core.config.model)),"
                + "\"object\":\"model\",\"created\":\(created),\"owned_by\":\"stampede\"}]}")
        }
        router.get("/stats") { _, _ in
            let stats = await core.stats()
            let data = (try? JSONEncoder().encode(stats)) ?? Data("{}".utf8)
            return MockCore.jsonResponse(String(decoding: data, as: UTF8.self))
        }
        return router
    }
}
