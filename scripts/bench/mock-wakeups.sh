#!/usr/bin/env bash
# The mock's idle cost: CPU-seconds and context switches (a proxy for wake-ups) of a `stampede mock`
# process serving many slow streams (fixed timing, ITL 1 s by default), over a window once every stream
# is open. A `stampede run` with one user per stream holds them open; only the mock process is measured.
#
#   scripts/bench/mock-wakeups.sh [streams] [itl-ms] [window-s]
#
# MOCK_BIN=path: measure another build's mock (e.g. one built before a change); CLIENT_BIN=path: the client binary.
. "$(dirname "$0")/common.sh"
STREAMS="${1:-2000}"
ITL_MS="${2:-1000}"
WINDOW="${3:-20}"
build
CLIENT_BIN="${CLIENT_BIN:-$BIN}"
BIN="${MOCK_BIN:-$BIN}"
ulimit -n "$(ulimit -Hn)"
start_mock --ttft-ms 0 --itl-ms "$ITL_MS"
# Each request asks for far more tokens than the run lasts, so no stream ends inside the window.
"$CLIENT_BIN" run --target "$MOCK_URL" --users "$STREAMS" --spawn-rate 1000 --run-time "$((WINDOW + 30))s" \
  --mean-input-tokens 20 --stddev-input-tokens 0 --mean-output-tokens 100000 --stddev-output-tokens 0 \
  --quiet > "$OUT/report.txt" 2> "$OUT/run.err" &
PIDS+=("$!")
for _ in $(seq 120); do
  active=$(curl -s "$MOCK_URL/stats" | python3 -c "import json,sys; d=json.load(sys.stdin); print(d.get('activeStreams', d.get('active_streams', 0)))" 2>/dev/null || echo 0)
  [ "${active:-0}" -ge "$STREAMS" ] && break
  sleep 0.5
done
sleep 2
switches() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n }'; }
c0=$(cpu_seconds "$MOCK_PID"); s0=$(switches "$MOCK_PID"); t0=$(date +%s.%N)
sleep "$WINDOW"
c1=$(cpu_seconds "$MOCK_PID"); s1=$(switches "$MOCK_PID"); t1=$(date +%s.%N)
active=$(curl -s "$MOCK_URL/stats")
python3 - "$c0" "$c1" "$s0" "$s1" "$t0" "$t1" "$STREAMS" "$ITL_MS" "$active" <<'PY'
import json, sys
c0, c1, s0, s1, t0, t1 = map(float, sys.argv[1:7])
streams, itl, stats = int(sys.argv[7]), int(sys.argv[8]), sys.argv[9]
wall = t1 - t0
print(f"mock-wakeups: {streams} streams at ITL {itl} ms, {wall:.1f} s window; mock /stats: {stats}")
print(f"  CPU {c1 - c0:.2f} s ({(c1 - c0) / wall * 100:.1f}% of one core)")
print(f"  context switches {int(s1 - s0)} ({(s1 - s0) / wall:.0f}/s; tokens due {streams * 1000 / itl:.0f}/s)")
PY
