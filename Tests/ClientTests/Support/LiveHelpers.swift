import StampedeClient
import StampedeCore
import StampedeMock
import StampedeTestSupport

/// Runs `body` with a client and always shuts it down (AsyncHTTPClient requires it).
func withClient<T: Sendable>(_ config: ClientConfig, _ body: (StreamingClient) async throws -> T) async throws -> T {
    let client = StreamingClient(config: config)
    do {
        let result = try await body(client)
        try await client.shutdown()
        return result
    } catch {
        try? await client.shutdown()
        throw error
    }
}

/// Runs `body` with a scripted server and always stops it.
func withScriptedServer<T: Sendable>(_ server: ScriptedServer, _ body: (ScriptedServer) async throws -> T) async throws -> T {
    defer { server.stop() }
    return try await body(server)
}

let livePrompt = "Write a short poem about load testing streaming endpoints"

func plannedRequest(maxTokens: Int = 20, estimate: Int = 999, expectedNumber: Int? = nil) -> PlannedRequest {
    PlannedRequest(prompt: livePrompt, maxTokens: maxTokens, inputTokensEstimate: estimate, expectedNumber: expectedNumber)
}

/// Sends one request now; returns the record and how long `execute` took, in nanoseconds.
func send(_ client: StreamingClient, _ request: PlannedRequest = plannedRequest()) async -> (record: RequestRecord, elapsedNs: Int64) {
    let epoch = ContinuousClock.now
    let record = await client.execute(request, scheduledNs: 0, epoch: epoch)
    return (record, (ContinuousClock.now - epoch).nanoseconds)
}

extension Int64 {
    static func ms(_ value: Int64) -> Int64 { value * 1_000_000 }
}
