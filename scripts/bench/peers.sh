#!/usr/bin/env bash
# Peers: client CPU per request of wrk, Locust FastHttpUser and `stampede run` (with PEERS_LLM_TOOLS=1
# also guidellm and NVIDIA aiperf), side by side on the same two loopback servers, in interleaved
# rounds (the client order rotates each round), medians.
#   servers: `stampede mock --ttft-ms 0 --itl-ms 0` (keep-alive) and scripts/bench/sse_server.py
#            (Python, new connection per response); both stream PEERS_TOKENS tokens, no delays.
#   clients: 8 connections, the same streaming POST /v1/chat/completions (~100 prompt tokens,
#            150 output tokens), each for DURATION seconds (Stampede also capped at MAX_REQUESTS);
#            every run under `timeout`. The commands are in scripts/bench/peers/clients.sh.
# CPU per request = user+sys CPU of the client process (GNU time; it includes waited-for children)
# / requests it completed without error (wrk: its done() totals; Locust: --json-file; Stampede:
# --json; guidellm: its JSON report; aiperf: profile_export_aiperf.json). guidellm and aiperf run
# several processes, one of guidellm's outliving its parent: they run under peers/reap.py, a child
# subreaper that waits for every descendant, so GNU time counts the CPU of the whole process tree.
# guidellm and aiperf are Python programs that import a lot at start (guidellm: torch, transformers):
# their CPU includes start-up, data generation and report writing, not only requests. A 1-second run
# against the mock took 17.6 CPU s for guidellm (283 requests) and 7.1 CPU s for aiperf (253), i.e.
# about 15 s and 5.5 s fixed plus ~8 and ~6 ms per request: use a long DURATION for them.
# They need a tokenizer and the Hugging Face hub is not reachable: peers/make_tokenizer.py writes a
# small local one into $OUT.
# PEERS_FLOOR=1 adds the floor: AsyncHTTPClient alone, which Stampede is built on, reading the same
# responses without framing, parsing or timing them (Benchmarks/Sources/ClientFloor, built here in
# release under .build-benchmarks: a few minutes the first time).
# Every row also gives the kernel's part (system CPU) per request: reading a stream as it arrives
# costs system time that no client can avoid.
# Installs wrk and Locust first (scripts/install-bench-deps.sh; BENCH_VENV picks the venv), and with
# PEERS_LLM_TOOLS=1 guidellm and aiperf (venvs .build-bench-guidellm and .build-bench-aiperf, ~600 MB
# each); without it the output is the 3-client table.
#
#   scripts/bench/peers.sh [rounds]     env: DURATION=20 USERS=8 PEERS_TOKENS=150 MAX_REQUESTS=200000
#                                            PEERS_LLM_TOOLS=0 PEERS_FLOOR=0 SCRATCH=... NO_BUILD=1 (see common.sh)
#                                            BENCH_VENV=...
. "$(dirname "$0")/common.sh"
ROUNDS="${1:-3}"
DURATION="${DURATION:-20}"
USERS="${USERS:-8}"
export PEERS_TOKENS="${PEERS_TOKENS:-150}"
MAX_REQUESTS="${MAX_REQUESTS:-200000}"
BENCH_VENV="${BENCH_VENV:-$ROOT/.build-bench-venv}"
HERE="$ROOT/scripts/bench"
LIMIT=$((DURATION + 60))     # hard bound of one client run, seconds

PEERS_LLM_TOOLS="${PEERS_LLM_TOOLS:-0}"
CLIENTS=(wrk locust stampede)

BENCH_VENV="$BENCH_VENV" PEERS_LLM_TOOLS="$PEERS_LLM_TOOLS" "$ROOT/scripts/install-bench-deps.sh" >&2
LOCUST="$BENCH_VENV/bin/locust"
if [ "$PEERS_LLM_TOOLS" = 1 ]; then
  CLIENTS+=(guidellm aiperf)
  GUIDELLM="$ROOT/.build-bench-guidellm/bin/guidellm"; AIPERF="$ROOT/.build-bench-aiperf/bin/aiperf"
  TOKENIZER="$OUT/tokenizer"   # the guidellm venv has Faker, whose words make_tokenizer.py adds
  "$ROOT/.build-bench-guidellm/bin/python" "$HERE/peers/make_tokenizer.py" "$TOKENIZER" \
    "$ROOT/Sources/StampedeWorkload/Resources/sonnets.txt" >&2
