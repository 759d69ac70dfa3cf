#!/usr/bin/env python3
"""Writes the seed corpora Fuzz/corpus/wire and Fuzz/corpus/sse (docs/fuzzing.md).

usage: Fuzz/tools/make-corpus.py WIRE_CAPTURE.jsonl SSE_CAPTURE_DIR

WIRE_CAPTURE.jsonl comes from Fuzz/tools/capture-wire.sh, SSE_CAPTURE_DIR from
Fuzz/tools/capture-sse.sh. Besides the captured lines it writes hand-made hostile lines (huge
numbers, wrong types, deep nesting, bad UTF-8) and SSE edge cases (CRLF, CR, split UTF-8, BOM,
[DONE] variants, error events). Handshake lines use the fixed nonces and token of
Sources/FuzzSupport/WireFuzz.swift, so the state machines can get past authentication.
Deterministic: the same captures give the same files.
"""
import copy
import hashlib
import hmac
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WIRE = os.path.join(ROOT, "Fuzz", "corpus", "wire")
SSE = os.path.join(ROOT, "Fuzz", "corpus", "sse")

# Must match WireFuzz.swift.
TOKEN = b"t"
WORKER_ID = "w1"
COORDINATOR_NONCE = "c0" * 32
WORKER_NONCE = "a1" * 32
I64 = 2**63 - 1
U64 = 2**64 - 1


def mac(message):
    return hmac.new(TOKEN, message.encode(), hashlib.sha256).hexdigest()


def line(obj):
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, allow_nan=True)


HELLO = line({"type": "hello", "v": 2, "worker_id": WORKER_ID, "version": "0.1.0", "host": "fuzz-host", "cores": 2,
              "instance": "inst1", "nonce": WORKER_NONCE})
CHALLENGE = line({"type": "challenge", "v": 2, "nonce": COORDINATOR_NONCE,
                  "proof": mac(f"stampede-coordinator\n{WORKER_NONCE}\n{COORDINATOR_NONCE}\n{WORKER_ID}")})
AUTH = line({"type": "auth", "v": 2, "hmac": mac(f"stampede-worker\n{COORDINATOR_NONCE}\n{WORKER_NONCE}\n{WORKER_ID}")})
HANDSHAKE = [HELLO, CHALLENGE, AUTH]


