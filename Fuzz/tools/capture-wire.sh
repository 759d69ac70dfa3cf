#!/usr/bin/env bash
# Captures real cluster-wire lines for the FuzzWire seed corpus (docs/fuzzing.md): a mock target, a
# coordinator and a worker on loopback, with Fuzz/tools/line_proxy.py between worker and coordinator.
# Writes every line as JSON to OUT (default /tmp/stampede-wire-capture.jsonl). Loopback only.
# usage: Fuzz/tools/capture-wire.sh [--bin PATH] [--out FILE]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/.build/debug/stampede
OUT=/tmp/stampede-wire-capture.jsonl
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: capture-wire.sh [--bin PATH] [--out FILE]" >&2; exit 2 ;;
  esac
done
. "$ROOT/scripts/lib/processes.sh"
TMP=$(mktemp -d /tmp/stampede-capture.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; [ -n "${KEEP_TMP:-}" ] || rm -rf "$TMP"; }
trap cleanup EXIT
: >"$OUT"

"$BIN" mock --host 127.0.0.1 --port 0 --ttft-ms 30 --itl-ms 5 --error-rate-500 0.1 --error-rate-429 0.05 \
  --abort-rate 0.05 --stream-error-rate 0.05 --reasoning-tokens 2 >"$TMP/mock.log" 2>&1 &
PIDS+=($!)
wait_for "$TMP/mock.log" "listening on " 30 "${PIDS[-1]}"
TARGET=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/mock.log" | head -1)

# run NAME TOKEN COORDINATOR-FLAGS...: one coordinator and one worker through the proxy.
run() {
  local name=$1 token=$2; shift 2
  local envs=()
  [ -n "$token" ] && envs=(STAMPEDE_TOKEN="$token")
  env "${envs[@]}" "$BIN" coordinator --bind 127.0.0.1:0 --expect-workers 1 --expect-workers-timeout 30s \
    --target "$TARGET" --quiet "$@" >"$TMP/$name.report" 2>"$TMP/$name.coord.log" &
  local coord=$!
  PIDS+=($coord)
  wait_for "$TMP/$name.coord.log" "listening on " 30 "$coord"
  local port proxy_port=$((20000 + RANDOM % 20000))
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/$name.coord.log" | head -1)
  python3 "$ROOT/Fuzz/tools/line_proxy.py" "$proxy_port" "$port" "$TMP/$name.jsonl" >"$TMP/$name.proxy.log" 2>&1 &
  local proxy=$!
  PIDS+=($proxy)
  wait_for "$TMP/$name.proxy.log" "proxy listening" 10 "$proxy"
  env "${envs[@]}" "$BIN" worker --coordinator "127.0.0.1:$proxy_port" --name w1 --max-connect-attempts 5 >"$TMP/$name.worker.log" 2>&1 &
  PIDS+=($!)
  wait "$coord" || echo "capture-wire: $name coordinator exited $?" >&2
  sleep 0.5
  kill "$proxy" 2>/dev/null || true
  python3 -c 'import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); d["run"]=sys.argv[2]; print(json.dumps(d))' "$TMP/$name.jsonl" "$name" >>"$OUT"
  echo "capture-wire: $name: $(wc -l <"$TMP/$name.jsonl") lines" >&2
}

run token-stages s3cret-token --api chat --stages 1u:2s,3u:2s --correctness --requests-jsonl "$TMP/records.jsonl" \
  --mean-output-tokens 20 --heartbeat-interval 500ms
run open-loop "" --api completions --rate 20 --arrival gamma --burstiness 0.5 --max-concurrency 8 --run-time 3s \
  --requests-jsonl "$TMP/records2.jsonl" --mean-output-tokens 10
run tgi s3cret-token --api tgi --users 2 --max-requests 30 --mean-output-tokens 8
echo "capture-wire: wrote $(wc -l <"$OUT") lines to $OUT" >&2
