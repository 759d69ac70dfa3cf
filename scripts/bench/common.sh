# Shared helpers for the benchmarks. Source it; do not run it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONFIG="${CONFIG:-release}"          # CONFIG=debug for a quick look (figures are not representative)
SCRATCH="${SCRATCH:-$ROOT/.build}"   # e.g. SCRATCH=$ROOT/.build-release to keep release objects apart
BIN="$SCRATCH/$CONFIG/stampede"
OUT="${OUT:-$(mktemp -d /tmp/stampede-bench.XXXXXX)}"
PIDS=()

build() {
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
