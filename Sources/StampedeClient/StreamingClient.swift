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

    /// Independent connection pools, used in turn. AsyncHTTPClient's pool copies its connection list
    /// on every new connection, so one pool of 10,000 connections sets them up in quadratic time
    /// (44% of the CPU while 10,000 users started); pools of at most `connectionsPerPool` keep it linear.
    private let pools: [HTTPClient]
    private let nextPool = Atomic<Int>(0)
    /// The most connections one pool holds.
    public static let connectionsPerPool = 512
    private var http: HTTPClient { pools[0] }
    /// At most `maxConnections` requests in the pools at once (see `RequestGate`).
    private let gate: RequestGate
    private let deadlines = DeadlineQueue()
    private let dialect: any Dialect
    private let url: String
    private let headers: HTTPHeaders

    public init(config: ClientConfig) {
        self.config = config
        self.dialect = config.api.dialect
        self.url = config.requestURL

        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "text/event-stream")
        if let apiKey = config.apiKey, !apiKey.isEmpty {
            headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        }
        self.headers = headers

        let connections = max(1, config.maxConnections)
        self.gate = RequestGate(limit: connections)
        let poolCount = min(64, (connections + Self.connectionsPerPool - 1) / Self.connectionsPerPool)
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
        self.pools = (0..<poolCount).map { _ in HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration) }
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
        let httpRequest = makeRequest(request)

        let clock = ContinuousClock()
        // A place among `maxConnections`: the request is sent once it has one, so a wait here shows
        // as schedule lag (scheduled → sent), not as server latency.
        guard await gate.acquire() else {
            var cancelled = StreamSession(request: request, dialect: dialect, scheduledNs: scheduledNs,
                                          sendNs: Self.nanoseconds(clock.now, since: epoch), secrets: [])
            cancelled.fail(.streamError, "cancelled", at: Self.nanoseconds(clock.now, since: epoch))
            return cancelled.finalRecord()
        }
        defer { gate.release() }
        let sendInstant = clock.now
        let deadline = sendInstant.advanced(by: config.requestTimeout)
        let session = StreamSession(request: request, dialect: dialect, scheduledNs: scheduledNs,
                                    sendNs: Self.nanoseconds(sendInstant, since: epoch), secrets: config.apiKey.map { [$0] } ?? [])

        // The deadline is one entry of the client's `DeadlineQueue`, removed when the request ends (see there
        // for why neither an event-loop timer nor a racing `Task.sleep` per request).
        let timedOut = Flag()
        let exchange = Task { await self.exchange(httpRequest, session, deadline: deadline, epoch: epoch) }
        let timer = deadlines.add(at: deadline) {
            timedOut.set()
            exchange.cancel()
        }
        var result = await withTaskCancellationHandler {
            await exchange.value
        } onCancel: {
            exchange.cancel()
        }
        deadlines.cancel(timer)
        // `fail` only applies to a request that had not ended when the exchange was interrupted.
        // A timed-out request ends at its deadline.
        if timedOut.isSet {
            result.fail(.timeout, timeoutMessage, at: Self.nanoseconds(deadline, since: epoch))
        } else {
            result.fail(.streamError, "cancelled", at: Self.nanoseconds(clock.now, since: epoch))
        }
        let finished = result
        return finished.finalRecord()
    }

    /// The HTTP request for `request`: URL, headers and the dialect's JSON body.
    func makeRequest(_ request: PlannedRequest) -> HTTPClientRequest {
        var httpRequest = HTTPClientRequest(url: url)
        httpRequest.method = .POST
        httpRequest.headers = headers
        let body = dialect.requestBody(model: config.model, prompt: request.prompt, maxTokens: request.maxTokens,
                                       extraBody: config.extraBody)
        httpRequest.body = .bytes(ByteBuffer(bytes: DialectSupport.encode(body)))
        return httpRequest
    }

    private var timeoutMessage: String { "request timed out after \(config.requestTimeout.shortLabel)" }

    /// The network part of `execute`. When it is interrupted by cancellation (the timeout or the
    /// caller) it returns the session still open and `execute` records why.
    private func exchange(_ request: HTTPClientRequest, _ start: StreamSession, deadline: ContinuousClock.Instant,
                          epoch: ContinuousClock.Instant) async -> StreamSession {
        var session = start
        let clock = ContinuousClock()
        let response: HTTPClientResponse
        do {
            let remaining = clock.now.duration(to: deadline)
            let pool = pools[nextPool.wrappingAdd(1, ordering: .relaxed).oldValue % pools.count]
            response = try await pool.execute(request, deadline: .now() + .nanoseconds(remaining.nanoseconds))
        } catch {
            if !Task.isCancelled {
                let (errorClass, message) = ErrorClassifier.transport(error, phase: .beforeHead)
                failExchange(&session, errorClass, message, deadline: deadline, epoch: epoch)
            }
            return session
        }
        session.receivedHead(status: Int(response.status.code), contentType: response.headers.first(name: "content-type"),
                             at: Self.nanoseconds(clock.now, since: epoch))

        var iterator = response.body.makeAsyncIterator()
        var stoppedEarly = false
        do {
            while let buffer = try await iterator.next() {
                // The read's arrival time, taken as the body stream hands it over and before any of it
                // is framed or parsed: parsing cost never shows in a chunk's time (docs/metrics.md).
                let arrival = Self.nanoseconds(clock.now, since: epoch)
                if session.receive(buffer, at: arrival) {
                    stoppedEarly = true
                    break
                }
            }
            // A cancelled body can also end as nil: then `execute` records the timeout or cancellation.
            if !stoppedEarly, !Task.isCancelled { session.bodyEnded(at: Self.nanoseconds(clock.now, since: epoch)) }
        } catch {
            if !Task.isCancelled {
                let (errorClass, message) = ErrorClassifier.transport(error, phase: .body)
                failExchange(&session, errorClass, message, deadline: deadline, epoch: epoch)
            }
            return session
        }
        if stoppedEarly, session.state == .completed {
            // The stream said it was done; the transfer must end well too. A chunked body cut off or a
            // content length not reached means the server broke the response: a stream error after all.
            if case .broke(let error) = await drain(iterator, grace: Self.drainGrace), !Task.isCancelled {
                session.transferBroke("the response was cut after its end event: \(ErrorClassifier.describe(error))",
                                      at: Self.nanoseconds(clock.now, since: epoch))
            }
        }
        return session
    }

    /// How the rest of a response ended after its stream was done.
    enum DrainOutcome: Sendable {
        /// The body ended as HTTP says it should.
        case ended
        /// The body broke: cut short, or not HTTP.
        case broke(any Error)
        /// Still open after the grace, or cancelled: left to the pool to close.
        case abandoned
    }

    /// Records a transport failure; a timeout (AsyncHTTPClient's own deadline, which `execute` also
    /// gives it) reads and ends like the client's timer.
    private func failExchange(_ session: inout StreamSession, _ errorClass: ErrorClass, _ message: String,
                              deadline: ContinuousClock.Instant, epoch: ContinuousClock.Instant) {
        if errorClass == .timeout {
            session.fail(.timeout, timeoutMessage, at: Self.nanoseconds(deadline, since: epoch))
        } else {
            session.fail(errorClass, message, at: Self.nanoseconds(ContinuousClock.now, since: epoch))
        }
    }

    /// Reads what is left of a response for at most `grace`, so that a finished response returns its
    /// connection to the pool instead of being cancelled. The iterator moves into a task of its own
    /// (cancelled by an event-loop timer after `grace`, or with the caller).
    private func drain(_ iterator: sending HTTPClientResponse.Body.AsyncIterator, grace: Duration) async -> DrainOutcome {
        let drainer = Task { () -> DrainOutcome in
            var rest = iterator
            do {
                while try await rest.next() != nil {}
                return .ended
            } catch {
                return Task.isCancelled ? .abandoned : .broke(error)
            }
        }
        let timer = http.eventLoopGroup.any().scheduleTask(in: .nanoseconds(grace.nanoseconds)) { drainer.cancel() }
        let outcome = await withTaskCancellationHandler {
            await drainer.value
        } onCancel: {
            drainer.cancel()
        }
        timer.cancel()
        return outcome
    }

    static func nanoseconds(_ instant: ContinuousClock.Instant, since epoch: ContinuousClock.Instant) -> Int64 {
        (instant - epoch).nanoseconds
    }
}

/// A flag one task sets and another reads. Sendable: its only stored property is an `Atomic`.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
