import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import StampedeCore
import Synchronization

/// Sends streamed completion requests to one target and turns each into a `RequestRecord`.
///
/// Connections: AsyncHTTPClient's pool keeps up to `maxConnections` HTTP/1.1 connections per host
/// (HTTP/2 is not negotiated, even over TLS: one stream per connection, as peers measure). A refused connection fails its request at once as
/// `.connect` instead of being retried in the background (peers such as vLLM's benchmark and LLMPerf
/// report it the same way). Redirects are not followed: a 3xx is recorded as the status it is.
///
/// Ending at `[DONE]`: the request's `endNs` is the arrival time of the `[DONE]` (or TGI final) event
/// and no later event is parsed. The rest of the response is normally just the chunked-encoding
/// terminator, already in flight; the client reads it for at most `drainGrace` so that the connection
/// goes back to the pool for the next request (dropping an unfinished response makes AsyncHTTPClient
/// close the connection, and a fresh TCP/TLS handshake would then inflate the next request's TTFT).
/// A server that keeps the response open after `[DONE]` costs at most `drainGrace` and that connection.
///
/// Call `shutdown()` before the last reference goes away: AsyncHTTPClient requires it.
public final class StreamingClient: Sendable {
    public let config: ClientConfig
    /// After the end marker, how long the rest of the response may take before it is abandoned.
    public static let drainGrace: Duration = .milliseconds(100)

    /// Independent connection pools, each on one event loop, so that a response is read, framed and
    /// parsed on the thread its connection lives on. A request goes to the pool of its gate place
    /// (`place % pools.count`), so no pool holds more requests than its share of connections.
    /// AsyncHTTPClient's pool copies its connection list on every new connection, so one pool of 10,000
    /// connections sets them up in quadratic time (44% of the CPU while 10,000 users started); pools of
    /// at most about `connectionsPerPool` keep it linear.
    private let pools: [HTTPClient]
    /// The most connections one pool holds (up to 64 pools; more connections make bigger pools).
    public static let connectionsPerPool = 512
    /// At most `maxConnections` requests in the pools at once (see `RequestGate`).
    private let gate: RequestGate
    /// URL and headers, parsed once; each request adds its body.
    private let template: Result<HTTPClient.Request, any Error>
    private let deadlines = DeadlineQueue()
    private let dialect: any Dialect

