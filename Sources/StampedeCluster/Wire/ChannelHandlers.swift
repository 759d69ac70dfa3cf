import NIOCore
import NIOExtras
import Synchronization

/// Whether a connection's peer has authenticated. Until it has, the pipeline accepts only
/// `preAuthTypes` and at most `WireCodec.preAuthMaxBytes` bytes in all.
/// Sendable: its only state is an atomic.
final class ConnectionGate: Sendable {
    let preAuthTypes: Set<String>
    /// A type whose arrival opens the gate by itself (the worker's `welcome`: the coordinator may
    /// send `start` right behind it, in the same read). Nil: only `open()` opens it.
    let opensOn: String?
    private let isOpen = Atomic<Bool>(false)

    init(preAuthTypes: Set<String>, opensOn: String? = nil) {
        self.preAuthTypes = preAuthTypes
        self.opensOn = opensOn
    }

    var allowed: Set<String>? { isOpen.load(ordering: .acquiring) ? nil : preAuthTypes }

    func open() { isOpen.store(true, ordering: .releasing) }

    /// A gate that is open from the start (for tests of the pipeline itself).
    static func opened() -> ConnectionGate {
        let gate = ConnectionGate(preAuthTypes: [])
        gate.open()
        return gate
    }
}

/// Counts the bytes a peer sends before it has authenticated and closes the connection past
/// `WireCodec.preAuthMaxBytes`, so an unauthenticated peer cannot make the frame decoder buffer
/// a 4 MiB line.
final class PreAuthLimitHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let gate: ConnectionGate
    let limit: Int
    private var received = 0
    private var tripped = false

    init(gate: ConnectionGate, limit: Int = WireCodec.preAuthMaxBytes) {
        self.gate = gate
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !tripped else { return }
        if gate.allowed != nil {
            received += unwrapInboundIn(data).readableBytes
            if received > limit {
                tripped = true
                context.fireErrorCaught(ProtocolError.lineTooLong(limit: limit))
                context.close(promise: nil)
                return
            }
        }
        context.fireChannelRead(data)
    }
}

/// Decodes each framed line into a `ClusterMessage`. A bad line fires a `ProtocolError`, which
/// the connection's owner logs (naming the peer) before closing the channel.
final class MessageDecoderHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ClusterMessage

    let maxLineBytes: Int
    let gate: ConnectionGate

    init(maxLineBytes: Int, gate: ConnectionGate) {
        self.maxLineBytes = maxLineBytes
        self.gate = gate
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        do {
            let message = try WireCodec.decode(line, allowing: gate.allowed)
            if let opener = gate.opensOn, message.type == opener { gate.open() }
            context.fireChannelRead(wrapInboundOut(message))
        } catch {
            context.fireErrorCaught(error)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // The frame decoder reports an over-long line as PayloadTooLargeError; name it in protocol terms.
        if error is ByteToMessageDecoderError.PayloadTooLargeError {
            context.fireErrorCaught(ProtocolError.lineTooLong(limit: maxLineBytes))
        } else {
            context.fireErrorCaught(error)
        }
    }
}

/// Encodes each outbound `ClusterMessage` as one JSON line.
final class MessageEncoderHandler: MessageToByteEncoder {
    typealias OutboundIn = ClusterMessage

    func encode(data: ClusterMessage, out: inout ByteBuffer) throws {
        var line = try WireCodec.encode(data, allocator: ByteBufferAllocator())
        out.writeBuffer(&line)
    }
}

enum ClusterPipeline {
    /// The pre-authentication byte limit, line framing bounded by `maxLineBytes`, JSON decoding
    /// gated on authentication, and encoding.
    static func configure(_ channel: any Channel, maxLineBytes: Int, gate: ConnectionGate) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(PreAuthLimitHandler(gate: gate))
        try sync.addHandler(ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: maxLineBytes))
        try sync.addHandler(MessageDecoderHandler(maxLineBytes: maxLineBytes, gate: gate))
        try sync.addHandler(MessageToByteHandler(MessageEncoderHandler()))
    }
}
