#!/usr/bin/env python3
"""Simulates N stampede workers for the coordinator benchmark.

Each fake worker speaks protocol v2 (docs/protocol.md): hello (+ HMAC auth when a token is given),
answers pings, and once started sends one `stats` delta per second with realistic sparse
histograms (a few latency buckets, ~100 chunk-gap buckets), then `stopped` on `stop`.
It sends no HTTP load at all: only the coordinator's cost is measured.

    fake_workers.py HOST PORT COUNT [--token T]
"""
import argparse, asyncio, hashlib, hmac, json, os, random, time

def histogram(rng, n, lo, hi):
    values = sorted({int(rng.uniform(lo, hi)) for _ in range(n)})
    return {"v": values, "c": [rng.randint(1, 5) for _ in values]}

def delta(rng, worker, seq, interval):
    finished = rng.randint(3, 8)
    counters = {"finished": finished, "succeeded": finished, "failed": 0, "errorsByClass": {}, "statusCodes": {"200": finished},
                "inputTokens": 550 * finished, "inputTokensEstimate": 550 * finished, "outputTokens": 150 * finished,
                "tokenChunks": 150 * finished, "tokenSources": {"usage": finished}, "correctnessChecked": 0,
                "correctnessPassed": 0, "busyNanoseconds": 7_000_000_000 * finished, "lastErrorMessages": {},
                "goodput": finished, "droppedArrivals": 0}
    hist = {"ttft": histogram(rng, finished, 200_000, 900_000), "e2e": histogram(rng, finished, 6_000_000, 8_000_000),
            "itl": histogram(rng, finished, 40_000, 50_000), "llmperf_itl": histogram(rng, finished, 40_000, 55_000),
            "ttfat": histogram(rng, finished, 200_000, 900_000), "schedule_lag": histogram(rng, finished, 10, 200),
            "chunk_gap": histogram(rng, 100, 30_000, 120_000), "input_tokens": histogram(rng, finished, 300, 800),
            "output_tokens": histogram(rng, finished, 140, 160), "output_tps": histogram(rng, finished, 18_000, 25_000)}
    return {"type": "stats", "v": 2, "delta": {"worker": worker, "seq": seq, "interval": interval,
            "start_ns": interval * 1_000_000_000, "end_ns": (interval + 1) * 1_000_000_000, "users": 1, "in_flight": 1,
            "stages": [{"stage": 0, "metrics": {"counters": counters, "histograms": hist}}]}}

async def worker(index, host, port, token, stats):
    name = f"fake-{index:03d}"
    rng = random.Random(index)
    # Staggered (20 ms apart): the coordinator closes connections past 64 pending handshakes, and these fakes do not retry.
    await asyncio.sleep(index * 0.02)
    reader, writer = await asyncio.open_connection(host, port, limit=8 * 1024 * 1024)
    def send(message):
        writer.write((json.dumps(message, separators=(",", ":")) + "\n").encode())
    nonce = os.urandom(32).hex()
    send({"type": "hello", "v": 2, "worker_id": name, "version": "bench", "host": "bench", "cores": 1,
          "instance": os.urandom(8).hex(), "nonce": nonce})
    reply = json.loads(await reader.readline())
    if reply["type"] == "challenge":
        expected = hmac.new(token.encode(), f"stampede-coordinator\n{nonce}\n{reply['nonce']}\n{name}".encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, reply["proof"]):
            raise SystemExit(f"{name}: the coordinator's proof is wrong")
        proof = hmac.new(token.encode(), f"stampede-worker\n{reply['nonce']}\n{nonce}\n{name}".encode(), hashlib.sha256).hexdigest()
        send({"type": "auth", "v": 2, "hmac": proof})
        reply = json.loads(await reader.readline())
    if reply["type"] != "welcome":
        raise SystemExit(f"{name}: {reply}")
    seq = 0
    run_id = None
    epoch = None
    async def ticker():
        nonlocal seq
        while True:
            await asyncio.sleep(1)
            if run_id is not None:
                send(delta(rng, name, seq, int(time.monotonic() - epoch)))
                seq += 1
                stats["deltas"] += 1
                await writer.drain()
    tick = asyncio.create_task(ticker())
    try:
        while line := await reader.readline():
            message = json.loads(line)
            kind = message["type"]
            if kind == "ping":
                send({"type": "pong", "v": 2, "t": message["t"], "now": time.monotonic_ns() % (1 << 62), "cpu": 1.0})
            elif kind == "start":
                run_id, epoch = message["assignment"]["runId"], time.monotonic()
            elif kind == "stop":
                final = delta(rng, name, seq, int(time.monotonic() - epoch))
                final["delta"]["final"] = True
                send(final)
                send({"type": "stopped", "v": 2, "run_id": run_id, "last_seq": seq})
                seq += 1
                run_id = None
            elif kind == "quit":
                break
            await writer.drain()
    finally:
        tick.cancel()
        writer.close()

async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host"); parser.add_argument("port", type=int); parser.add_argument("count", type=int)
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    stats = {"deltas": 0}
    results = await asyncio.gather(*(worker(i, args.host, args.port, args.token, stats) for i in range(args.count)), return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    print(f"fake workers: {args.count}, deltas sent: {stats['deltas']}, failures: {len(failures)}")
    for f in failures[:3]:
        print("  ", repr(f))

asyncio.run(main())
