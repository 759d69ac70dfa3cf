# The clients that scripts/bench/peers.sh measures, one run_<client> function each. Source it from
# peers.sh (it uses OUT, HERE, BIN, LIMIT, USERS, DURATION, PEERS_TOKENS, MAX_REQUESTS, LOCUST,
# AIPERF, GUIDELLM, TOKENIZER). Each run_<client> SERVER URL TAG runs one client for DURATION seconds
# and sets CPU (user+sys seconds), REQS (requests completed without error) and CHECK (a note on
# whether the answers were whole, and the failures).

# timed NAME CMD... : runs CMD under GNU time and `timeout`; sets CPU (user+sys seconds) and SYS
# (the kernel's part: system seconds).
timed() {
  local name=$1; shift
  /usr/bin/time -f "%U %S" -o "$OUT/$name.time" timeout -k 5 "$LIMIT" "$@" > "$OUT/$name.out" 2> "$OUT/$name.err" || true
  CPU=$(awk '{ print $1 + $2 }' "$OUT/$name.time" | tail -1)
  SYS=$(awk '{ print $2 }' "$OUT/$name.time" | tail -1)
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
  SYS=$(awk '{ print $2 }' "$OUT/$3.time" | tail -1)
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

# guidellm and aiperf start several processes (guidellm: worker processes and one that outlives its
# parent, 1 orphan per run seen; aiperf: its services, all waited for). reap.py makes the client a
# child subreaper that waits for every descendant, orphans included, so that GNU time's figure
# covers the whole tree. guidellm: 8 concurrent streams, synthetic 100-token prompts (Faker text cut
# with the local word-level tokenizer), max_completion_tokens 150 with ignore_eos; results from its
# JSON report (scheduler_state counts; output tokens from the responses' usage).
run_guidellm() {
  rm -f "$OUT/$3.json"
  HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 timed "$3" python3 "$HERE/peers/reap.py" "$GUIDELLM" run \
    --backend "kind=openai_http,target=$2,model=mock,validate_backend=false" \
    --profile "kind=concurrent,streams=$USERS" --constraint "kind=max_duration,seconds=$DURATION" \
    --data "kind=synthetic_text,prompt_tokens=100,output_tokens=$PEERS_TOKENS" \
    --tokenizer "kind=hf_auto,model=$TOKENIZER" --output "kind=json,path=$OUT/$3.json" --disable-console
  read -r REQS CHECK < <(python3 - "$OUT/$3.json" <<'PY' 2>/dev/null || echo "0 no JSON report"
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"][0]
s, toks = b["scheduler_state"], b["metrics"]["output_token_count"]["successful"]
print(s["successful_requests"], f"{toks['mean']:.1f} output tokens/request (min {toks['min']:.0f}),"
      f" errors {s['errored_requests']}, cancelled {s['cancelled_requests']}")
PY
)
}

# aiperf: --use-server-token-count, so it does not tokenize the answers (nor do the other clients);
# the check counts the SSE content messages each request received (its inter_chunk_latency list + 1)
# in profile_export.jsonl. request_count counts valid requests only; error_request_count the others.
# No HF_HUB_OFFLINE here: with it set, aiperf 0.13 failed to load the local tokenizer folder.
run_aiperf() {
  rm -rf "$OUT/$3.aiperf"
  timed "$3" python3 "$HERE/peers/reap.py" "$AIPERF" profile --model mock --url "$2" --endpoint-type chat \
    --streaming --tokenizer "$TOKENIZER" --concurrency "$USERS" --benchmark-duration "$DURATION" \
    --synthetic-input-tokens-mean 100 --synthetic-input-tokens-stddev 0 --output-tokens-mean "$PEERS_TOKENS" \
    --output-tokens-stddev 0 --extra-inputs ignore_eos:true --use-server-token-count \
    --artifact-dir "$OUT/$3.aiperf" --ui-type none
  read -r REQS CHECK < <(python3 - "$OUT/$3.aiperf" <<'PY' 2>/dev/null || echo "0 no JSON report"
import json, sys
d = json.load(open(sys.argv[1] + "/profile_export_aiperf.json"))
errors = int((d.get("error_request_count") or {}).get("avg") or 0)
chunks = [len(m["inter_chunk_latency"]["value"]) + 1 for m in
          (json.loads(l)["metrics"] for l in open(sys.argv[1] + "/profile_export.jsonl"))
          if "inter_chunk_latency" in m]
osl = d["output_sequence_length"]
print(int(d["request_count"]["avg"]), f"{osl['avg']:.1f} output tokens/request by usage (min {osl['min']:.0f}),"
      f" {sum(chunks) / max(len(chunks), 1):.1f} content messages/request (min {min(chunks, default=0)}), errors {errors}")
PY
)
}

# The floor: AsyncHTTPClient alone (Benchmarks/Sources/ClientFloor), configured as Stampede's client
# and sending the same request, with a delegate that counts bytes and checks the status: no framing,
# no parsing, no timing, no metrics. Stampede's cost above it is Stampede's own; a goal below it
# cannot be met by a client built on AsyncHTTPClient.
run_floor() {
  timed "$3" "$FLOOR" "$2" "$USERS" "$MAX_REQUESTS" "$PEERS_TOKENS" "$DURATION"
  REQS=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' "$OUT/$3.out" | head -1); REQS=${REQS:-0}
  CHECK="$(grep -o '[0-9]* B/response' "$OUT/$3.out" || echo 'no output'), non-2xx and failed requests not counted"
}
