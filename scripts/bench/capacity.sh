#!/usr/bin/env bash
# Capacity: how many concurrent streams one `stampede run` process holds with ITL 100 ms, and its
# RSS. The mock (fixed delays: TTFT 100 ms, ITL 100 ms) runs in its own process. Each step holds
# N users for a fixed time; the peak of requests in flight (from the 1-second time series) shows
# whether all N streams were open at once, and the error count whether any failed.
#
#   scripts/bench/capacity.sh [users...]        default: 250 500 1000 2000
. "$(dirname "$0")/common.sh"
STEPS=("${@:-250 500 1000 2000}")
build
start_mock --ttft-ms 100 --itl-ms 100
ulimit -n 65536 2>/dev/null || true
printf "%8s %12s %10s %10s %10s %12s %10s\n" users "peak streams" finished errors "p50 ITL" "RSS MiB" "CPU %"
for users in ${STEPS[@]}; do
  "$BIN" run --target "$MOCK_URL" --users "$users" --spawn-rate "$users" --run-time 20s \
    --mean-input-tokens 50 --stddev-input-tokens 0 --mean-output-tokens 50 --stddev-output-tokens 0 \
    --quiet --max-error-rate 1 --json "$OUT/cap-$users.json" > "$OUT/cap-$users.txt" &
  pid=$!
  PIDS+=("$pid")
  watch_pid "$pid"
  conc=$(json_get "$OUT/cap-$users.json" "['time_series']" | python3 -c "import sys,ast; print(max(p['in_flight'] for p in ast.literal_eval(sys.stdin.read())))")
  done_=$(json_get "$OUT/cap-$users.json" "['overall']['requests_finished']")
  errs=$(json_get "$OUT/cap-$users.json" "['overall']['requests_failed']")
  itl=$(json_get "$OUT/cap-$users.json" "['overall']['latency']['itl']['p50']")
  printf "%8s %12s %10s %10s %9.1fms %12.1f %10s\n" "$users" "$conc" "$done_" "$errs" "$(python3 -c "print($itl*1000)")" "$PEAK_MIB" "$CPU_PCT"
done
