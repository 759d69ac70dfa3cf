import Foundation
import Logging
import StampedeClient
import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeTestSupport

/// A `CoordinatorServer` on 127.0.0.1 (port 0) with its `RunCoordinator`, logging into a capture.
struct LiveCoordinator {
    let server: CoordinatorServer
    let coordinator: RunCoordinator
    let log: LogCapture

    var port: Int { server.port }

    static func start(token: String? = nil, maxWorkers: Int = 256, handshakeTimeout: Duration = .seconds(10),
                      scenario: Scenario = Scenario(target: "http://127.0.0.1:9", users: 1, runTimeSeconds: 5),
                      onRecords: @escaping @Sendable ([RequestRecord]) -> Void = { _ in }) async throws -> LiveCoordinator {
        let log = LogCapture()
        let coordinator = RunCoordinator(scenario: scenario, logger: log.logger("test.coordinator"), onEvent: RunEvent.records(to: onRecords))
        var config = ClusterServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.token = token
        config.maxWorkers = maxWorkers
        config.handshakeTimeout = handshakeTimeout
        let server = try await CoordinatorServer.start(config: config, roster: coordinator, logger: log.logger("test.server"))
        return LiveCoordinator(server: server, coordinator: coordinator, log: log)
    }

    /// Waits until `count` workers are connected; false on timeout.
    func waitForWorkers(_ count: Int, timeout: Duration = .seconds(10)) async -> Bool {
        let coordinator = coordinator
        return await waitUntil(timeout: timeout) { await coordinator.workerCount == count }
    }
}

enum TestWorkers {
    /// A worker agent for `port` that gives up quickly when the coordinator is unreachable.
    static func agent(port: Int, id: String, token: String? = nil, log: LogCapture = LogCapture(),
                      makeExecutor: @escaping ExecutorFactory = instantExecutor) -> WorkerAgent {
        var config = WorkerAgentConfig(host: "127.0.0.1", port: port, workerId: id, token: token)
        config.maxConnectAttempts = 3
        config.backoffInitial = .milliseconds(100)
        config.backoffMax = .milliseconds(500)
        return WorkerAgent(config: config, logger: log.logger("test.worker.\(id)"), makeExecutor: makeExecutor)
    }

    static let instantExecutor: ExecutorFactory = { _ in (FakeExecutor(delay: .zero), {}) }

    /// Real HTTP streaming against the scenario's target, as `stampede worker` does it.
    static let streamingExecutor: ExecutorFactory = { scenario in
        let client = StreamingClient(config: ClientConfig(
            baseURL: scenario.target, api: scenario.api, model: scenario.model, extraBody: scenario.extraBody,
            requestTimeout: .seconds(scenario.requestTimeoutSeconds), maxConnections: max(scenario.users, 8)))
        return (client, { try? await client.shutdown() })
    }
}
