import Foundation
import Hummingbird
import Logging
import StampedeCore

/// Thrown from a response body writer to cut the connection mid-stream (the abort fault). Hummingbird
/// closes the channel when a body writer throws, so the client sees a chunked body with no terminator.
struct SimulatedAbort: Error {}

/// One generation, fully decided at admission.
struct GenerationPlan: Sendable {
    let request: GenerationRequest
    let wire: WireFormat
    let text: TextPlan
    /// Reasoning chunks before the answer (chat only).
    let reasoningTokens: Int
    /// `TokenEstimator.estimate` of the prompt.
    let inputTokens: Int
    let fault: Fault
    let seed: UInt64
    let arrival: ContinuousClock.Instant

    /// Token-bearing events: reasoning, then answer. Also `usage.completion_tokens`.
    var totalTokens: Int { reasoningTokens + request.maxTokens }

    /// Tokens sent before the fault strikes: about half for abort and stream errors.
    var tokensBeforeFault: Int {
        switch fault {
        case .abort, .streamError: totalTokens / 2
        case .none, .http500, .http429: totalTokens
        }
    }

    /// The SSE event of token `index` (reasoning first).
    func event(_ index: Int) -> String {
        if index < reasoningTokens { return wire.reasoningChunk(text.reasoningToken(index)) }
        let answerIndex = index - reasoningTokens
        let token = text.answerToken(answerIndex)
        guard request.dialect == .tgi else { return wire.answerChunk(token) }
        let isLast = answerIndex == request.maxTokens - 1
        return wire.tgiTokenEvent(index: answerIndex + 1, token: token,
                                  generatedText: isLast ? text.answerText(count: request.maxTokens) : nil,
                                  details: request.details, generatedTokens: request.maxTokens)
    }

    /// What follows the last token: finish chunk, optional usage chunk and `[DONE]` (OpenAI dialects).
    var tail: String {
        guard request.dialect != .tgi else { return "" }
        var tail = wire.finishChunk
        if request.includeUsage { tail += wire.usageChunk(promptTokens: inputTokens, completionTokens: totalTokens) }
        return tail + WireFormat.done
    }
}

/// The shared server state and the generation endpoints' logic.
struct MockCore: Sendable {
    static let maxBodyBytes = 32 << 20

    let config: MockConfig
    let state: MockState
    let engine: BatchEngine?
    /// Fixed timing with a slot limit: at most this many generations at once, the rest queue (FIFO).
    let slots: SlotGate?
    let shutdown = ShutdownFlag()
    /// The one timer of every fixed-timing stream.
    let scheduler = DeadlineScheduler()

    init(config: MockConfig) {
        self.config = config
        self.state = MockState(config: config)
        if case .engine(let profile) = config.timing {
            engine = BatchEngine(profile: profile, jitterMs: config.jitterMs, seed: config.seed)
        } else {
            engine = nil
        }
        slots = config.fixedSlots.map { SlotGate(slots: $0) }
    }

    /// Ends every generation at its next token and refuses new ones with 503.
    func beginShutdown() async {
        shutdown.raise()
        await scheduler.shutdown()
        await engine?.shutdown()
    }

    func stats() async -> MockStats {
        var queued = await engine?.queuedCount ?? 0
        if let slots { queued += await slots.queued }
        return await state.snapshot(queued: queued)
    }

