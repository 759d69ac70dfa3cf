import StampedeTestSupport

/// Starts `stampede mock` on a free port (as the tests run) and returns it with its base URL.
func startMock(_ flags: [String]) async throws -> (ChildProcess, String) {
    let (mock, port) = try await launchMock(flags)
    return (mock, "http://127.0.0.1:\(port)")
}
