// The floor under the client's cost: AsyncHTTPClient alone, configured as `StreamingClient` configures
// it (HTTP/1.1 only, a pool per event loop, no retries, no redirects, no decompression), sending the
// same streaming POST from N concurrent tasks and reading every response with a delegate that only
// counts bytes: no SSE framing, no JSON, no timestamps, no metrics. Whatever Stampede adds is above
// this line; a goal below it cannot be met while the client is built on AsyncHTTPClient.
//
//   ClientFloor URL [connections] [requests] [output-tokens] [seconds]
// stops after `requests` or `seconds` (0: no time limit), whichever comes first, and prints the
// requests, bytes per response, and user+sys CPU milliseconds per request (getrusage: the whole
// process, start-up included, as GNU time counts the other clients in scripts/bench/peers.sh).
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Counts the body's bytes and checks the status; nothing else. The response is -1 for a non-2xx status.
final class CountingDelegate: HTTPClientResponseDelegate {
    typealias Response = Int
    // Only touched on the task's event loop: AsyncHTTPClient calls a delegate there, one call at a time.
    nonisolated(unsafe) var bytes = 0
    nonisolated(unsafe) var ok = false
    func didReceiveHead(task: HTTPClient.Task<Int>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        ok = (200..<300).contains(head.status.code)
        return task.eventLoop.makeSucceededVoidFuture()
    }
    func didReceiveBodyPart(task: HTTPClient.Task<Int>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        bytes += buffer.readableBytes
        return task.eventLoop.makeSucceededVoidFuture()
    }
    func didFinishRequest(task: HTTPClient.Task<Int>) throws -> Int { ok ? bytes : -1 }
}

#if canImport(Glibc)
let RUSAGE_SELF_WHO = __rusage_who_t(RUSAGE_SELF.rawValue)
#else
let RUSAGE_SELF_WHO = RUSAGE_SELF
#endif

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF_WHO, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2, let url = URL(string: arguments[1]), let host = url.host,
      host == "127.0.0.1" || host == "localhost" || host == "::1" else {
    FileHandle.standardError.write(Data("usage: ClientFloor http://127.0.0.1:PORT [connections] [requests] [output-tokens] (loopback only)\n".utf8))
    exit(2)
}
let connections = max(1, min(arguments.count > 2 ? Int(arguments[2]) ?? 8 : 8, 1024))
let requests = max(1, min(arguments.count > 3 ? Int(arguments[3]) ?? 6000 : 6000, 10_000_000))
let tokens = max(1, min(arguments.count > 4 ? Int(arguments[4]) ?? 150 : 150, 100_000))
let seconds = max(0, min(arguments.count > 5 ? Int(arguments[5]) ?? 0 : 0, 86_400))
let deadline = ContinuousClock.now.advanced(by: seconds > 0 ? .seconds(seconds) : .seconds(86_400))

let loops = Array(HTTPClient.defaultEventLoopGroup.makeIterator())
var configuration = HTTPClient.Configuration()
configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = (connections + loops.count - 1) / loops.count
configuration.connectionPool.retryConnectionEstablishment = false
configuration.redirectConfiguration = .disallow
configuration.httpVersion = .http1Only
configuration.decompression = .disabled
let pools = loops.map { HTTPClient(eventLoopGroup: $0, configuration: configuration) }

var headers = HTTPHeaders()
headers.add(name: "Content-Type", value: "application/json")
headers.add(name: "Accept", value: "text/event-stream")
let prompt = String(repeating: "word ", count: 100)
let body = #"{"max_tokens":\#(tokens),"messages":[{"content":"\#(prompt)","role":"user"}],"model":"mock","stream":true,"stream_options":{"include_usage":true}}"#
let request = try HTTPClient.Request(url: url.appendingPathComponent("v1/chat/completions").absoluteString, method: .POST,
                                     headers: headers, body: .byteBuffer(ByteBuffer(string: body)))

/// Sends `count` requests from `connections` tasks; returns (requests completed, bytes).
func drive(_ count: Int) async -> (Int, Int) {
    await withTaskGroup(of: (Int, Int).self) { group in
        for user in 0..<connections {
            let share = count / connections + (user < count % connections ? 1 : 0)
            group.addTask {
                var done = 0, bytes = 0
                for _ in 0..<share where ContinuousClock.now < deadline {
                    let task = pools[user % pools.count].execute(request: request, delegate: CountingDelegate())
                    if let received = try? await task.futureResult.get(), received >= 0 {
                        done += 1
                        bytes += received
                    }
                }
                return (done, bytes)
            }
        }
        var total = (0, 0)
        for await (done, bytes) in group { total = (total.0 + done, total.1 + bytes) }
        return total
    }
}

let start = ContinuousClock.now
let (done, bytes) = await drive(requests)
let cpu = cpuSeconds()
let wall = ContinuousClock.now - start
for pool in pools {
    do { try await pool.shutdown().get() } catch { FileHandle.standardError.write(Data("shutdown: \(error)\n".utf8)) }
}
print("client-floor: AsyncHTTPClient alone, \(connections) connections, requests=\(done), \(bytes / max(done, 1)) B/response")
print(String(format: "  CPU %.2f s in %.2f s wall; CPU-milliseconds per request: %.3f",
             cpu, Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18, cpu / Double(max(done, 1)) * 1000))