def write(directory, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def lines_file(lines):
    return "".join(l + "\n" for l in lines)


# ----------------------------------------------------------------------------------------------
def wire(capture_path):
    os.makedirs(WIRE, exist_ok=True)
    captured = [json.loads(l) for l in open(capture_path)]
    by_run = {}
    for c in captured:
        by_run.setdefault(c["run"], []).append(c)

    # One file per (run, direction, type); for stats and records the first and the largest.
    seen = {}
    for c in captured:
        msg = json.loads(c["line"])
        seen.setdefault((c["run"], c["dir"], msg["type"]), []).append(c["line"])
    for (run, direction, kind), lines in sorted(seen.items()):
        picks = [lines[0]]
        if kind in ("stats", "records") and len(lines) > 1:
            picks.append(max(lines, key=len))
        for i, l in enumerate(picks):
            write(WIRE, f"real-{run}-{direction}-{kind}-{i}", l + "\n")

    # Whole conversations, handshake made valid for the fixed nonces (each side's lines in order).
    for run, items in sorted(by_run.items()):
        w2c = [c["line"] for c in items if c["dir"] == "w2c" and json.loads(c["line"])["type"] not in ("hello", "auth")]
        c2w = [c["line"] for c in items if c["dir"] == "c2w" and json.loads(c["line"])["type"] != "challenge"]
        write(WIRE, f"session-{run}-worker-lines", lines_file([HELLO, CHALLENGE, AUTH] + w2c[:30]))
        write(WIRE, f"session-{run}-coordinator-lines", lines_file([HELLO, CHALLENGE, AUTH] + c2w[:30]))

    stats = next(json.loads(c["line"]) for c in captured if json.loads(c["line"])["type"] == "stats")
    records = next(json.loads(c["line"]) for c in captured if json.loads(c["line"])["type"] == "records")
    start = next(json.loads(c["line"]) for c in captured if json.loads(c["line"])["type"] == "start")
    hostile = {}

    def stats_with(mutate, seq=None):
        s = copy.deepcopy(stats)
        if seq is not None:
            s["delta"]["seq"] = seq
        mutate(s["delta"])
        return line(s)

    def counters(d):
        return d["stages"][0]["metrics"]["counters"]

    def first_hist(d):
        return next(iter(d["stages"][0]["metrics"]["histograms"].values()))

    # Issue 8, item 1: counters whose check overflowed, histogram counts of 2^64-1.
    hostile["stats-counters-int64-max"] = [stats_with(lambda d: counters(d).update(finished=I64, succeeded=I64, failed=1))]
    hostile["stats-histogram-count-u64-max"] = [stats_with(lambda d: first_hist(d).update(c=[U64] * len(first_hist(d)["c"])))]
    hostile["stats-histogram-clamped-u64-max"] = [stats_with(lambda d: first_hist(d).update(x=U64))]
    # Two deltas whose sums overflow once merged.
    big = lambda d: counters(d).update(finished=2**62, succeeded=2**62, busyNanoseconds=2**62, inputTokens=2**62)
    hostile["stats-sums-overflow"] = HANDSHAKE + [stats_with(big, seq=i) for i in range(4)]
    hostile["stats-histogram-sum-overflow"] = HANDSHAKE + [
        stats_with(lambda d: first_hist(d).update(c=[2**47] * len(first_hist(d)["c"])), seq=i) for i in range(4)]
    hostile["stats-interval-1e8"] = [stats_with(lambda d: d.update(interval=10**8))]
    hostile["stats-interval-negative"] = [stats_with(lambda d: d.update(interval=-1, users=-5, in_flight=-1))]
    hostile["stats-interval-int64-max"] = [stats_with(lambda d: d.update(interval=I64, start_ns=I64, end_ns=I64))]
    hostile["stats-stage-1e9"] = [stats_with(lambda d: d["stages"][0].update(stage=10**9))]
    hostile["stats-stage-repeated"] = [stats_with(lambda d: d["stages"].append(copy.deepcopy(d["stages"][0])))]
    hostile["stats-stage-3-ok"] = [stats_with(lambda d: d["stages"][0].update(stage=3))]
    hostile["stats-seq-u64-max-then-0"] = [stats_with(lambda d: None, seq=U64), stats_with(lambda d: None, seq=0)]
    hostile["stats-histogram-not-ascending"] = [stats_with(lambda d: first_hist(d).update(v=list(reversed(first_hist(d)["v"]))))]
    hostile["stats-histogram-length-mismatch"] = [stats_with(lambda d: first_hist(d).update(c=first_hist(d)["c"][:-1]))]
    hostile["stats-histogram-value-huge"] = [stats_with(lambda d: first_hist(d).update(v=[U64], c=[1]))]
    hostile["stats-histogram-unknown-key"] = [stats_with(lambda d: d["stages"][0]["metrics"]["histograms"].update(bogus={"v": [1], "c": [1]}))]
    hostile["stats-counter-negative"] = [stats_with(lambda d: counters(d).update(finished=-1, failed=-(2**63)))]
    hostile["stats-counter-float"] = [stats_with(lambda d: counters(d).update(finished=1.5))]
    hostile["stats-counter-string"] = [stats_with(lambda d: counters(d).update(finished="7"))]
    hostile["stats-counter-2e64"] = [stats_with(lambda d: counters(d).update(finished=2**64))]
    hostile["stats-errors-by-class-huge"] = [stats_with(lambda d: counters(d).update(errorsByClass={"http_5xx": I64, "x" * 300: 1}))]
    hostile["stats-worker-long"] = [stats_with(lambda d: d.update(worker="w" * 300))]
    hostile["stats-final-exhausted"] = [stats_with(lambda d: d.update(final=True, exhausted=True))]
    hostile["stats-with-records"] = [stats_with(lambda d: d.update(records=records["records"][:3]))]
    hostile["stats-records-stage-9"] = [stats_with(lambda d: d.update(records=[dict(records["records"][0], stage=9)]))]

    def records_with(**fields):
        r = copy.deepcopy(records)
        r["records"] = [dict(r["records"][0], **fields)]
        return line(r)

    hostile["records-input-tokens-int64-max"] = [records_with(inputTokens=I64, outputTokens=I64)]
    hostile["records-tokens-negative"] = [records_with(outputTokens=-1, inputTokens=-(2**63))]
    hostile["records-times-extreme"] = [records_with(endNs=-(2**63), sendNs=I64, scheduledNs=I64, tokenChunkNs=[-(2**63), I64])]
    hostile["records-times-at-limit"] = [records_with(endNs=2**60, sendNs=-(2**60), scheduledNs=-(2**60), firstTokenNs=2**60,
                                                      tokenChunkNs=[-(2**60), 2**60, -(2**60)], outputTokens=2**32)]
    hostile["records-cost-huge"] = [records_with(costMicroUSD=1e300)]
    hostile["records-cost-limit"] = [records_with(costMicroUSD=1e15)]
    hostile["records-status-huge"] = [records_with(status=I64)]
    hostile["records-seq-then-stats"] = [records_with(), stats_with(lambda d: None)]
    hostile["records-id-u64-max"] = [records_with(id=U64, user=I64)]
    hostile["records-error-message-newline"] = [records_with(errorClass="http_5xx", errorMessage="boom\nFAKE LOG LINE\u0000\u202e")]

    def msg(**fields):
        return line(dict({"v": 2}, **fields))

    hostile["welcome-extreme"] = [msg(type="welcome", worker_id="w1", heartbeat_ms=I64, timeout_ms=-1, run_clock_ns=I64)]
    hostile["welcome-at-limits"] = HANDSHAKE[:2] + [msg(type="welcome", worker_id="w1", heartbeat_ms=60000, timeout_ms=600000, run_clock_ns=2**62)]
    s = copy.deepcopy(start)
    s["epoch_ns"] = -(2**63)
    hostile["start-epoch-int64-min"] = [line(s)]
    s = copy.deepcopy(start)
    s["epoch_ns"] = 2**62
    hostile["start-epoch-limit-after-pong"] = [msg(type="pong", t=0, now=2**62), line(s)]
    s = copy.deepcopy(start)
    s["assignment"]["share"]["users"] = 10**9
    s["assignment"]["scenario"]["runTimeSeconds"] = 1e308
    hostile["start-share-huge"] = [line(s)]
    hostile["pong-extreme"] = [msg(type="pong", t=I64, now=-(2**63), cpu=1e308)]
    hostile["pong-limits"] = [msg(type="pong", t=2**62, now=0, cpu=1e8), msg(type="pong", t=0, now=2**62), msg(type="ping", t=2**62)]
    hostile["ping-negative"] = [msg(type="ping", t=-1)]
    hostile["hello-version-newline"] = [msg(type="hello", worker_id="w1", version="1.0\nFAKE LOG", host="h", cores=1, instance="i", nonce=WORKER_NONCE)]
    hostile["hello-host-300-digits"] = [msg(type="hello", worker_id="w1", version="1", host="9" * 300, cores=2**63 - 1, instance="i", nonce=WORKER_NONCE)]
    hostile["hello-nonce-odd"] = [msg(type="hello", worker_id="w1", version="1", host="h", cores=1, instance="i", nonce="abc")]
    hostile["hello-then-stats-preauth"] = [HELLO, stats_with(lambda d: None)]
    hostile["hello-twice"] = [HELLO, HELLO, AUTH]
    hostile["auth-wrong"] = [HELLO, msg(type="auth", hmac="00" * 32)]
    hostile["challenge-wrong-proof"] = [msg(type="challenge", nonce=COORDINATOR_NONCE, proof="ff" * 32), msg(type="welcome", worker_id="w1", heartbeat_ms=1000, timeout_ms=5000, run_clock_ns=1)]
    hostile["welcome-without-challenge"] = [msg(type="welcome", worker_id="w1", heartbeat_ms=1000, timeout_ms=5000, run_clock_ns=1)]
    hostile["reject-duplicate"] = [msg(type="reject", reason="duplicate worker id w1"), msg(type="error", reason="x" * 2000)]
    hostile["set-users-extreme"] = [msg(type="set_users", generation=I64, share={"users": -1, "spawnRate": 1e309, "stage": 10**9, "userBase": 0})]
    hostile["stopped-u64"] = [msg(type="stopped", run_id="r", last_seq=U64), msg(type="stopped_ack", run_id="r", last_seq=U64),
                              msg(type="stop", run_id="r"), msg(type="quit")]
    hostile["wrong-types"] = [
        '{"type":5,"v":2}', '{"type":"stats","v":"2"}', '{"type":"stats","v":2,"delta":[]}', '{"type":"stats"}',
        '{"type":"stats","v":3}', '{"type":"stats","v":2.0}', '{"type":"hello","type":"stats","v":2}', '{}', 'null', '[]',
        '""', '{"type":"ping","v":2,"t":1e400}', '{"type":"ping","v":2,"t":-0}', '{"type":"ping","v":2,"t":1E+2}',
        '{"type":"ping","v":2,"t":0x10}', '{"type":"ping","v":2,"t":18446744073709551616}', '{"type":"nope","v":2}',
        '{"type":"ping","v":2,"t":1}\r', '\ufeff{"type":"ping","v":2,"t":1}', '{"type":"ping","v":2,"t":1} trailing',
    ]
    hostile["strings-unicode"] = ['{"type":"hello","v":2,"worker_id":"\\ud800","version":"1","host":"\\u0000\\u001b[31m","cores":1,"instance":"i","nonce":"' + WORKER_NONCE + '"}',
                                  '{"type":"error","v":2,"reason":"\\udfff\\ud83c\\udf0a \\u0000"}']
    # Crash reproducers (docs/fuzzing.md, "Known crashes"): K1 through the wire. A record that
    # passes check() (2^32 output tokens, E2E 1 ns) traps in MetricSet.record.
    tps = {"id": 1, "user": 0, "stage": 0, "scheduledNs": 0, "sendNs": 0, "endNs": 1, "tokenChunkNs": [], "inputTokensEstimate": 1,
           "inputTokens": 1, "outputTokens": 2**32, "tokenSource": "usage", "requestedOutputTokens": 1, "status": 200}
    write(WIRE, "crash-k1-records-output-rate", lines_file([line({"type": "records", "v": 2, "seq": 0, "records": [tps]})]))
    write(WIRE, "hostile-deep-nesting", '{"type":"stats","v":2,"delta":' + "[" * 5000 + "\n")
    write(WIRE, "hostile-deep-objects", '{"type":"stats","v":2,"delta":' + '{"a":' * 3000 + "1" + "}" * 3000 + "}\n")
    write(WIRE, "hostile-invalid-utf8", b'{"type":"error","v":2,"reason":"\xff\xfe\xc3"}\n{"type":"ping","v":2,"t":\xc0\xaf}\n')
    for name, lines in sorted(hostile.items()):
        write(WIRE, "hostile-" + name, lines_file(lines))


# ----------------------------------------------------------------------------------------------
def header(dialect, head=0, check=False, cuts=()):
    """The FuzzSSE control prefix: mode byte, cut count, two bytes per cut (SSEFuzz.swift)."""
    mode = dialect | (head << 2) | (0x20 if check else 0)
    out = bytes([mode, len(cuts)])
    for c in cuts:
        out += bytes([c & 0xFF, (c >> 8) & 0xFF])
    return out


def sse(capture_dir):
    os.makedirs(SSE, exist_ok=True)
    dialects = {"chat": 0, "completions": 1, "tgi": 2}
    for name in sorted(os.listdir(capture_dir)):
        if name.endswith(".head"):
            continue
        body = open(os.path.join(capture_dir, name), "rb").read()
        dialect = dialects[name.split("-")[0]]
        head = 0
        if "-500" in name or "-429" in name:
            head = 6
        elif "nostream" in name:
            head = 5
        n = len(body)
        write(SSE, f"real-{name}", header(dialect, head, cuts=(7, n // 2, max(0, n - 3))) + body)
        if head == 0:
            write(SSE, f"real-{name}-check-whole", header(dialect, 0, check=True) + body)

    chat = lambda content, extra="": ('data: {"choices":[{"index":0,"delta":{"content":%s}%s}]}\n\n' % (json.dumps(content), extra))
    # Edge cases, hand-made.
    wave = "🌊 café".encode()
    split_utf8 = b'data: {"choices":[{"delta":{"content":"' + wave + b'"}}]}\n\ndata: [DONE]\n\n'
    cut = split_utf8.index(wave) + 2  # inside the 4-byte emoji
    cases = {
        "crlf": (0, (chat("Hello") + chat(" world", ',"finish_reason":"stop"') + "data: [DONE]\n\n").replace("\n", "\r\n").encode(), (5, 40)),
        "cr-only": (0, (chat("Hello") + "data: [DONE]\n\n").replace("\n", "\r").encode(), (10,)),
        "crlf-split-between-cr-lf": (0, b'data: {"choices":[{"delta":{"content":"a"}}]}\r\n\r\ndata: [DONE]\r\n\r\n', (47, 49)),
        "split-utf8": (0, split_utf8, (cut, cut + 1)),
        "bom-comments-retry-id": (1, b'\xef\xbb\xbf: keep-alive\nretry: 10\nid: 7\nevent: message\ndata: {"choices":[{"text":"x"}]}\n\nid: a\x00b\ndata:[DONE]\n\n', (3,)),
        "done-variants": (0, b"data:  [DONE] \n\ndata: [DONE]\n\n", ()),
        "multiline-data": (1, b'data: {"choices":\ndata: [{"text":"hi","finish_reason":"length"}]}\n\n', ()),
        "error-event-openai": (0, b'event: error\ndata: {"error":{"message":"upstream overloaded","type":"server_error"}}\n\n', ()),
        "error-event-text": (2, b"event: error\ndata: plain text failure\n\n", ()),
        "error-payload-vllm": (0, b'data: {"object":"error","message":"context length exceeded","code":400}\n\n', ()),
        "error-payload-tgi": (2, b'data: {"error":"Input validation error","error_type":"validation"}\n\n', ()),
        "error-echoes-key": (0, b'event: error\ndata: {"error":{"message":"bad key sk-fuzz-SECRET-1234 (Bearer sk-fuzz-SECRET-1234)"}}\n\n', ()),
        # K1 and K2 (docs/fuzzing.md, "Known crashes").
        "usage-huge": (0, (chat("x") + 'data: {"choices":[],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":9223372036854775807}}\n\ndata: [DONE]\n\n').encode(), ()),
        "usage-negative-float": (1, b'data: {"choices":[{"text":"a","finish_reason":"stop"}],"usage":{"prompt_tokens":-5,"completion_tokens":1e300}}\n\n', ()),
        "tgi-details-huge": (2, b'data: {"token":{"id":1,"text":"a","special":false},"generated_text":"a","details":{"finish_reason":"length","generated_tokens":9223372036854775807}}\n\n', ()),
        "tgi-special-token": (2, b'data: {"token":{"id":2,"text":"</s>","special":true},"generated_text":null,"details":null}\n\n', ()),
        "not-json": (0, b"data: {not json\n\ndata: 12\n\n", ()),
        "unterminated-event": (0, b'data: {"choices":[{"delta":{"content":"a"}}]}\n', ()),
        "keepalive-empty-data": (0, b"data:\n\ndata: \n\n:\n\n", ()),
        "reasoning": (0, b'data: {"choices":[{"delta":{"reasoning_content":"think"}}]}\n\ndata: {"choices":[{"delta":{"reasoning":"more"}}]}\n\n', ()),
        "answer-with-number": (0, chat("The answer is 42.", ',"finish_reason":"stop"').encode() + b"data: [DONE]\n\n", ()),
        "invalid-utf8": (1, b'data: {"choices":[{"text":"\xff\xfe\xc3"}]}\n\n', ()),
        "deep-nesting": (0, b"data: " + b"[" * 3000 + b"\n\n", ()),
    }
    for name, (dialect, body, cuts) in sorted(cases.items()):
        check = name == "answer-with-number"
        write(SSE, f"edge-{name}", header(dialect, 0, check=check, cuts=cuts) + body)
    write(SSE, "crash-k2-usage-prompt-tokens-max", header(0, 0) + (chat("x") +
          'data: {"choices":[],"usage":{"prompt_tokens":9223372036854775807,"completion_tokens":1}}\n\ndata: [DONE]\n\n').encode())
    write(SSE, "edge-json-body-not-stream", header(0, 5) + b'{"choices":[{"message":{"content":"hi"}}]}')
    write(SSE, "edge-500-echoes-key", header(0, 6) + b'{"error":{"message":"invalid key sk-fuzz-SECRET-1234"}}')
    write(SSE, "edge-no-content-type", header(2, 7) + b"<html>502 Bad Gateway</html>")
    fast_route_seeds()


def fast_route_seeds():
    """What the fast route (ChunkScanner) decides itself, and what it leaves to Foundation."""
    chat = [
        '{"id":"c","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}',
        '{ "choices" : [ { "delta" : { "content" : "\\u00e9\\ud83d\\ude00 \\"q\\" \\\\ \\/ \\n\\t\\b\\f\\r" } , "index" : 0 } ] , "x" : { "y" : [ 1 , -2.5e-3 , true , null , { } , [ ] ] } }',
        '{"choices":[{"delta":{"reasoning":"\\uD834\\uDD1E","x":{"content":"not this"}},"finish_reason":null}],"model":"\U0001D11E\u00e9\u4e2d"}',
        '{"choices":[{"delta":{"content":"a","content":"dup"}}]}',
        '{"choices":[{"delta":{"cont\\u0065nt":"escaped key"}}]}',
        '{"choices":[{"delta":{"content":"lone \\ud800"}}]}',
        '{"choices":[{"delta":{"content":"nul \\u0000"}}]}',
        '{"choices":[{"delta":{"content":"bom \ufeff"}}]}',
        '{"choices":[{"delta":{"content":"42"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1e2,"completion_tokens":true}}',
        '{"choices":[],"usage":{"prompt_tokens":123456789012345678901,"completion_tokens":2.0}}',
        '{"x":' + '[' * 80 + ']' * 80 + ',"choices":[{"delta":{"content":"deep"}}]}',
        '{"error":{"type":"no message","code":1}}',
    ]
    body = "".join("data: %s\n\n" % c for c in chat) + "data: [DONE]\n\n"
    write(SSE, "edge-fast-route-chat", header(0, 0, check=True) + body.encode())
    tgi = [
        '{"index":1,"token":{"id":1,"text":"\\u4e2d\\ud83d\\ude00","logprob":-0.5,"special":false},"generated_text":null,"details":null}',
        '{"index":2,"token":{"id":2,"text":"x","special":1},"generated_text":null,"details":null}',
        '{"details":{"generated_tokens":3.5,"finish_reason":"length"},"token":{"text":"y","special":"false"},"generated_text":""}',
        '{"token":{"special":false,"text":"z"},"details":{"finish_reason":"eos_token","generated_tokens":3},"generated_text":"a\\"b"}',
    ]
    write(SSE, "edge-fast-route-tgi", header(2, 0) + "".join("data: %s\n\n" % c for c in tgi).encode())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        sys.exit(2)
    wire(sys.argv[1])
    sse(sys.argv[2])
