/// The coordinator's side of the handshake as a pure state machine: messages in, steps out, no I/O
/// (docs/protocol.md, "Handshake"). `CoordinatorServer` drives it; tests and the fuzzer feed it directly.
struct CoordinatorHandshake: Sendable {
    struct Hello: Sendable, Equatable {
        var workerId: String
        var version: String
        var host: String
        var cores: Int
        var instance: String
    }

    enum Step: Sendable, Equatable {
        /// Send this to the worker and wait for its answer.
        case send(ClusterMessage)
        /// The worker is authenticated (or no token is set): register it, then send `welcome`.
        case admit(Hello)
        /// Refuse the worker with this reason and close.
        case refuse(ProtocolError)
    }

    private enum State: Sendable {
        case awaitingHello
        case awaitingAuth(Hello, workerNonce: String)
        case finished
    }

    let token: String?
    let nonce: String
    private var state = State.awaitingHello

    init(token: String?, nonce: String = ClusterAuth.makeNonce()) {
        self.token = token
        self.nonce = nonce
    }

    mutating func receive(_ message: ClusterMessage) -> Step {
        switch (state, message) {
        case (.awaitingHello, .hello(let workerId, let version, let host, let cores, let instance, let workerNonce)):
            let hello = Hello(workerId: workerId, version: version, host: host, cores: cores, instance: instance)
            guard let token else {
                state = .finished
                return .admit(hello)
            }
            state = .awaitingAuth(hello, workerNonce: workerNonce)
            let proof = ClusterAuth.coordinatorProof(token: token, workerNonce: workerNonce, coordinatorNonce: nonce, workerId: workerId)
            return .send(.challenge(nonce: nonce, proof: proof))
        case (.awaitingAuth(let hello, let workerNonce), .auth(let proof)):
            state = .finished
            guard let token, ClusterAuth.verifyWorker(proof: proof, token: token, coordinatorNonce: nonce, workerNonce: workerNonce,
                                                      workerId: hello.workerId) else {
                return .refuse(.unauthenticated)
            }
            return .admit(hello)
        case (.awaitingHello, _):
            state = .finished
            return .refuse(.unexpected("expected hello first"))
        case (.awaitingAuth, _):
            state = .finished
            return .refuse(.unexpected("expected auth after challenge"))
        case (.finished, _):
            return .refuse(.unexpected("'\(message.type)' after the handshake ended"))
        }
    }
}

/// The worker's side of the handshake as a pure state machine. A worker that has a token accepts
/// `welcome` only from a coordinator that proved it knows the token; one without a token joins
/// only a coordinator that asks for none.
struct WorkerHandshake: Sendable {
    struct Joined: Sendable, Equatable {
        var heartbeatMs: Int
        var timeoutMs: Int
        var runClockNs: Int64
    }

    enum Step: Sendable, Equatable {
        case send(ClusterMessage)
        case joined(Joined)
        /// Give up on this connection. `retry`: try again later (the coordinator still holds an
        /// older connection of this worker); otherwise the worker exits with `reason`.
        case fail(reason: String, retry: Bool)
    }

    private enum State: Sendable {
        case awaitingChallenge
        case awaitingWelcome
        case finished
    }

    let workerId: String
    let token: String?
    let nonce: String
    let hello: ClusterMessage
    private var state = State.awaitingChallenge

    init(workerId: String, token: String?, instance: String, version: String, host: String, cores: Int, nonce: String = ClusterAuth.makeNonce()) {
        self.workerId = workerId
        self.token = token
        self.nonce = nonce
        hello = .hello(workerId: workerId, version: version, host: host, cores: cores, instance: instance, nonce: nonce)
    }

    static let duplicatePrefix = "duplicate worker id"

    mutating func receive(_ message: ClusterMessage) -> Step {
        switch (state, message) {
        case (.awaitingChallenge, .challenge(let coordinatorNonce, let proof)):
            state = .finished
            guard let token else {
                return .fail(reason: "the coordinator requires a cluster token; set STAMPEDE_TOKEN (or --token-env / --token-file)", retry: false)
            }
            guard ClusterAuth.verifyCoordinator(proof: proof, token: token, workerNonce: nonce, coordinatorNonce: coordinatorNonce, workerId: workerId) else {
                return .fail(reason: ProtocolError.coordinatorUnauthenticated.description + " (wrong token, or not a Stampede coordinator); refusing it", retry: false)
            }
            state = .awaitingWelcome
            return .send(.auth(hmac: ClusterAuth.workerProof(token: token, coordinatorNonce: coordinatorNonce, workerNonce: nonce, workerId: workerId)))
        case (.awaitingChallenge, .welcome(_, let heartbeatMs, let timeoutMs, let runClockNs)):
            state = .finished
            guard token == nil else {
                return .fail(reason: ProtocolError.coordinatorUnauthenticated.description + " (it skipped the challenge); refusing it", retry: false)
            }
            return .joined(Joined(heartbeatMs: heartbeatMs, timeoutMs: timeoutMs, runClockNs: runClockNs))
        case (.awaitingWelcome, .welcome(_, let heartbeatMs, let timeoutMs, let runClockNs)):
            state = .finished
            return .joined(Joined(heartbeatMs: heartbeatMs, timeoutMs: timeoutMs, runClockNs: runClockNs))
        case (.awaitingChallenge, .reject(let reason)), (.awaitingWelcome, .reject(let reason)):
            state = .finished
            return .fail(reason: "coordinator rejected this worker: \(reason)", retry: reason.hasPrefix(Self.duplicatePrefix))
        case (.finished, _):
            return .fail(reason: "'\(message.type)' after the handshake ended", retry: true)
        default:
            state = .finished
            return .fail(reason: ProtocolError.unexpected("'\(message.type)' during the handshake").description, retry: true)
        }
    }
}
