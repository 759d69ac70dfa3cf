import StampedeCore

/// Sends one planned request and returns its record: what a worker calls for each request. The CLI
/// adapts `StreamingClient` to it (the engine does not link the HTTP client); tests fake it.
///
/// Times are nanoseconds since `epoch` (the local instant of run-clock zero); `scheduledNs` is copied
/// into the record. It never throws: failures are in the record. A record returned after the calling
/// task was cancelled is discarded.
public protocol RequestExecutor: Sendable {
    func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord
}
