import NIOCore
import NIOExtras

/// Decodes each framed line into a `ClusterMessage`. A bad line fires a `ProtocolError`, which
/// the connection's owner logs (naming the peer) before closing the channel.
final class MessageDecoderHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ClusterMessage

    let maxLineBytes: Int

    init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        do {
            context.fireChannelRead(wrapInboundOut(try WireCodec.decode(line)))
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
    /// Line framing bounded by `maxLineBytes`, JSON decoding and encoding.
    static func configure(_ channel: any Channel, maxLineBytes: Int) throws {
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: maxLineBytes))
        try sync.addHandler(MessageDecoderHandler(maxLineBytes: maxLineBytes))
        try sync.addHandler(MessageToByteHandler(MessageEncoderHandler()))
    }
}