    public init(config: ClientConfig) {
        self.config = config
        self.dialect = config.api.dialect
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "text/event-stream")
        if let apiKey = config.apiKey, !apiKey.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        }
        let url = config.requestURL
        self.template = Result { try HTTPClient.Request(url: url, method: .POST, headers: headers) }

        let connections = max(1, config.maxConnections)
        self.gate = RequestGate(limit: connections)
        let loops = Array(HTTPClient.defaultEventLoopGroup.makeIterator())
        let poolCount = min(connections, max(loops.count, min(64, (connections + Self.connectionsPerPool - 1) / Self.connectionsPerPool)))
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = (connections + poolCount - 1) / poolCount
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.redirectConfiguration = .disallow
        // HTTP/1.1 only, one request per connection, as the peers measure (aiohttp, httpx): HTTP/2
        // would multiplex every user onto one TCP connection and make `maxConnections` meaningless.
        configuration.httpVersion = .http1Only
        configuration.decompression = .disabled
        let requestTimeout = TimeAmount.nanoseconds(max(1, config.requestTimeout.nanoseconds))
        configuration.timeout.connect = min(.seconds(10), requestTimeout)
        self.pools = (0..<poolCount).map { HTTPClient(eventLoopGroup: loops[$0 % loops.count], configuration: configuration) }
    }

    /// Closes the connections. The client cannot be used afterwards.
    public func shutdown() async throws {
        var failure: (any Error)?
        for pool in pools {
            do { try await pool.shutdown() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    /// Sends one request and streams it to the end. Never throws: failures become
    /// `record.errorClass` / `errorMessage` / `status`.
    ///
    /// Times are nanoseconds since `epoch`; `scheduledNs` is copied into the record and `sendNs` is
    /// taken just before sending. `id`, `user`, `worker` and `stage` are left at their defaults.
    /// Each read of the body is timestamped once, and every token chunk in it gets that time.
    ///
    /// If the calling task is cancelled the request stops promptly and the record it returns
    /// (`.streamError`, "cancelled") is meant to be discarded. `record.correct` is set on
    /// requests that succeeded when `expectedNumber` is set.
    public func execute(_ request: PlannedRequest, scheduledNs: Int64, epoch: ContinuousClock.Instant) async -> RequestRecord {
        // The body is written before the send time is taken: its cost is the client's, not the server's.
        let httpRequest = Result { try makeRequest(request) }
        let clock = ContinuousClock()
        // A place among `maxConnections`: the request is sent once it has one, so a wait here shows
        // as schedule lag (scheduled → sent), not as server latency.
        guard let place = await gate.acquire() else {
            var cancelled = StreamSession(request: request, dialect: dialect, scheduledNs: scheduledNs,
                                          sendNs: Self.nanoseconds(clock.now, since: epoch), secrets: [])
            cancelled.fail(.streamError, "cancelled", at: Self.nanoseconds(clock.now, since: epoch))
            return cancelled.finalRecord()
        }
        defer { gate.release(place) }
        let sendInstant = clock.now
        let deadline = sendInstant.advanced(by: config.requestTimeout)
        let session = StreamSession(request: request, dialect: dialect, scheduledNs: scheduledNs,
                                    sendNs: Self.nanoseconds(sendInstant, since: epoch), secrets: config.apiKey.map { [$0] } ?? [])

        // The deadline is one entry of the client's `DeadlineQueue`, removed when the request ends (see there
        // for why neither an event-loop timer nor a racing `Task.sleep` per request).
        let interrupt = Interrupt()
        let timer = deadlines.add(at: deadline) { interrupt.interrupt(.timeout) }
        var result = await withTaskCancellationHandler {
            await exchange(httpRequest, session, pool: pools[place % pools.count], deadline: deadline, epoch: epoch,
                           interrupt: interrupt)
        } onCancel: {
            interrupt.interrupt(.cancelled)
        }
        deadlines.cancel(timer)
        // `fail` only applies to a request that had not ended when the exchange was interrupted.
        // A timed-out request ends at its deadline.
        switch interrupt.reason {
        case .timeout: result.fail(.timeout, timeoutMessage, at: Self.nanoseconds(deadline, since: epoch))
        case .cancelled, nil: result.fail(.streamError, "cancelled", at: Self.nanoseconds(clock.now, since: epoch))
        }
        let finished = result
        return finished.finalRecord()
    }

    /// The HTTP request for `request`: URL, headers and the dialect's JSON body.
    func makeRequest(_ request: PlannedRequest) throws -> HTTPClient.Request {
        var httpRequest = try template.get()
        let body = dialect.requestBody(model: config.model, prompt: request.prompt, maxTokens: request.maxTokens,
                                       extraBody: config.extraBody)
        httpRequest.body = .byteBuffer(JSONBodyWriter.buffer(body))
        return httpRequest
    }

    private var timeoutMessage: String { "request timed out after \(config.requestTimeout.shortLabel)" }

    /// The network part of `execute`: hands the request and a `ResponseReader` to the pool of the
    /// request's place and waits for the response to end. When it is interrupted by cancellation (the
    /// timeout or the caller) it returns the session still open and `execute` records why.
    private func exchange(_ request: Result<HTTPClient.Request, any Error>, _ start: StreamSession, pool: HTTPClient,
                          deadline: ContinuousClock.Instant, epoch: ContinuousClock.Instant, interrupt: Interrupt) async -> StreamSession {
        let httpRequest: HTTPClient.Request
        do {
            httpRequest = try request.get()
        } catch {
            var session = start
            let (errorClass, message) = ErrorClassifier.transport(error, phase: .beforeHead)
            failExchange(&session, errorClass, message, atNs: Self.nanoseconds(.now, since: epoch), deadline: deadline, epoch: epoch)
            return session
        }
        let reader = ResponseReader(session: start, epoch: epoch, grace: Self.drainGrace)
        let remaining = ContinuousClock.now.duration(to: deadline)
        let task = pool.execute(request: httpRequest, delegate: reader, eventLoop: .indifferent,
                                deadline: .now() + .nanoseconds(remaining.nanoseconds))
        interrupt.attach(task)
        _ = try? await task.futureResult.get()

        let reading = reader.result
        var session = reading.session
        if let (error, phase, atNs) = reading.error, interrupt.reason == nil {
            let (errorClass, message) = ErrorClassifier.transport(error, phase: phase)
            failExchange(&session, errorClass, message, atNs: atNs, deadline: deadline, epoch: epoch)
        }
        if let (error, atNs) = reading.drainError, interrupt.reason == nil {
            // The stream said it was done; the transfer must end well too. A chunked body cut off or a
            // content length not reached means the server broke the response: a stream error after all.
            session.transferBroke("the response was cut after its end event: \(ErrorClassifier.describe(error))", at: atNs)
        }
        return session
    }

    /// Records a transport failure; a timeout (AsyncHTTPClient's own deadline, which `execute` also
    /// gives it) reads and ends like the client's timer.
    private func failExchange(_ session: inout StreamSession, _ errorClass: ErrorClass, _ message: String, atNs: Int64,
                              deadline: ContinuousClock.Instant, epoch: ContinuousClock.Instant) {
        if errorClass == .timeout {
            session.fail(.timeout, timeoutMessage, at: Self.nanoseconds(deadline, since: epoch))
        } else {
            session.fail(errorClass, message, at: atNs)
        }
    }

    static func nanoseconds(_ instant: ContinuousClock.Instant, since epoch: ContinuousClock.Instant) -> Int64 {
        (instant - epoch).nanoseconds
    }
}

/// Why a request was stopped from outside, and the request to stop: the deadline or the caller may
/// come before the request has been handed to a pool, so whichever comes second cancels it.
///
/// Sendable: its only stored property is a `Mutex`.
final class Interrupt: Sendable {
    enum Reason: Sendable { case timeout, cancelled }
    private let state = Mutex<(task: HTTPClient.Task<Void>?, reason: Reason?)>((nil, nil))

    /// The first reason given, if any.
    var reason: Reason? { state.withLock { $0.reason } }

    func interrupt(_ reason: Reason) {
        let task = state.withLock { state -> HTTPClient.Task<Void>? in
            guard state.reason == nil else { return nil }
            state.reason = reason
            return state.task
        }
        task?.cancel()
    }

    func attach(_ task: HTTPClient.Task<Void>) {
        let stopped = state.withLock { state -> Bool in
            state.task = task
            return state.reason != nil
        }
        if stopped { task.cancel() }
    }
}
