import ArgumentParser
import Foundation
import Logging
import StampedeEngine
import StampedeReport
import StampedeWeb

/// `--web [HOST:]PORT`: the live dashboard, its control API and /metrics. Shared by `run` and `coordinator`.
struct WebOptions: ParsableArguments {
    @Option(help: ArgumentHelp("""
        Serve the live dashboard, its control API and Prometheus /metrics here. A bare port binds \
        127.0.0.1; port 0 picks a free one (printed as `dashboard at http://…`). Off loopback the \
        page and API need the cluster token (bearer header or the login form).
        """, valueName: "[host:]port"))
    var web: String?

    @Option(help: ArgumentHelp("""
        With --web: keep the dashboard up this long after the run for downloads and a last scrape \
        (e.g. 30s; 0 exits at once). Default: until Ctrl-C.
        """, valueName: "duration"))
    var webLinger: String?

    @Flag(help: .hidden)
    var webRequireToken = false

    mutating func validate() throws {
        if let web, WebAddress.parse(web) == nil {
            throw ValidationError("--web: '\(web)' is not PORT or HOST:PORT with a port from 0 to 65535")
        }
        if let webLinger { _ = try parseSeconds(webLinger, flag: "--web-linger") }
        if web == nil, webLinger != nil || webRequireToken { throw ValidationError("--web-linger and --web-require-token need --web") }
    }

    /// The settings, checked (off loopback without a token is refused here); nil without --web.
    func settings(token: String?, waitForStart: Bool) throws -> WebSettings? {
        guard let web, let (host, port) = WebAddress.parse(web) else { return nil }
        let linger = try webLinger.map { try parseSeconds($0, flag: "--web-linger") }
        let settings = WebSettings(host: host, port: port, linger: linger, requireToken: webRequireToken, token: token,
                                   waitForStart: waitForStart)
        do { return try settings.validated() } catch { throw CLIError(error.description) }
    }
}

/// The dashboard of one run, from the CLI's side: its board (an extra output), its server and its control.
struct WebSession {
    let settings: WebSettings
    let board: WebBoard
    var server: WebServer?
    var control: RunControl?
    /// Ctrl-C: ends the linger (and a wait for a start).
    let interrupts: AsyncStream<Void>
    let interrupt: AsyncStream<Void>.Continuation

    init(settings: WebSettings) {
        self.settings = settings
        board = WebBoard(waiting: settings.waitForStart, maxStreams: settings.maxStreams)
        (interrupts, interrupt) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var output: any RunOutput { WebOutput(board: board) }

    /// Starts serving for `coordinator` and prints `dashboard at URL` on stderr.
    mutating func start(coordinator: RunCoordinator, logger: Logger) async throws {
        let control = RunControl(coordinator: coordinator, board: board, waitForStart: settings.waitForStart)
        self.control = control
        do { server = try await WebServer.start(settings: settings, board: board, control: control, logger: logger) } catch {
            throw CLIError("cannot start the dashboard on \(settings.host):\(settings.port): \(error)")
        }
        FileHandle.standardError.write(Data("dashboard at \(server?.url ?? "")/\n".utf8))
        if settings.waitForStart {
            FileHandle.standardError.write(Data("waiting for a start from the dashboard (users and spawn rate)\n".utf8))
        }
    }

    /// Called from the signal trap.
    func interrupted() {
        control?.abortWait()
        interrupt.yield()
    }

    /// After the run: keeps serving for `--web-linger` (or until Ctrl-C), then stops. Not after a Ctrl-C during the run.
    func lingerAndStop(interruptedDuringRun: Bool) async {
        if !interruptedDuringRun, settings.linger != .zero {
            let how = settings.linger.map { "for \($0.components.seconds) s" } ?? "until Ctrl-C"
            FileHandle.standardError.write(Data("dashboard still at \(server?.url ?? "")/ \(how), for downloads\n".utf8))
            let interrupts = interrupts
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in interrupts { return } }
                if let linger = settings.linger { group.addTask { try? await Task.sleep(for: linger) } }
                await group.next()
                group.cancelAll()
            }
        }
        await server?.stop()
    }
}
