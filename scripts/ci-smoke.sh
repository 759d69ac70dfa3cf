#!/usr/bin/env bash
# CI smoke test with one worker: a static release build, `stampede mock` on loopback, a coordinator with
# --expect-workers 1 and one worker, a 15-second run gated on the error rate (SLO style).
#
#   scripts/ci-smoke.sh                                  # build (release), mock, 15 s, gate 1 %
#   SCRATCH=.build-release scripts/ci-smoke.sh           # reuse another build folder
#   scripts/ci-smoke.sh --bin /usr/local/bin/stampede    # reuse a prebuilt binary, no build
#   OPENAI_API_KEY=... scripts/ci-smoke.sh --target https://llm.example.com --model my-model
#
# Exit: 0 pass; 1 the gate failed (error rate above --max-error-rate, or no request finished);
# 2 bad usage or the run could not start. The report is printed every time; on failure the
# processes' logs follow it. A trap ends every process the script started.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/ci-smoke.sh [options] [-- extra coordinator flags]

Options:
  --bin PATH              use this stampede binary instead of building one
                          (env STAMPEDE_BIN does the same)
  --target URL            benchmark this endpoint instead of a local `stampede mock`
  --model NAME            model name sent to the target (default: stampede-mock)
  --api DIALECT           chat, completions or tgi (default chat)
  --api-key-env NAME      variable holding the target's API key (default OPENAI_API_KEY)
  --run-time DURATION     length of the run (default 15s)
  --users N               users (default 4)
  --max-error-rate F      the gate: highest share of failed requests, 0-1 (default 0.01)
  --json PATH             also keep the JSON report at PATH
  -h, --help              this help

Environment: SCRATCH=DIR builds with `swift build --scratch-path DIR` (default .build).
Extra flags after `--` go to `stampede coordinator` (e.g. -- --mean-output-tokens 50).
EOF
}
die_usage() { echo "ci-smoke: $*" >&2; echo "Usage: scripts/ci-smoke.sh [options] [-- extra coordinator flags]" >&2; echo "Try 'scripts/ci-smoke.sh --help'." >&2; exit 2; }
log() { echo "ci-smoke: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${STAMPEDE_BIN:-}
TARGET=
MODEL=
API=chat
API_KEY_ENV=OPENAI_API_KEY
RUN_TIME=15s
USERS=4
MAX_ERROR_RATE=0.01
JSON=
EXTRA=()
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die_usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) need_value "$@"; BIN=$2; shift 2 ;;
    --target) need_value "$@"; TARGET=$2; shift 2 ;;
    --model) need_value "$@"; MODEL=$2; shift 2 ;;
    --api) need_value "$@"; API=$2; shift 2 ;;
    --api-key-env) need_value "$@"; API_KEY_ENV=$2; shift 2 ;;
    --run-time) need_value "$@"; RUN_TIME=$2; shift 2 ;;
    --users) need_value "$@"; USERS=$2; shift 2 ;;
    --max-error-rate) need_value "$@"; MAX_ERROR_RATE=$2; shift 2 ;;
    --json) need_value "$@"; JSON=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done