fi
if [ "${PEERS_FLOOR:-0}" = 1 ]; then
  CLIENTS+=(floor)
  FLOOR_SCRATCH="${FLOOR_SCRATCH:-$ROOT/.build-benchmarks}"
  [ "${NO_BUILD:-0}" = 1 ] && [ -x "$FLOOR_SCRATCH/release/ClientFloor" ] || \
    swift build -c release --package-path "$ROOT/Benchmarks" --scratch-path "$FLOOR_SCRATCH" --product ClientFloor >&2
  FLOOR="$FLOOR_SCRATCH/release/ClientFloor"
fi
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
. "$HERE/peers/clients.sh"

for round in $(seq "$ROUNDS"); do
  for server in sse mock; do
    url=$MOCK_URL; spid=$MOCK_PID
    [ "$server" = sse ] && { url=$SSE_URL; spid=$SSE_PID; }
    for i in "${!CLIENTS[@]}"; do
      client=${CLIENTS[$(( (i + round - 1) % ${#CLIENTS[@]} ))]}
      tag="r$round-$server-$client"
      s0=$(cpu_seconds "$spid")
      "run_$client" "$server" "$url" "$tag"
      s1=$(cpu_seconds "$spid")
      ms=$(python3 -c "print(f'{$CPU / max($REQS, 1) * 1000:.3f}')")
      sys_ms=$(python3 -c "print(f'{$SYS / max($REQS, 1) * 1000:.3f}')")
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$server" "$client" "$REQS" "$CPU" "$ms" "$sys_ms" >> "$RESULTS"
      printf '  round %s %-4s %-8s %7s requests  CPU %6.2f s  %s ms/request (system %s)  server CPU %s ms/request  (%s; load %s)\n' \
        "$round" "$server" "$client" "$REQS" "$CPU" "$ms" "$sys_ms" \
        "$(python3 -c "print(f'{($s1-$s0)/max($REQS,1)*1000:.3f}')")" "$CHECK" "$(cut -d' ' -f1 /proc/loadavg)" >&2
    done
  done
done

python3 - "$RESULTS" "${CLIENTS[@]}" <<'PY'
import statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs, kernel = {}, {}
for rnd, server, client, reqs, cpu, ms, sys_ms in rows:
    runs.setdefault((server, client), []).append(float(ms) if int(reqs) > 0 else float("nan"))
    kernel.setdefault((server, client), []).append(float(sys_ms) if int(reqs) > 0 else float("nan"))
names = {"sse": "Python SSE server (new connection per response)",
         "mock": "`stampede mock --ttft-ms 0 --itl-ms 0` (keep-alive)"}
titles = {"wrk": "wrk", "locust": "Locust FastHttpUser", "stampede": "Stampede", "guidellm": "guidellm",
          "aiperf": "NVIDIA aiperf", "floor": "floor: AsyncHTTPClient alone"}
clients = [(c, titles[c]) for c in sys.argv[2:]]
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
print("\nOf which the kernel's (system CPU per request, ms, median):\n")
print("| server | " + " | ".join(c[1] for c in clients) + " |")
print("|---|" + "---|" * len(clients))
for s in ("sse", "mock"):
    print(f"| {names[s]} | " + " | ".join(f"{statistics.median(kernel.get((s, c), [float('nan')])):.3f}" for c, _ in clients) + " |")
if any(c == "floor" for c, _ in clients):
    print()
    for s in ("sse", "mock"):
        goal = med[(s, "locust")] / 3
        print(f"{names[s]}: the goal (1/3 of Locust) is {goal:.3f} ms; AsyncHTTPClient alone takes"
              f" {med[(s, 'floor')]:.3f} ms ({med[(s, 'floor')] / goal:.1f}× the goal); Stampede adds"
              f" {med[(s, 'stampede')] - med[(s, 'floor')]:.3f} ms of its own")
PY
