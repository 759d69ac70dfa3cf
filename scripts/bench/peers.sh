#!/usr/bin/env bash
# Peers: client CPU per request of wrk, Locust FastHttpUser and `stampede run`, side by side on the
# same two loopback servers, in interleaved rounds (the client order rotates each round), medians.
#   servers: `stampede mock --ttft-ms 0 --itl-ms 0` (keep-alive) and scripts/bench/sse_server.py
#            (Python, new connection per response); both stream PEERS_TOKENS tokens, no delays.
#   clients: 8 connections, the same streaming POST /v1/chat/completions (max_tokens 150), each for
#            DURATION seconds (Stampede also capped at MAX_REQUESTS); every run under `timeout`.
# CPU per request = user+sys CPU of the client process (GNU time; it includes waited-for children)
# / requests it completed (wrk: its done() totals; Locust: --json-file; Stampede: --json).
# Installs wrk and Locust first (scripts/install-bench-deps.sh; BENCH_VENV picks the venv).
#
#   scripts/bench/peers.sh [rounds]     env: DURATION=20 USERS=8 PEERS_TOKENS=150 MAX_REQUESTS=200000
#                                            SCRATCH=... NO_BUILD=1 (see common.sh) BENCH_VENV=...
. "$(dirname "$0")/common.sh"
ROUNDS="${1:-3}"
DURATION="${DURATION:-20}"
USERS="${USERS:-8}"
export PEERS_TOKENS="${PEERS_TOKENS:-150}"
MAX_REQUESTS="${MAX_REQUESTS:-200000}"
BENCH_VENV="${BENCH_VENV:-$ROOT/.build-bench-venv}"
HERE="$ROOT/scripts/bench"
LIMIT=$((DURATION + 60))     # hard bound of one client run, seconds

BENCH_VENV="$BENCH_VENV" "$ROOT/scripts/install-bench-deps.sh" >&2
LOCUST="$BENCH_VENV/bin/locust"
build
start_mock --ttft-ms 0 --itl-ms 0
python3 "$HERE/sse_server.py" --tokens "$PEERS_TOKENS" > "$OUT/sse.out" 2> "$OUT/sse.err" &
SSE_PID=$!; PIDS+=("$SSE_PID")
for _ in $(seq 100); do grep -q "listening on" "$OUT/sse.out" 2>/dev/null && break; sleep 0.1; done
SSE_URL=$(grep -o 'http://[^ ]*' "$OUT/sse.out" | head -1)
[ -n "$SSE_URL" ] || { echo "sse_server did not start: $(cat "$OUT/sse.err")" >&2; exit 1; }
case "$MOCK_URL $SSE_URL" in *127.0.0.1*127.0.0.1*) ;; *) echo "targets must be loopback" >&2; exit 1 ;; esac
echo "peers: $ROUNDS rounds of ${DURATION}s per client, $USERS connections, $PEERS_TOKENS tokens; mock $MOCK_URL, sse $SSE_URL; load $(cut -d' ' -f1-3 /proc/loadavg); raw files in $OUT" >&2

RESULTS="$OUT/results.tsv"; : > "$RESULTS"
# timed NAME CMD... : runs CMD under GNU time and `timeout`; sets CPU (user+sys seconds).
timed() {
  local name=$1; shift
  /usr/bin/time -f "%U %S" -o "$OUT/$name.time" timeout -k 5 "$LIMIT" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || true
  CPU=$(awk '{ print $1 + $2 }' "$OUT/$name.time" | tail -1)
}

