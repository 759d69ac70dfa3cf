import Foundation
import NIOCore
import NIOEmbedded
@testable import StampedeCluster
import StampedeCore
import StampedeEngine
import StampedeMetrics
import Testing

/// Every ClusterTests suite nests in this one: `.serialized` keeps the live and subprocess tests
/// from competing for the two cores (their timing assertions need them).
@Suite(.serialized) enum ClusterSuite {}

/// Test-case labels: the message type, not a dump of its histograms.
extension ClusterMessage: CustomTestStringConvertible {
    public var testDescription: String { type }
}

/// What a bad line must be refused with.
struct BadLine: Sendable, CustomTestStringConvertible {
    enum Expect: Sendable {
        case exactly(ProtocolError)
        case notJSON
        case invalid(containing: String)
    }

    let name: String
    let line: String
    let expect: Expect

    var testDescription: String { name }

    func matches(_ error: ProtocolError) -> Bool {
        switch (expect, error) {
        case (.exactly(let expected), _): error == expected
        case (.notJSON, .notJSON): true
        case (.invalid(let part), .invalid(let why)): why.contains(part)
        default: false
        }
    }
}

extension ClusterSuite {
    @Suite("Wire codec")
    struct CodecTests {
        @Test("the fixtures cover every ClusterMessage case")
        func fixturesCoverEveryCase() {
            let covered = Set(Fixtures.everyMessage.map(Fixtures.caseName))
            #expect(covered == Fixtures.allCaseNames)
            #expect(Fixtures.everyMessage.allSatisfy { $0.type == Fixtures.caseName($0) })
        }

        @Test("every message round-trips through encode and decode", arguments: Fixtures.everyMessage)
        func roundTrip(_ message: ClusterMessage) throws {
            let line = try WireCodec.encode(message)
            let bytes = Array(line.readableBytesView)
            // One line: a single newline, at the end.
            #expect(bytes.last == UInt8(ascii: "\n"))
            #expect(bytes.filter { $0 == UInt8(ascii: "\n") }.count == 1)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(object["type"] as? String == message.type)
            #expect(object["v"] as? Int == 2)

            let decoded = try WireCodec.decode(line)
            #expect(decoded == message)
            // A CRLF line ending is tolerated.
            var crlf = ByteBuffer(bytes: bytes.dropLast())
            crlf.writeString("\r")
            #expect(try WireCodec.decode(crlf) == message)
        }

        @Test("stats deltas keep their histograms bucket for bucket")
        func statsHistogramsSurvive() throws {
            let delta = Fixtures.delta
            guard case .stats(let decoded) = try WireCodec.decode(WireCodec.encode(.stats(delta))) else {
                Issue.record("not a stats message")
                return
            }
            for key in HistogramKey.allCases {
                #expect(decoded.merged[key].sparse == delta.merged[key].sparse, "\(key)")
            }
            #expect(decoded.merged.counters == delta.merged.counters)
        }

