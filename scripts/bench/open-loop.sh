#!/usr/bin/env bash
# Open-loop precision: how closely one `stampede run` process keeps a requested arrival rate, and
# how late it sends. The mock (fixed delays: TTFT 20 ms, ITL 5 ms, 20 output tokens, so ~120 ms
# per request) runs in its own process. Each step offers R req/s (constant arrivals) for 20 s;
# the report's achieved rate, schedule lag (actual - scheduled send) and the generator's CPU show
# where the client itself, not the server, becomes the limit.
#
#   scripts/bench/open-loop.sh [rates...]        default: 100 500 1000 2000
. "$(dirname "$0")/common.sh"
STEPS=("${@:-100 500 1000 2000}")
build
start_mock --ttft-ms 20 --itl-ms 5
ulimit -n 65536 2>/dev/null || true
printf "%10s %12s %10s %8s %12s %12s %10s %8s\n" "rate" "achieved" "finished" errors "lag p50" "lag p99" "RSS MiB" "CPU %"
for rate in ${STEPS[@]}; do
  "$BIN" run --target "$MOCK_URL" --rate "$rate" --arrival constant --run-time 20s \
    --mean-input-tokens 50 --stddev-input-tokens 0 --mean-output-tokens 20 --stddev-output-tokens 0 \
    --quiet --max-error-rate 1 --json "$OUT/open-$rate.json" > "$OUT/open-$rate.txt" &
  pid=$!
  PIDS+=("$pid")
  watch_pid "$pid"
  achieved=$(json_get "$OUT/open-$rate.json" "['open_loop']['achieved_rate']")
  done_=$(json_get "$OUT/open-$rate.json" "['overall']['requests_finished']")
  errs=$(json_get "$OUT/open-$rate.json" "['overall']['requests_failed']")
  lag50=$(json_get "$OUT/open-$rate.json" "['open_loop']['schedule_lag_p50_seconds']")
  lag99=$(json_get "$OUT/open-$rate.json" "['open_loop']['schedule_lag_p99_seconds']")
  printf "%10s %12.1f %10s %8s %10.2fms %10.2fms %10.1f %8s\n" "$rate" "$achieved" "$done_" "$errs" \
    "$(python3 -c "print($lag50*1000)")" "$(python3 -c "print($lag99*1000)")" "$PEAK_MIB" "$CPU_PCT"
done
