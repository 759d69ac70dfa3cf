#!/usr/bin/env bash
# Captures real streamed replies of `stampede mock` for the FuzzSSE seed corpus (docs/fuzzing.md):
# each dialect's path with curl -N, with and without faults. Writes raw bodies to OUT_DIR
# (default /tmp/stampede-sse-capture). Loopback only.
# usage: Fuzz/tools/capture-sse.sh [--bin PATH] [--out DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/.build/debug/stampede
OUT=/tmp/stampede-sse-capture
while [ $# -gt 0 ]; do
  case $1 in
    --bin) BIN=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "usage: capture-sse.sh [--bin PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
. "$ROOT/scripts/lib/processes.sh"
TMP=$(mktemp -d /tmp/stampede-capture.XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT
mkdir -p "$OUT"

# mock NAME FLAGS...: starts a mock, sets URL.
mock() {
  local name=$1; shift
  "$BIN" mock --host 127.0.0.1 --port 0 --ttft-ms 5 --itl-ms 1 "$@" >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
  wait_for "$TMP/$name.log" "listening on " 30 "${PIDS[-1]}"
  URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/$name.log" | head -1)
}
# get FILE PATH BODY: one streamed reply, body only (headers go to FILE.head).
get() {
  curl -sS -N --max-time 20 -D "$OUT/$1.head" -H 'content-type: application/json' -d "$3" "$URL$2" -o "$OUT/$1" || true
}
chat='{"model":"m","messages":[{"role":"user","content":"Say something about the sea"}],"max_tokens":12,"stream":true,"stream_options":{"include_usage":true}}'
comp='{"model":"m","prompt":"Once upon a time","max_tokens":12,"stream":true,"stream_options":{"include_usage":true}}'
tgi='{"inputs":"Once upon a time","parameters":{"max_new_tokens":12,"details":true}}'

mock plain --reasoning-tokens 3
get chat /v1/chat/completions "$chat"
get completions /v1/completions "$comp"
get tgi /generate_stream "$tgi"
get chat-nostream /v1/chat/completions '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":3}'

mock streamerr --stream-error-rate 1
get chat-stream-error /v1/chat/completions "$chat"
get completions-stream-error /v1/completions "$comp"
get tgi-stream-error /generate_stream "$tgi"

mock abort --abort-rate 1
get chat-abort /v1/chat/completions "$chat"
get tgi-abort /generate_stream "$tgi"

mock e500 --error-rate-500 1
get chat-500 /v1/chat/completions "$chat"
mock e429 --error-rate-429 1
get tgi-429 /generate_stream "$tgi"
ls -l "$OUT" >&2
