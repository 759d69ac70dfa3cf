import Foundation
import StampedeMock

/// Runs `body` with a started in-process mock and always stops it.
public func withMock<T>(_ config: MockConfig, _ body: (RunningMock) async throws -> T) async throws -> T {
    let mock = try await MockServer.start(config: config)
    do {
        let result = try await body(mock)
        await mock.stop()
        return result
    } catch {
        await mock.stop()
        throw error
    }
}

/// `GET /stats` of a mock, in process or a subprocess, over a raw HTTP/1.1 connection.
public func fetchMockStats(port: Int, timeout: Duration = .seconds(5)) async throws -> MockStats {
    let response = try await RawHTTP.get(port, "/stats", timeout: Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
    guard response.status == 200, response.complete else {
        throw RawHTTPError(description: "GET /stats: \(response.status), \(response.bodyText.prefix(200))")
    }
    return try JSONDecoder().decode(MockStats.self, from: Data(response.body))
}
