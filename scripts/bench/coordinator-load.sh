#!/usr/bin/env bash
# Coordinator cost: 200 simulated workers (scripts/bench/fake_workers.py) each send one stats delta
# per second for 2 minutes; the coordinator's CPU % (of one core) and RSS are sampled every second.
#
#   scripts/bench/coordinator-load.sh [--web] [workers] [seconds]
#
# --web: measures twice, without and then with the dashboard (`--web 127.0.0.1:0`, charts drawn every
# second) and 10 browsers' event streams connected (curl -N on /events), and prints both figures and
# their ratio (the goal: within 1.5x).
. "$(dirname "$0")/common.sh"
WEB=0
if [ "${1:-}" = "--web" ]; then WEB=1; shift; fi
WORKERS="${1:-200}"
SECONDS_RUN="${2:-120}"
PORT="${PORT:-25557}"
STREAMS="${STREAMS:-10}"
build
mkdir -p "$OUT"
ulimit -n 65536 2>/dev/null || true

# measure NAME [coordinator flags...]: one run; prints its figures and leaves the mean CPU % in $OUT/NAME.cpu.
measure() {
  local name=$1; shift
  local err="$OUT/$name.err"
  STAMPEDE_TOKEN=bench-token "$BIN" coordinator --bind "127.0.0.1:$PORT" --expect-workers "$WORKERS" --max-workers "$((WORKERS + 10))" \
    --target http://127.0.0.1:9 --users "$WORKERS" --spawn-rate 1000 --run-time "${SECONDS_RUN}s" --quiet --max-error-rate 1 \
    --json "$OUT/$name.json" "$@" > "$OUT/$name.txt" 2> "$err" &
  local coord=$!
  PIDS+=("$coord")
  sleep 1
  python3 "$(dirname "$0")/fake_workers.py" 127.0.0.1 "$PORT" "$WORKERS" --token bench-token > "$OUT/$name.fake.txt" 2>&1 &
  PIDS+=("$!")
  local streams=()
  if grep -q "dashboard at" "$err" 2>/dev/null || [ "$#" -gt 0 ]; then
    for _ in $(seq 100); do grep -q "dashboard at" "$err" && break; sleep 0.1; done
    local url; url=$(grep -o 'dashboard at http://[^ ]*' "$err" | head -1 | sed 's/dashboard at //; s#/$##')
    for _ in $(seq "$STREAMS"); do
      curl -sN "$url/events" > /dev/null 2>&1 &
      streams+=("$!"); PIDS+=("$!")
    done
    echo "$name: $STREAMS event streams on $url/events"
  fi
  # Wait until the run starts (all workers joined), then sample.
  for _ in $(seq 200); do grep -q "waiting for" "$err" && break; sleep 0.1; done
  sleep 3
  local samples="$OUT/$name.samples"; : > "$samples"
  local prev_cpu prev_t cpu t
  prev_cpu=$(cpu_seconds "$coord"); prev_t=$(date +%s.%N)
  while kill -0 "$coord" 2>/dev/null; do
    sleep 1
    cpu=$(cpu_seconds "$coord" 2>/dev/null) || break
    t=$(date +%s.%N)
    echo "$(python3 -c "print(($cpu-$prev_cpu)/($t-$prev_t)*100)") $(rss_kib "$coord" 2>/dev/null || echo 0)" >> "$samples"
    prev_cpu=$cpu; prev_t=$t
  done
  wait "$coord" || true
  for pid in "${streams[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
  cat "$OUT/$name.fake.txt"
  python3 - "$samples" "$OUT/$name.json" "$WORKERS" "$name" "$OUT/$name.cpu" <<'PY'
import json, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
rows = rows[:-1] if len(rows) > 2 else rows   # the last sample straddles shutdown
cpu = sorted(r[0] for r in rows); rss = [r[1] for r in rows]
report = json.load(open(sys.argv[2]))
print(f"{sys.argv[4]}: coordinator with {sys.argv[3]} simulated workers, {len(rows)} one-second samples:")
print(f"  CPU % of one core: mean {sum(cpu)/len(cpu):.1f}, p50 {cpu[len(cpu)//2]:.1f}, max {cpu[-1]:.1f}")
print(f"  RSS MiB: start {rss[0]/1024:.1f}, end {rss[-1]/1024:.1f}, max {max(rss)/1024:.1f}")
print(f"  merged requests: {report['overall']['requests_finished']}, workers in report: {len(report['workers'])}")
open(sys.argv[5], "w").write(f"{sum(cpu)/len(cpu):.2f}")
PY
}

measure plain
if [ "$WEB" = 1 ]; then
  measure web --web 127.0.0.1:0 --web-linger 0s
  python3 - "$(cat "$OUT/plain.cpu")" "$(cat "$OUT/web.cpu")" "$STREAMS" <<'PY'
import sys
plain, web, streams = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
print(f"coordinator CPU: {plain:.1f} % without the dashboard, {web:.1f} % with it and {streams} event streams: "
      f"{web / max(plain, 1e-9):.2f}x (goal: within 1.5x)")
PY
fi
