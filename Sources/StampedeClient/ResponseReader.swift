import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import StampedeCore
import Synchronization

/// Reads one response where its bytes arrive: AsyncHTTPClient calls it on the connection's event loop
/// for the head, each read of the body, the end and any error, and it folds them into its
/// `StreamSession` there. The request's task waits once, for the end, instead of being woken for
/// every read (with the body as an `AsyncSequence`, each read was a hop from the event loop to a Swift
/// task: a thread switch per read, 27% of the client's CPU in the kernel).
///
/// After the stream's end event the rest of the response (normally just the chunked terminator) is
/// read for at most `grace`, so the connection goes back to the pool; a transfer that then breaks is
/// kept as `drainError` (the server cut the response). Past the grace, or when the session failed
/// early (too large, in-band error), the request is cancelled and the connection closed.
///
/// Sendable: its stored properties are constants and a `Mutex`.
final class ResponseReader: HTTPClientResponseDelegate {
    typealias Response = Void

    /// What the reader saw; `StreamingClient` finishes the record from it.
    struct Reading: Sendable {
        var session: StreamSession
        var sawHead = false
        /// The session ended (completed or failed) before the body did: later reads are not parsed.
        var stopped = false
        /// A transport error before the session ended, the phase it came in and when.
        var error: (error: any Error, phase: ErrorClassifier.Phase, atNs: Int64)?
        /// The transfer broke after the stream had completed, and when.
        var drainError: (error: any Error, atNs: Int64)?
        var graceTimer: Scheduled<Void>?
        /// The grace after the end event ran out and the reader cancelled the request.
        var graceExpired = false
    }

    private let reading: Mutex<Reading>
    private let epoch: ContinuousClock.Instant
    private let grace: TimeAmount

    init(session: StreamSession, epoch: ContinuousClock.Instant, grace: Duration) {
        self.reading = Mutex(Reading(session: session))
        self.epoch = epoch
        self.grace = .nanoseconds(max(0, grace.nanoseconds))
    }

    /// What was read so far (the whole response once the task's future has completed).
    var result: Reading { reading.withLock { $0 } }

    private var nowNs: Int64 { (ContinuousClock.now - epoch).nanoseconds }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        let now = nowNs
        reading.withLock { reading in
            reading.sawHead = true
            reading.session.receivedHead(status: Int(head.status.code), contentType: head.headers.first(name: "content-type"), at: now)
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        // The read's arrival time, taken before any of it is framed or parsed (docs/metrics.md).
        let now = nowNs
        enum Next { case read, drain, cancel }
        let next = reading.withLock { reading -> Next in
            guard !reading.stopped, reading.session.receive(buffer, at: now) else { return .read }
            reading.stopped = true
            return reading.session.state == .completed ? .drain : .cancel
        }
        switch next {
        case .read:
            break
        case .cancel:
            task.cancel()
        case .drain:
            let timer = task.eventLoop.scheduleTask(in: grace) { [self] in
                reading.withLock { $0.graceExpired = true }
                task.cancel()
            }
            reading.withLock { $0.graceTimer = timer }
        }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        let now = nowNs
        reading.withLock { reading in
            reading.graceTimer?.cancel()
            if !reading.stopped { reading.session.bodyEnded(at: now) }
        }
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        let now = nowNs
        reading.withLock { reading in
            reading.graceTimer?.cancel()
            // A cancellation is the client's own (its deadline, its caller, the grace, an early stop):
            // `StreamingClient` records the first two, the others need nothing.
            if case .cancelled? = error as? HTTPClientError { return }
            if reading.stopped {
                if reading.session.state == .completed, !reading.graceExpired { reading.drainError = (error, now) }
            } else if reading.error == nil {
                reading.error = (error, reading.sawHead ? .body : .beforeHead, now)
            }
        }
    }
}
