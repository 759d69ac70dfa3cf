#!/usr/bin/env bash
# Coordinator cost: 200 simulated workers (scripts/bench/fake_workers.py) each send one stats delta
# per second for 2 minutes; the coordinator's CPU % (of one core) and RSS are sampled every second.
#
#   scripts/bench/coordinator-load.sh [workers] [seconds]
. "$(dirname "$0")/common.sh"
WORKERS="${1:-200}"
SECONDS_RUN="${2:-120}"
PORT="${PORT:-25557}"
build
ulimit -n 65536 2>/dev/null || true
STAMPEDE_TOKEN=bench-token "$BIN" coordinator --bind "127.0.0.1:$PORT" --expect-workers "$WORKERS" --max-workers "$((WORKERS + 10))" \
  --target http://127.0.0.1:9 --users "$WORKERS" --spawn-rate 1000 --run-time "${SECONDS_RUN}s" --quiet --max-error-rate 1 \
  --json "$OUT/coordinator.json" > "$OUT/coordinator.txt" 2> "$OUT/coordinator.err" &
COORD=$!
PIDS+=("$COORD")
sleep 1
python3 "$(dirname "$0")/fake_workers.py" 127.0.0.1 "$PORT" "$WORKERS" --token bench-token > "$OUT/fake.txt" 2>&1 &
PIDS+=("$!")
# Wait until the run starts (all workers joined), then sample.
for _ in $(seq 200); do grep -q "waiting for" "$OUT/coordinator.err" && break; sleep 0.1; done
sleep 3
samples="$OUT/samples.txt"; : > "$samples"
prev_cpu=$(cpu_seconds "$COORD"); prev_t=$(date +%s.%N)
while kill -0 "$COORD" 2>/dev/null; do
  sleep 1
  cpu=$(cpu_seconds "$COORD" 2>/dev/null) || break
  t=$(date +%s.%N)
  echo "$(python3 -c "print(($cpu-$prev_cpu)/($t-$prev_t)*100)") $(rss_kib "$COORD" 2>/dev/null || echo 0)" >> "$samples"
  prev_cpu=$cpu; prev_t=$t
done
wait "$COORD" || true
cat "$OUT/fake.txt"
python3 - "$samples" "$OUT/coordinator.json" "$WORKERS" <<'PY'
import json, sys
rows = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
rows = rows[:-1] if len(rows) > 2 else rows   # the last sample straddles shutdown
cpu = sorted(r[0] for r in rows); rss = [r[1] for r in rows]
report = json.load(open(sys.argv[2]))
print(f"coordinator with {sys.argv[3]} simulated workers, {len(rows)} one-second samples:")
print(f"  CPU % of one core: mean {sum(cpu)/len(cpu):.1f}, p50 {cpu[len(cpu)//2]:.1f}, max {cpu[-1]:.1f}")
print(f"  RSS MiB: start {rss[0]/1024:.1f}, end {rss[-1]/1024:.1f}, max {max(rss)/1024:.1f}")
print(f"  merged requests: {report['overall']['requests_finished']}, workers in report: {len(report['workers'])}")
PY
