#!/usr/bin/env bash
# Client cost: CPU-seconds the load generator spends per 1,000 streamed chunks and per completed
# request, against `stampede mock` in fixed-delay mode with ITL 0 (the server streams as fast as it
# can, so the client's work dominates). The mock runs in its own process; only the `stampede run`
# process (coordinator + in-process worker + client) is measured, with GNU time.
#
#   scripts/bench/client-cost.sh [users] [requests] [output-tokens]
. "$(dirname "$0")/common.sh"
USERS="${1:-16}"
REQUESTS="${2:-3000}"
TOKENS="${3:-200}"
build
start_mock --ttft-ms 0 --itl-ms 0
/usr/bin/time -f "%U %S %M" -o "$OUT/time.txt" \
  "$BIN" run --target "$MOCK_URL" --users "$USERS" --spawn-rate 1000 --max-requests "$REQUESTS" \
  --mean-input-tokens 100 --stddev-input-tokens 0 --mean-output-tokens "$TOKENS" --stddev-output-tokens 0 \
  --quiet --json "$OUT/run.json" > "$OUT/report.txt"
read -r user sys maxrss < "$OUT/time.txt"
chunks=$(json_get "$OUT/run.json" "['overall']['output_tokens_total']")
completed=$(json_get "$OUT/run.json" "['overall']['requests_succeeded']")
duration=$(json_get "$OUT/run.json" "['duration_seconds']")
python3 - "$user" "$sys" "$chunks" "$completed" "$duration" "$maxrss" "$CONFIG" <<'PY'
import sys
user, sys_, chunks, completed, duration, maxrss, config = sys.argv[1:]
cpu = float(user) + float(sys_)
chunks, completed = int(float(chunks)), int(float(completed))
print(f"client-cost ({config} build): {completed} requests, {chunks} chunks in {float(duration):.1f} s")
print(f"  CPU {cpu:.2f} s (user {float(user):.2f} + sys {float(sys_):.2f}), peak RSS {int(maxrss)/1024:.1f} MiB")
print(f"  CPU-seconds per 1,000 chunks:      {cpu / chunks * 1000:.4f}")
print(f"  CPU-milliseconds per request:      {cpu / completed * 1000:.3f}")
print(f"  chunks/s streamed:                 {chunks / float(duration):.0f}")
PY
