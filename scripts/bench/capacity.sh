#!/usr/bin/env bash
# Capacity: how many concurrent streams one `stampede run` process holds, how fast it gets there, and
# its RSS. The mock runs in its own process in fixed-delay mode (TTFT TTFT_MS, one token every ITL_MS,
# default 1 s), with TOKENS output tokens per request so streams stay open for ~TOKENS × ITL. Each
# step starts N users at SPAWN_RATE users/s and runs RUN_TIME seconds. From the JSON results:
#   reach N / 99%: end of the first 1-second interval whose `in_flight` is ≥ N (≥ 99% of N), run clock;
#   peak in flight, finished and failed requests (failures by error class below the table),
#   p50 ITL and its distance from the server's ITL, generator saturation (the run's self-check).
# Sampled every 0.5 s: the client's peak RSS and CPU %; the mock's CPU seconds and RSS at the end of the
# step (a fresh mock each step).
# The fd limit is raised to FD_LIMIT (root can raise the hard limit too) before either process starts.
#
#   scripts/bench/capacity.sh [users...]     default: 10000 20000
#   env: ITL_MS=1000 TTFT_MS=1000 TOKENS=30 SPAWN_RATE=2000 RUN_TIME=40 FD_LIMIT=65536, and common.sh's
#   (SCRATCH, NO_BUILD=1). Goal (issue 11): 10,000 reached within 6 s at 2,000/s, RSS ≤ 1 GiB, ITL ±1%.
. "$(dirname "$0")/common.sh"
STEPS=("${@:-10000 20000}")
ITL_MS="${ITL_MS:-1000}"; TTFT_MS="${TTFT_MS:-1000}"; TOKENS="${TOKENS:-30}"
SPAWN_RATE="${SPAWN_RATE:-2000}"; RUN_TIME="${RUN_TIME:-40}"; FD_LIMIT="${FD_LIMIT:-65536}"
build
ulimit -n "$FD_LIMIT" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "capacity: fd limit $(ulimit -n), mock TTFT ${TTFT_MS} ms ITL ${ITL_MS} ms, $TOKENS tokens, spawn ${SPAWN_RATE}/s, ${RUN_TIME}s per step; $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
printf "%7s %8s %8s %9s %9s %7s %9s %8s %8s %7s %6s %10s %9s\n" users "reach N" "reach 99%" "peak fly" finished errors "p50 ITL" "vs ITL" "RSS MiB" "CPU %" "satur." "mock CPU s" "mock MiB"
for users in ${STEPS[@]}; do
  start_mock --ttft-ms "$TTFT_MS" --itl-ms "$ITL_MS"     # a fresh mock per step: no step inherits another's state
  m0=$(cpu_seconds "$MOCK_PID")
  "$BIN" run --target "$MOCK_URL" --users "$users" --spawn-rate "$SPAWN_RATE" \
    --run-time "${RUN_TIME}s" --mean-input-tokens 50 --stddev-input-tokens 0 --mean-output-tokens "$TOKENS" \
    --stddev-output-tokens 0 --quiet --max-error-rate 1 --json "$OUT/cap-$users.json" \
    > "$OUT/cap-$users.txt" 2> "$OUT/cap-$users.err" &
  pid=$!
  PIDS+=("$pid")
  (timeout $((RUN_TIME + 120)) tail --pid="$pid" -f /dev/null || kill -9 "$pid" 2>/dev/null) &  # bound: run time + 2 min
  watchdog=$!
  watch_pid "$pid"
  wait "$watchdog" 2>/dev/null || true
  mock_cpu=$(python3 -c "print(f'{$(cpu_seconds "$MOCK_PID") - $m0:.1f}')")
  mock_mib=$(python3 -c "print(f'{$(rss_kib "$MOCK_PID")/1024:.0f}')")
  kill -9 "$MOCK_PID" 2>/dev/null; wait "$MOCK_PID" 2>/dev/null || true
  if ! [ -s "$OUT/cap-$users.json" ]; then
    echo "$users users: no JSON results; stderr tail:" >&2; tail -5 "$OUT/cap-$users.err" >&2; continue
  fi
  python3 - "$OUT/cap-$users.json" "$users" "$ITL_MS" "$PEAK_MIB" "$CPU_PCT" "$mock_cpu" "$mock_mib" <<'PY'
import json, sys
path, n, itl_ms, rss, cpu, mock_cpu, mock_mib = sys.argv[1:]
n, itl_ms = int(n), float(itl_ms)
r = json.load(open(path))
ts, o = r["time_series"], r["overall"]
def reach(k):
    hit = next((p for p in ts if p["in_flight"] >= k), None)
    return f"{hit['start_seconds'] + 1:.0f} s" if hit else "never"
peak = max((p["in_flight"] for p in ts), default=0)
itl = (o["latency"].get("itl") or {}).get("p50")
itl_s = f"{itl * 1000:.1f}ms" if itl else "-"
dev = f"{(itl * 1000 / itl_ms - 1) * 100:+.2f}%" if itl else "-"
gen = r.get("generator") or {}
sat = "yes" if gen.get("saturated") else ("no" if gen else "-")
print(f"{n:7d} {reach(n):>8} {reach(int(n * 0.99)):>8} {peak:9d} {o['requests_finished']:9d} {o['requests_failed']:7d} "
      f"{itl_s:>9} {dev:>8} {float(rss):8.1f} {cpu:>7} {sat:>6} {mock_cpu:>10} {mock_mib:>9}")
if o["errors_by_class"]:
    msgs = o.get("last_error_messages") or {}
    for k, v in sorted(o["errors_by_class"].items(), key=lambda kv: -kv[1]):
        print(f"        {v} {k}: {msgs.get(k, '')[:160]}")
PY
done