run_wrk() {   # server url tag
  timed "$3" wrk -t1 -c"$USERS" -d"${DURATION}s" --timeout 10s -s "$HERE/peers/wrk.lua" "$2"
  local line; line=$(grep '^wrk-summary' "$OUT/$3.out" || echo "wrk-summary requests=0 bytes=0 errors=-1")
  REQS=$(sed 's/.*requests=\([0-9]*\).*/\1/' <<<"$line")
  local bytes errors; bytes=$(sed 's/.*bytes=\([0-9]*\).*/\1/' <<<"$line"); errors=${line##*errors=}
  # wrk does not parse SSE: check its bytes per response against one raw response (chunk framing kept) by curl.
  local one; one=$(curl -s -i --raw -X POST -H 'Content-Type: application/json' "$2/v1/chat/completions" \
    -d "{\"model\":\"mock\",\"messages\":[{\"role\":\"user\",\"content\":\"word\"}],\"max_tokens\":$PEERS_TOKENS,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" | wc -c)
  CHECK=$(python3 -c "r=$REQS; b=$bytes/max(r,1); print(f'{b:.0f} B/response vs {$one} B by curl, errors $errors')")
}

run_locust() {
  rm -f "$OUT/$3.json"
  (cd "$OUT" && timed "$3" "$LOCUST" -f "$HERE/peers/locustfile.py" --headless -u "$USERS" -r "$USERS" \
    -t "${DURATION}s" --host "$2" --only-summary --loglevel WARNING --json-file "$OUT/$3" --exit-code-on-error 0)
  CPU=$(awk '{ print $1 + $2 }' "$OUT/$3.time" | tail -1)
  read -r REQS fails < <(python3 -c "import json; s=json.load(open('$OUT/$3.json')); print(sum(e['num_requests'] for e in s), sum(e['num_failures'] for e in s))" 2>/dev/null || echo "0 -1")
  REQS=$((REQS - fails))
  CHECK="$(grep -o 'locust-check:.*' "$OUT/$3.err" | head -1 | cut -d' ' -f2-), failures $fails"
}

run_stampede() {
  timed "$3" "$BIN" run --target "$2" --users "$USERS" --spawn-rate "$USERS" --run-time "${DURATION}s" \
    --max-requests "$MAX_REQUESTS" --mean-input-tokens 100 --stddev-input-tokens 0 \
    --mean-output-tokens "$PEERS_TOKENS" --stddev-output-tokens 0 --max-error-rate 1 --quiet --json "$OUT/$3.json"
  REQS=$(json_get "$OUT/$3.json" "['overall']['requests_succeeded']" 2>/dev/null || echo 0)
  local toks fails; toks=$(json_get "$OUT/$3.json" "['overall']['output_tokens_total']" 2>/dev/null || echo 0)
  fails=$(json_get "$OUT/$3.json" "['overall']['requests_failed']" 2>/dev/null || echo -1)
  CHECK=$(python3 -c "print(f'{$toks/max($REQS,1):.1f} output tokens/request, failures $fails')")
}

CLIENTS=(wrk locust stampede)
for round in $(seq "$ROUNDS"); do
  for server in sse mock; do
    url=$MOCK_URL; spid=$MOCK_PID
    [ "$server" = sse ] && { url=$SSE_URL; spid=$SSE_PID; }
    for i in 0 1 2; do
      client=${CLIENTS[$(( (i + round - 1) % 3 ))]}
      tag="r$round-$server-$client"
      s0=$(cpu_seconds "$spid")
      "run_$client" "$server" "$url" "$tag"
      s1=$(cpu_seconds "$spid")
      ms=$(python3 -c "print(f'{$CPU / max($REQS, 1) * 1000:.3f}')")
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$server" "$client" "$REQS" "$CPU" "$ms" >> "$RESULTS"
      printf '  round %s %-4s %-8s %7s requests  CPU %6.2f s  %s ms/request  server CPU %s ms/request  (%s; load %s)\n' \
        "$round" "$server" "$client" "$REQS" "$CPU" "$ms" \
        "$(python3 -c "print(f'{($s1-$s0)/max($REQS,1)*1000:.3f}')")" "$CHECK" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    done
  done
done

python3 - "$RESULTS" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs = {}
for rnd, server, client, reqs, cpu, ms in rows:
    runs.setdefault((server, client), []).append(float(ms) if int(reqs) > 0 else float("nan"))
names = {"sse": "Python SSE server (new connection per response)",
         "mock": "`stampede mock --ttft-ms 0 --itl-ms 0` (keep-alive)"}
clients = [("wrk", "wrk"), ("locust", "Locust FastHttpUser"), ("stampede", "Stampede")]
med = {k: statistics.median(v) for k, v in runs.items()}
print("Client CPU per request, ms (median of the rounds; the rounds in brackets):\n")
print("| server | " + " | ".join(c[1] for c in clients) + " | Stampede / Locust | Stampede / wrk |")
print("|---|" + "---|" * (len(clients) + 2))
met = True
for s in ("sse", "mock"):
    cells = []
    for c, _ in clients:
        v = runs.get((s, c), [])
        cells.append(f"{med.get((s, c), float('nan')):.3f} ({' / '.join(f'{x:.3f}' for x in v)})")
    r_l = med[(s, "stampede")] / med[(s, "locust")]
    r_w = med[(s, "stampede")] / med[(s, "wrk")]
    met = met and r_l <= 1 / 3
    print(f"| {names[s]} | " + " | ".join(cells) + f" | {r_l:.2f} | {r_w:.1f} |")
print(f"\nStampede ≤ 1/3 of Locust FastHttpUser: {'met' if met else 'not met'}")
PY