        static let badLines: [BadLine] = {
            var lines: [BadLine] = [
                BadLine(name: "truncated JSON", line: #"{"type":"ping","v":2,"#, expect: .notJSON),
                BadLine(name: "not JSON at all", line: "hello coordinator", expect: .notJSON),
                BadLine(name: "unknown type", line: #"{"type":"launch","v":2}"#, expect: .exactly(.unknownType("launch"))),
                BadLine(name: "protocol version 3", line: #"{"type":"ping","v":3,"t":1}"#, expect: .exactly(.version(3))),
                BadLine(name: "missing v", line: #"{"type":"ping","t":1}"#, expect: .exactly(.version(nil))),
                BadLine(name: "missing field", line: #"{"type":"ping","v":2}"#, expect: .exactly(.invalid("missing field 't'"))),
                BadLine(name: "missing hello field", line: #"{"type":"hello","v":2,"worker_id":"w1","version":"0.1.0","cores":2,"instance":"i1","nonce":"abcd"}"#,
                        expect: .exactly(.invalid("missing field 'host'"))),
                BadLine(name: "wrong field type", line: #"{"type":"ping","v":2,"t":"soon"}"#, expect: .exactly(.invalid("wrong type at 't'"))),
                BadLine(name: "wrong type of v", line: #"{"type":"ping","v":"1","t":1}"#, expect: .exactly(.invalid("wrong type at 'v'"))),
                BadLine(name: "negative cores", line: #"{"type":"hello","v":2,"worker_id":"w1","version":"0.1.0","host":"h","cores":-1,"instance":"i1","nonce":"abcd"}"#,
                        expect: .invalid(containing: "cores out of range")),
            ]
            let badIds = ["", "has space", "tab\there", String(repeating: "x", count: 129), "naïve"]
            for id in badIds {
                let quoted = String(decoding: try! JSONEncoder().encode(id), as: UTF8.self)
                let line = #"{"type":"hello","v":2,"worker_id":\#(quoted),"version":"0.1.0","host":"h","cores":1,"instance":"i1","nonce":"abcd"}"#
                lines.append(BadLine(name: "bad worker_id '\(id.prefix(12))'", line: line, expect: .invalid(containing: "worker_id must be")))
            }
            // Built from valid messages, so that only the named field is wrong.
            lines.append(BadLine(name: "negative users in set_users share", line: try! editedLine(.setUsers(generation: 2, share: Fixtures.share)) {
                var share = $0["share"] as! [String: Any]
                share["users"] = -1
                $0["share"] = share
            }, expect: .exactly(.invalid("share has a negative, non-finite or out-of-range value"))))
            lines.append(BadLine(name: "negative request budget in start share", line: try! editedLine(Fixtures.everyMessage[5]) {
                var assignment = $0["assignment"] as! [String: Any]
                var share = assignment["share"] as! [String: Any]
                share["requestBudget"] = -5
                assignment["share"] = share
                $0["assignment"] = assignment
            }, expect: .exactly(.invalid("share has a negative, non-finite or out-of-range value"))))
            for (name, segments) in [("rate segments out of order", [["startNs": 0, "rate": 1], ["startNs": 5, "rate": 2], ["startNs": 4, "rate": 3]]),
                                     ("rate segments not from zero", [["startNs": 7, "rate": 1]]),
                                     ("a negative segment rate", [["startNs": 0, "rate": -1]]),
                                     ("no rate segment", [])] as [(String, [[String: Any]])] {
                lines.append(BadLine(name: name, line: try! editedLine(.setUsers(generation: 2, share: Fixtures.share)) {
                    var share = $0["share"] as! [String: Any]
                    share["rateSegments"] = segments
                    $0["share"] = share
                }, expect: .exactly(.invalid("share has invalid open-loop fields"))))
            }
            lines.append(BadLine(name: "histogram values/counts length mismatch in a stats delta", line: try! editedLine(.stats(Fixtures.delta)) {
                var delta = $0["delta"] as! [String: Any]
                var stages = delta["stages"] as! [[String: Any]]
                var metrics = stages[1]["metrics"] as! [String: Any]
                var histograms = metrics["histograms"] as! [String: Any]
                var ttft = histograms["ttft"] as! [String: Any]
                ttft["c"] = (ttft["c"] as! [Any]) + [1]
                histograms["ttft"] = ttft
                metrics["histograms"] = histograms
                stages[1]["metrics"] = metrics
                delta["stages"] = stages
                $0["delta"] = delta
            }, expect: .invalid(containing: "histogram has 1 values but 2 counts")))
            lines.append(BadLine(name: "negative in_flight in a stats delta", line: try! editedLine(.stats(Fixtures.delta)) {
                var delta = $0["delta"] as! [String: Any]
                delta["in_flight"] = -1
                $0["delta"] = delta
            }, expect: .invalid(containing: "negative users")))
            lines.append(BadLine(name: "start with an unbounded scenario", line: try! editedLine(Fixtures.everyMessage[5]) {
                var assignment = $0["assignment"] as! [String: Any]
                var scenario = assignment["scenario"] as! [String: Any]
                scenario.removeValue(forKey: "runTimeSeconds")
                scenario.removeValue(forKey: "maxRequests")
                assignment["scenario"] = scenario
                $0["assignment"] = assignment
            }, expect: .invalid(containing: "scenario: --run-time")))
            return lines
        }()

        @Test("bad lines are refused with the right ProtocolError", arguments: badLines)
        func rejectsBadLine(_ bad: BadLine) {
            do {
                let message = try WireCodec.decode(Data(bad.line.utf8))
                Issue.record("'\(bad.line)' decoded as \(message)")
            } catch {
                #expect(bad.matches(error), "got \(error)")
                #expect(!error.description.isEmpty)
            }
        }

        // MARK: The real pipeline

        @Test("the pipeline decodes a good line, even split across reads, and encodes outbound messages")
        func pipelineDecodesAndEncodes() throws {
            let channel = EmbeddedChannel()
            try ClusterPipeline.configure(channel, maxLineBytes: 1024, gate: .opened())
            defer { _ = try? channel.finish() }

            try channel.writeInbound(WireCodec.encode(.ping(t: 42)))
            #expect(try channel.readInbound(as: ClusterMessage.self) == .ping(t: 42))

            let stop = Array(try WireCodec.encode(.stop(runId: "r1")).readableBytesView)
            try channel.writeInbound(ByteBuffer(bytes: stop[..<10]))
            #expect(try channel.readInbound(as: ClusterMessage.self) == nil)
            try channel.writeInbound(ByteBuffer(bytes: stop[10...]))
            #expect(try channel.readInbound(as: ClusterMessage.self) == .stop(runId: "r1"))

            try channel.writeOutbound(ClusterMessage.quit)
            let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
            #expect(written == (try WireCodec.encode(.quit)))
        }

        @Test("an over-long line without a newline surfaces ProtocolError.lineTooLong")
        func overlongLine() throws {
            let limit = 1024
            let channel = EmbeddedChannel()
            try ClusterPipeline.configure(channel, maxLineBytes: limit, gate: .opened())
            defer { _ = try? channel.finish() }

            // A line just under the limit still decodes.
            let padded = ClusterMessage.reject(reason: String(repeating: "r", count: limit - 100))
            try channel.writeInbound(WireCodec.encode(padded))
            #expect(try channel.readInbound(as: ClusterMessage.self) == padded)

            let tooLong = ByteBuffer(bytes: Array(#"{"type":"reject","v":2,"reason":""#.utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: limit + 10))
            #expect(throws: ProtocolError.lineTooLong(limit: limit)) {
                try channel.writeInbound(tooLong)
            }
            #expect(try channel.readInbound(as: ClusterMessage.self) == nil)
            #expect(ProtocolError.lineTooLong(limit: limit).description.contains("1024"))
        }

        @Test("a bad line in the pipeline surfaces its ProtocolError")
        func pipelineBadLine() throws {
            let channel = EmbeddedChannel()
            try ClusterPipeline.configure(channel, maxLineBytes: 1024, gate: .opened())
            defer { _ = try? channel.finish() }
            #expect(throws: ProtocolError.version(3)) {
                try channel.writeInbound(ByteBuffer(string: #"{"type":"ping","v":3,"t":1}"# + "\n"))
            }
            #expect(try channel.readInbound(as: ClusterMessage.self) == nil)
        }
    }
}