    /// Answers a chat, completions or TGI request. Never throws: every failure is a response.
    func generate(_ request: Request, dialect: APIDialect, streamOverride: Bool? = nil, logger: Logger) async -> Response {
        var arrival = ContinuousClock.now
        await state.received()
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maxBodyBytes)
        } catch {
            return Self.errorResponse(.contentTooLarge, message: "The request body could not be read or exceeds \(Self.maxBodyBytes >> 20) MiB",
                                      type: "invalid_request_error")
        }
        let parsed: GenerationRequest
        do {
            parsed = try RequestParser.parse(Array(body.readableBytesView), dialect: dialect,
                                             defaultMaxTokens: config.defaultMaxTokens, streamOverride: streamOverride)
        } catch {
            let message = (error as? BadRequest)?.message ?? "Invalid request"
            logger.debug("mock: 400 \(message)")
            return Self.errorResponse(.badRequest, message: message, type: "invalid_request_error")
        }

        if shutdown.isRaised {
            return Self.errorResponse(.serviceUnavailable, message: "the server is shutting down", type: "internal_error")
        }
        let admission = await state.admit()
        switch admission.fault {
        case .http500:
            return Self.errorResponse(.internalServerError, message: "simulated internal server error", type: "internal_error")
        case .http429:
            var response = Self.errorResponse(.tooManyRequests, message: "simulated rate limit: too many requests", type: "rate_limit_error")
            response.headers[.retryAfter] = "1"
            return response
        case .none, .abort, .streamError:
            break
        }

        // A slot, when the mock limits them: the request's delays start once it has one.
        if let slots {
            do { try await slots.acquire() } catch {
                return Self.errorResponse(.serviceUnavailable, message: "the request was cancelled while queued", type: "internal_error")
            }
            arrival = ContinuousClock.now
        }
        let plan = GenerationPlan(
            request: parsed,
            wire: WireFormat(dialect: dialect, requestNumber: admission.number ^ (config.seed &* 31),
                             created: Int(Date().timeIntervalSince1970), model: parsed.model ?? config.model),
            text: TextPlan(seed: admission.seed, prompt: parsed.prompt),
            reasoningTokens: dialect == .chat ? config.reasoningTokens : 0,
            inputTokens: TokenEstimator.estimate(parsed.prompt),
            fault: admission.fault, seed: admission.seed, arrival: arrival)
        let ticket = await InFlightTicket(state: state, slot: slots)
        if parsed.stream {
            return streamingResponse(plan, ticket: ticket)
        }
        return await completeResponse(plan, ticket: ticket)
    }

    private func makeTicker(_ plan: GenerationPlan) async -> TokenTicker {
        await TokenTicker(timing: config.timing, engine: engine, scheduler: scheduler, shutdown: shutdown, jitterMs: config.jitterMs, seed: plan.seed,
                          arrival: plan.arrival, inputTokens: plan.inputTokens, total: plan.tokensBeforeFault)
    }

    /// Headers now; each token as it comes due.
    private func streamingResponse(_ plan: GenerationPlan, ticket: InFlightTicket) -> Response {
        let core = self
        let body = ResponseBody { writer in
            // The closure holds `ticket`, so the request counts as in flight until the body is done.
            try await core.writeStream(plan, ticket: ticket, to: &writer)
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
    }

    private func writeStream(_ plan: GenerationPlan, ticket: InFlightTicket, to writer: inout any ResponseBodyWriter) async throws {
        var ticker = await makeTicker(plan)
        let isChat = plan.request.dialect == .chat
        var started = false
        do {
            while let due = try await ticker.next() {
                var out = ""
                if !started, isChat { out += plan.wire.roleChunk }
                started = true
                for index in due { out += plan.event(index) }
                if due.upperBound == plan.totalTokens { out += plan.tail }
                try await writer.write(ByteBuffer(string: out))
            }
        } catch {
            await ticker.cancel()
            await ticket.end(completed: false)
            throw error
        }
        switch plan.fault {
        case .abort:
            await ticket.end(completed: false)
            throw SimulatedAbort()
        case .streamError:
            await ticket.end(completed: false)
            var out = !started && isChat ? plan.wire.roleChunk : ""
            out += plan.wire.streamErrorEvent
            // vLLM follows its error event with [DONE]; TGI just ends the stream.
            if plan.request.dialect != .tgi { out += WireFormat.done }
            try await writer.write(ByteBuffer(string: out))
            try await writer.finish(nil)
        case .none, .http500, .http429:
            if ticker.emitted < plan.totalTokens {
                throw CancellationError() // the engine was shut down under us
            }
            // Counted before the last bytes go out, so a client that has the whole stream sees it in /stats.
            await ticket.end(completed: true)
            try await writer.finish(nil)
        }
    }

    /// The whole reply after the whole simulated generation time.
    private func completeResponse(_ plan: GenerationPlan, ticket: InFlightTicket) async -> Response {
        var ticker = await makeTicker(plan)
        do {
            try await ticker.waitForAll()
        } catch {
            await ticker.cancel()
            await ticket.end(completed: false)
            return Self.errorResponse(.serviceUnavailable, message: "the server is shutting down", type: "internal_error")
        }
        switch plan.fault {
        case .abort:
            await ticket.end(completed: false)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody { _ in throw SimulatedAbort() })
        case .streamError:
            await ticket.end(completed: false)
            return Self.errorResponse(.internalServerError, message: "simulated engine failure", type: "internal_error")
        case .none, .http500, .http429:
            let reasoning = plan.reasoningTokens > 0 ? plan.text.reasoningText(count: plan.reasoningTokens) : nil
            let json = plan.wire.completeBody(answer: plan.text.answerText(count: plan.request.maxTokens), reasoning: reasoning,
                                              promptTokens: plan.inputTokens, completionTokens: plan.totalTokens,
                                              details: plan.request.details)
            await ticket.end(completed: true)
            return Self.jsonResponse(json)
        }
    }

    static func jsonResponse(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    /// An OpenAI-shaped error: `{"error":{"message","type","code"}}`.
    static func errorResponse(_ status: HTTPResponse.Status, message: String, type: String) -> Response {
        jsonResponse(WireFormat.errorBody(message: message, type: type, code: status.code), status: status)
    }
}
