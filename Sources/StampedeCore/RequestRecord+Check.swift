/// Range checks for a record that came from outside the process (a worker's `records` message),
/// so that every later sum, difference and conversion on it stays far from the integer bounds.
extension RequestRecord {
    /// Times are nanoseconds on a run clock: within ±2^60 ns (36 years) of run start.
    public static let maxAbsNanoseconds: Int64 = 1 << 60
    /// Token counts per request: at most 2^32 (4.3 billion).
    public static let maxTokens = 1 << 32
    /// Token-bearing chunks per request.
    public static let maxChunks = 1 << 20
    public static let maxMessageLength = 1024
    public static let maxStage = 10_000

    public struct CheckError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// Throws when any field is out of its range. Never traps.
    public func check() throws(CheckError) {
        func fail(_ why: String) -> CheckError { CheckError(description: "record \(id): \(why)") }
        let times = [scheduledNs, sendNs, endNs] + [firstByteNs, firstTokenNs, firstAnswerTokenNs].compactMap { $0 }
        guard times.allSatisfy({ $0 >= -Self.maxAbsNanoseconds && $0 <= Self.maxAbsNanoseconds }) else { throw fail("time out of range") }
        guard tokenChunkNs.count <= Self.maxChunks else { throw fail("more than \(Self.maxChunks) chunks") }
        guard tokenChunkNs.allSatisfy({ $0 >= -Self.maxAbsNanoseconds && $0 <= Self.maxAbsNanoseconds }) else { throw fail("chunk time out of range") }
        let counts = [inputTokensEstimate, inputTokens, outputTokens, requestedOutputTokens]
        guard counts.allSatisfy({ $0 >= 0 && $0 <= Self.maxTokens }) else { throw fail("token count out of range") }
        guard user >= 0, (0...Self.maxStage).contains(stage) else { throw fail("user or stage out of range") }
        if let status, !(0...999).contains(status) { throw fail("status out of range") }
        if let worker, worker.utf8.count > 128 { throw fail("worker id too long") }
        if let errorMessage, errorMessage.utf8.count > Self.maxMessageLength { throw fail("error message too long") }
        if let costMicroUSD, !(costMicroUSD.isFinite && costMicroUSD >= 0 && costMicroUSD <= 1e15) { throw fail("cost out of range") }
    }
}
