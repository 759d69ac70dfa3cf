import NIOCore

/// Queues outbound messages for one connection; a single task drains it into the channel, so
/// writers never interleave and never block the load or the heartbeats.
struct Outbox: Sendable {
    let stream: AsyncStream<ClusterMessage>
    let continuation: AsyncStream<ClusterMessage>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: ClusterMessage.self, bufferingPolicy: .unbounded)
    }

    func send(_ message: ClusterMessage) { continuation.yield(message) }

    func close() { continuation.finish() }

    /// Writes queued messages until the outbox is closed or the channel fails.
    func drain(into outbound: NIOAsyncChannelOutboundWriter<ClusterMessage>) async throws {
        for await message in stream { try await outbound.write(message) }
    }
}