seconds_of() {   # 500ms, 15s, 2m, 1h30m -> whole seconds (rounded up); empty if invalid
  local rest=$1 total=0 n unit
  while [ -n "$rest" ]; do
    [[ $rest =~ ^([0-9]+)(ms|s|m|h)(.*)$ ]] || return 0
    n=${BASH_REMATCH[1]}; unit=${BASH_REMATCH[2]}; rest=${BASH_REMATCH[3]}
    case $unit in ms) total=$((total + (n + 999) / 1000)) ;; s) total=$((total + n)) ;;
                  m) total=$((total + n * 60)) ;; h) total=$((total + n * 3600)) ;; esac
  done
  echo "$total"
}
RUN_S=$(seconds_of "$RUN_TIME"); [ -n "$RUN_S" ] && [ "$RUN_S" -ge 1 ] || die_usage "--run-time: '$RUN_TIME' is not a duration like 15s or 2m"
[[ $USERS =~ ^[0-9]+$ ]] && [ "$USERS" -ge 1 ] || die_usage "--users must be a positive integer (got '$USERS')"
[[ $MAX_ERROR_RATE =~ ^(0(\.[0-9]+)?|1(\.0+)?|\.[0-9]+)$ ]] || die_usage "--max-error-rate must be a fraction 0-1 (got '$MAX_ERROR_RATE')"
case $API in chat|completions|tgi) ;; *) die_usage "--api must be chat, completions or tgi (got '$API')" ;; esac
if [ -n "$TARGET" ]; then [[ $TARGET =~ ^https?://[^[:space:]]+$ ]] || die_usage "--target must be an http(s) URL (got '$TARGET')"; fi

# --- the binary ------------------------------------------------------------------------------
if [ -z "$BIN" ]; then
  SCRATCH_ARGS=()
  [ -n "${SCRATCH:-}" ] && SCRATCH_ARGS=(--scratch-path "$SCRATCH")
  # --static-swift-stdlib: the same build as CI's (.ci/run) and the image's, so a shared SCRATCH is reused.
  log "building: swift build -c release --product stampede --static-swift-stdlib ${SCRATCH_ARGS[*]}"
  start_build=$SECONDS
  (cd "$ROOT" && swift build -c release --product stampede --static-swift-stdlib "${SCRATCH_ARGS[@]}" >&2) || { log "release build failed"; exit 2; }
  BIN=$(cd "$ROOT" && swift build -c release --static-swift-stdlib "${SCRATCH_ARGS[@]}" --show-bin-path)/stampede
  log "built $BIN in $((SECONDS - start_build)) s"
fi
[ -x "$BIN" ] || die_usage "--bin: '$BIN' is not an executable"

# --- the run ---------------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/stampede-ci-smoke.XXXXXX)
PIDS=()
cleanup() {
  local rc=$? pid alive
  trap - EXIT INT TERM HUP
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 30); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# shellcheck source=scripts/lib/processes.sh
. "$ROOT/scripts/lib/processes.sh"
show_logs() { show_logs_in "$TMP" 40; }
# As root (CI), every process runs as nobody (uid 65534), the way users run it: a call that needs
# privilege fails here too.
as_nobody "$BIN" "$TMP" || { log "setpriv (util-linux) is missing"; exit 2; }
BIN=$STAMPEDE
[ ${#RUN_AS[@]} -gt 0 ] && log "processes run as uid 65534 (setpriv)"

if [ -z "$TARGET" ]; then
  "${RUN_AS[@]}" "$BIN" mock --host 127.0.0.1 --port 0 --ttft-ms 50 --itl-ms 10 >"$TMP/mock.log" 2>&1 &
  PIDS+=($!)
  wait_for "$TMP/mock.log" "listening on " 30 "${PIDS[-1]}" || { log "the mock did not start"; show_logs; exit 2; }
  TARGET=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$TMP/mock.log" | head -1)
  MODEL=${MODEL:-stampede-mock}
fi

JSON_OUT=$TMP/out/report.json
[ -z "$JSON" ] || mkdir -p "$(dirname "$JSON")"
MODEL_ARGS=()
[ -n "$MODEL" ] && MODEL_ARGS=(--model "$MODEL")
# Port 0: the coordinator picks a free loopback port and names it in its log.
timeout --signal=INT --kill-after=15 $((RUN_S + 120)) \
  "${RUN_AS[@]}" "$BIN" coordinator --bind 127.0.0.1:0 --expect-workers 1 --expect-workers-timeout 30s \
  --target "$TARGET" --api "$API" "${MODEL_ARGS[@]}" --api-key-env "$API_KEY_ENV" \
  --users "$USERS" --spawn-rate "$USERS" --run-time "$RUN_TIME" --max-error-rate "$MAX_ERROR_RATE" \
  --json "$JSON_OUT" --quiet "${EXTRA[@]}" >"$TMP/report.txt" 2>"$TMP/coordinator.log" &
COORD=$!
PIDS+=("$COORD")
if ! wait_for "$TMP/coordinator.log" "listening on " 30 "$COORD"; then
  log "the coordinator did not start"; cat "$TMP/report.txt"; show_logs
  rc=0; wait "$COORD" || rc=$?; [ "$rc" = 0 ] && rc=2; exit "$rc"
fi
PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/coordinator.log" | head -1)
"${RUN_AS[@]}" "$BIN" worker --coordinator "127.0.0.1:$PORT" --name ci-smoke-w1 --max-connect-attempts 5 >"$TMP/worker.log" 2>&1 &
PIDS+=($!)
log "running: 1 worker, $USERS users, $RUN_TIME against $TARGET, gate: error rate <= $MAX_ERROR_RATE"

rc=0
wait "$COORD" || rc=$?
cat "$TMP/report.txt"
[ -n "$JSON" ] && [ -f "$JSON_OUT" ] && cp "$JSON_OUT" "$JSON"
[ "$rc" = 124 ] && log "the coordinator ran past its time limit and was stopped"

# A run in which nothing finished is no pass.
if [ "$rc" = 0 ]; then
  finished=$(grep -o '"requests_finished" *: *[0-9]*' "$JSON_OUT" | head -1 | grep -o '[0-9]*$' || true)
  if [ -z "$finished" ] || [ "$finished" = 0 ]; then
    log "no request finished"; rc=1
  fi
fi

if [ "$rc" = 0 ]; then
  log "PASS: $finished requests, error rate within $MAX_ERROR_RATE"
else
  log "FAIL (exit $rc)"
  show_logs
fi
[ -n "$JSON" ] && log "wrote $JSON"
exit "$rc"
