import Foundation
import StampedeClient
import StampedeCore
import StampedeEngine

/// The engine's `RequestExecutor`, wired to the HTTP client: each planned request is sent by a
/// `StreamingClient`. The engine knows only the protocol; this adapter is the one place that joins them.
struct ClientExecutor: RequestExecutor {
    let client: StreamingClient

    /// A client for `scenario`'s target and dialect, with the API key read from `scenario.apiKeyEnv`;
    /// `maxConnections` defaults to the scenario's peak concurrency (at least 8).
    init(scenario: Scenario, maxConnections: Int? = nil) {
        client = StreamingClient(config: ClientConfig(
            baseURL: scenario.target, api: scenario.api, model: scenario.model,
            apiKey: ProcessInfo.processInfo.environment[scenario.apiKeyEnv], extraBody: scenario.extraBody,
            requestTimeout: .seconds(scenario.requestTimeoutSeconds),
            maxConnections: maxConnections ?? max(scenario.peakConcurrency, 8)))
    }

    func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord {
        await client.execute(request, scheduledNs: scheduledNs, epoch: epoch)
    }

    func shutdown() async {
        try? await client.shutdown()
    }
}
