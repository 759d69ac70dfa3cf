#!/usr/bin/env bash
# Memory at a steady load: RSS of `stampede run` (coordinator + in-process worker + client) sampled
# every 10 s of a long closed-loop run against `stampede mock`, and the growth per finished request
# after the warm-up. Per-request state must be released when the request ends, not at its deadline
# (a cancelled `Task.sleep` kept its timer, about 0.75 KB, until the 600 s request timeout).
# It also checks the time series: the per-second counts against the per-request records by end time.
#
#   scripts/bench/steady-rss.sh [seconds] [users]      (default 300 s, 32 users)
. "$(dirname "$0")/common.sh"
SECONDS_RUN="${1:-300}"
USERS="${2:-32}"
build
start_mock --ttft-ms 5 --itl-ms 1
"$BIN" run --target "$MOCK_URL" --users "$USERS" --spawn-rate 1000 --run-time "${SECONDS_RUN}s" \
  --mean-input-tokens 100 --stddev-input-tokens 0 --mean-output-tokens 20 --stddev-output-tokens 0 \
  --quiet --json "$OUT/run.json" --requests-jsonl "$OUT/requests.jsonl" > "$OUT/report.txt" 2> "$OUT/run.err" &
RUN_PID=$!
PIDS+=("$RUN_PID")
: > "$OUT/rss.txt"
start=$(date +%s)
while kill -0 "$RUN_PID" 2>/dev/null; do
  echo "$(( $(date +%s) - start )) $(rss_kib "$RUN_PID" 2>/dev/null || echo 0)" >> "$OUT/rss.txt"
  sleep 10
done
wait "$RUN_PID" || true
python3 - "$OUT/rss.txt" "$OUT/run.json" "$OUT/requests.jsonl" <<'PY'
import json, sys, collections
samples = [tuple(map(int, line.split())) for line in open(sys.argv[1]) if line.strip() and not line.endswith(" 0\n")]
run = json.load(open(sys.argv[2]))
finished = run["overall"]["requests_finished"]
duration = run["duration_seconds"]
print(f"steady-rss: {finished} requests in {duration:.0f} s ({finished / duration:.0f}/s)")
print("  RSS (MiB) by time: " + ", ".join(f"{t}s {k / 1024:.0f}" for t, k in samples[:: max(1, len(samples) // 10)]))
warm = [s for s in samples if s[0] >= 30]
if len(warm) >= 2:
    (t0, r0), (t1, r1) = warm[0], warm[-1]
    share = (t1 - t0) / duration
    per_request = (r1 - r0) * 1024 / max(1, finished * share)
    print(f"  after warm-up: {r0 / 1024:.1f} MiB at {t0} s -> {r1 / 1024:.1f} MiB at {t1} s: {per_request:.1f} bytes per request")
# The series against the records: each request counts in the second its end falls in.
by_end = collections.Counter()
for line in open(sys.argv[3]):
    record = json.loads(line)
    by_end[int(record["end_ns"] // 1_000_000_000)] += 1
series = {point["interval"]: point["finished"] for point in run["time_series"]}
off = [i for i in sorted(set(series) | set(by_end)) if series.get(i, 0) != by_end.get(i, 0)]
print(f"  time series: {len(series)} intervals, {len(off)} differ from the records counted by end time")
PY
