/// Small helpers shared by the libFuzzer targets (Sources/FuzzWire, Sources/FuzzSSE) and by the
/// corpus replay test. Nothing here traps on any input.
public enum FuzzBytes {
    /// The input split at each `\n`, the newline removed (as NIO's line decoder frames the cluster
    /// wire). A final piece without a newline is kept: a peer may close mid-line, and the decoder
    /// must survive whatever reaches it.
    public static func lines(_ bytes: UnsafeRawBufferPointer) -> [ArraySlice<UInt8>] {
        let all = Array(bytes)
        return all.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true)
    }

    /// Cuts `body` into consecutive pieces at up to `cuts` offsets read from `control` (two bytes
    /// each, little-endian, modulo the body length), sorted. Empty pieces are kept: a zero-length read
    /// is a case too.
    public static func pieces(of body: ArraySlice<UInt8>, cuts: Int, control: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        guard !body.isEmpty else { return [body] }
        var offsets: [Int] = []
        var reader = control.makeIterator()
        for _ in 0..<cuts {
            guard let low = reader.next(), let high = reader.next() else { break }
            offsets.append((Int(high) << 8 | Int(low)) % (body.count + 1))
        }
        offsets.sort()
        var result: [ArraySlice<UInt8>] = []
        var start = body.startIndex
        for offset in offsets {
            let end = body.startIndex + offset
            result.append(body[start..<end])
            start = end
        }
        result.append(body[start..<body.endIndex])
        return result
    }
}
