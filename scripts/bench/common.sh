# Shared helpers for the benchmarks. Source it; do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONFIG="${CONFIG:-release}"          # CONFIG=debug for a quick look (figures are not representative)
SCRATCH="${SCRATCH:-$ROOT/.build}"   # e.g. SCRATCH=$ROOT/.build-release to keep release objects apart
BIN="$SCRATCH/$CONFIG/stampede"
OUT="${OUT:-$(mktemp -d /tmp/stampede-bench.XXXXXX)}"
PIDS=()

# NO_BUILD=1: use the binary already in $SCRATCH/$CONFIG (e.g. while another build holds the scratch lock).
build() {
  [ "${NO_BUILD:-0}" = 1 ] && return 0
  (cd "$ROOT" && swift build -c "$CONFIG" --scratch-path "$SCRATCH" --product stampede >&2)
}

cleanup() {
  for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# start_mock ARGS... : starts `stampede mock --port 0 ARGS`, sets MOCK_URL and MOCK_PID.
start_mock() {
  "$BIN" mock --port 0 --log-level error "$@" > "$OUT/mock.out" 2> "$OUT/mock.err" &
  MOCK_PID=$!
  PIDS+=("$MOCK_PID")
  for _ in $(seq 100); do
    if grep -q "listening on" "$OUT/mock.out" 2>/dev/null; then break; fi
    sleep 0.1
  done
  MOCK_URL=$(grep -o 'http://[^ ]*' "$OUT/mock.out" | head -1)
  [ -n "$MOCK_URL" ] || { echo "mock did not start: $(cat "$OUT/mock.err")" >&2; exit 1; }
}

# cpu_seconds PID : user+system CPU seconds of a running process, from /proc.
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' "/proc/$1/stat"
}

# rss_kib PID : current resident set size, KiB.
rss_kib() { awk '/VmRSS/ { print $2 }' "/proc/$1/status"; }

# json_get FILE EXPR : a value from a JSON file (EXPR is Python indexing, e.g. "['overall']['requests_finished']").
json_get() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

# watch_pid PID : waits for PID to exit, sampling it every 0.5 s; sets PEAK_MIB (peak RSS) and
# CPU_PCT (CPU seconds over wall seconds while it ran, in % of one core).
watch_pid() {
  local pid=$1 peak=0 r c0 t0 c1 t1
  c0=$(cpu_seconds "$pid"); t0=$(date +%s.%N); c1=$c0; t1=$t0
  while kill -0 "$pid" 2>/dev/null; do
    r=$(rss_kib "$pid" 2>/dev/null || echo 0)
    [ "${r:-0}" -gt "$peak" ] && peak=$r
    c1=$(cpu_seconds "$pid" 2>/dev/null || echo "$c1"); t1=$(date +%s.%N)
    sleep 0.5
  done
  wait "$pid" || true
  PEAK_MIB=$(python3 -c "print(f'{$peak/1024:.1f}')")
  CPU_PCT=$(python3 -c "print(f'{($c1-$c0)/max($t1-$t0,1e-9)*100:.0f}')")
}
