#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MallocInterposerSwift
import NIOCore
import StampedeClient
import StampedeCore

// SSE framing (`SSEParser.feed(ByteBuffer)`) plus a dialect's `interpret`, per chunk, for each
// dialect and path (`Path`: the Foundation route, the fast route on a `String`, the fast route on
// the event's bytes as `StreamSession` reads it). Prints the median CPU ns per chunk over the rounds
// (the thread's CPU time, so other load on the machine matters less) and the allocations per chunk (malloc calls, counted by malloc-interposer when its library is preloaded: run.sh does it).
//
//   ChunkBench [rounds] [chunks-per-round] [chunks-per-read]
// CHUNKBENCH_ONLY=DIALECT/PATH (e.g. chat/fast-bytes) runs that row alone, for a profiler.

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let rounds = max(1, min(arguments.first ?? 9, 1_000))
let chunksPerRound = max(1, min(arguments.dropFirst().first ?? 20_000, 10_000_000))
let chunksPerRead = max(1, min(arguments.dropFirst(2).first ?? 1, 1_000))

/// Chunks as `stampede mock` sends them (Fuzz/corpus/sse/real-*), with a varied token text.
let words = [" the", " load", " tester", " streams", " tokens", ",", " and", " measures", " each", " one", "é", " 😀"]
func payload(_ api: APIDialect, _ index: Int) -> String {
    let word = words[index % words.count]
    switch api {
    case .chat:
        return #"{"id":"chatcmpl-f9afa2036b82e9f2","object":"chat.completion.chunk","created":1796043849,"model":"m","choices":[{"index":0,"delta":{"content":"\#(word)"},"logprobs":null,"finish_reason":null}]}"#
    case .completions:
        return #"{"id":"cmpl-f9afa2036b82e9f2","object":"text_completion","created":1796043849,"model":"m","choices":[{"index":0,"text":"\#(word)","logprobs":null,"finish_reason":null,"stop_reason":null}]}"#
    case .tgi:
        return #"{"index":\#(index),"token":{"id":\#(1000 + index % 50),"text":"\#(word)","logprob":-0.74,"special":false},"generated_text":null,"details":null}"#
    }
}

/// The stream cut into reads of `chunksPerRead` events each, as ByteBuffers (made before timing).
func reads(_ api: APIDialect) -> [ByteBuffer] {
    var buffers: [ByteBuffer] = []
    var index = 0
    while index < chunksPerRound {
        var text = ""
        for _ in 0..<min(chunksPerRead, chunksPerRound - index) {
            text += "data: " + payload(api, index) + "\n\n"
            index += 1
        }
        buffers.append(ByteBuffer(string: text))
    }
    return buffers
}

/// The ways to read a stream.
enum Path: String, CaseIterable {
    /// The path before the fast route: `feed(_:)` makes a `String` per event, `JSONSerialization` reads it.
    case foundation
    /// `feed(_:)` and the fast route on the event's `String`.
    case fastString = "fast-string"
    /// `feed(_:each:)` hands the event's bytes to the fast route, which decodes the token text (what
    /// `StreamSession` does when the correctness check needs the text).
    case fastBytes = "fast-bytes"
    /// The same without the text (`keepingText: false`): what `StreamSession` does otherwise.
    case fastFlags = "fast-flags"
}

/// One round: every read through a fresh parser and the dialect. Returns the token chunks seen
/// (so the work cannot be optimised away, and checked against the chunk count).
@inline(never)
func round(_ buffers: [ByteBuffer], _ dialect: any Dialect, _ path: Path) -> Int {
    var parser = SSEParser()
    var tokens = 0
    for buffer in buffers {
        switch path {
        case .foundation, .fastString:
            let route: ParseRoute = path == .foundation ? .foundation : .fast
            for event in parser.feed(buffer) {
                if case .chunk(let chunk) = dialect.interpret(event, route: route), chunk.isToken { tokens += 1 }
            }
        case .fastBytes, .fastFlags:
            let keepingText = path == .fastBytes
            parser.feed(buffer) { event in
                if case .chunk(let chunk) = dialect.interpret(event, keepingText: keepingText), chunk.isToken { tokens += 1 }
            }
        }
    }
    return tokens
}

print("ChunkBench: \(rounds) rounds of \(chunksPerRound) chunks, \(chunksPerRead) chunk(s) per read; median of the rounds")
print("dialect      path         CPU ns/chunk   allocs/chunk   bytes/chunk")
/// CPU time of this thread, ns.
func threadCPUNanoseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e9 + Double(time.tv_nsec)
}

let only = getenv("CHUNKBENCH_ONLY").map { String(cString: $0) }
for api in APIDialect.allCases {
    let buffers = reads(api)
    let dialect = api.dialect
    for route in Path.allCases where only == nil || only == "\(api)/\(route.rawValue)" {
        _ = round(buffers, dialect, route)  // warm-up
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = threadCPUNanoseconds()
            let tokens = round(buffers, dialect, route)
            times.append(threadCPUNanoseconds() - start)
            precondition(tokens == chunksPerRound, "\(api) \(route): \(tokens) token chunks of \(chunksPerRound)")
        }
        times.sort()
        let median = times[times.count / 2] / Double(chunksPerRound)

        MallocInterposerSwift.initialize()
        MallocInterposerSwift.hook()
        _ = round(buffers, dialect, route)
        MallocInterposerSwift.unhook()
        let stats = MallocInterposerSwift.getStatistics()
        let allocs = Double(stats.mallocCount) / Double(chunksPerRound)
        let bytes = Double(stats.mallocBytesCount) / Double(chunksPerRound)
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        func fixed(_ value: Double, _ digits: Int) -> String {
            var scale = 1.0
            for _ in 0..<digits { scale *= 10 }
            let rounded = (value * scale).rounded() / scale
            return "\(rounded)"
        }
        print(pad("\(api)", 13) + pad(route.rawValue, 13) + pad(fixed(median, 1), 15) + pad(fixed(allocs, 2), 15) + fixed(bytes, 0))
        if stats.mallocCount == 0 { print("  (no allocations counted: preload libMallocInterposerSwift.so, see run.sh)") }
    }
}
