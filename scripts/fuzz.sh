#!/usr/bin/env bash
# Coverage-guided fuzzing of peer input with libFuzzer (docs/fuzzing.md): builds the FuzzWire and
# FuzzSSE products with -sanitize=fuzzer,address in .build-fuzz, then runs each for a bounded time on
# a copy of its seed corpus (Fuzz/corpus/wire, Fuzz/corpus/sse). Exits non-zero on any crash.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_EACH=60
TARGET=all
JOBS=1
BUILD=1
KEEP=""
AVOID_KNOWN=0
SCRATCH=${SCRATCH:-.build-fuzz}

usage_line() { echo "usage: scripts/fuzz.sh [--seconds N] [--target wire|sse|all] [--jobs N] [--no-build] [--keep DIR] [--avoid-known] [--help]"; }
usage() {
  usage_line
  cat <<'EOF'

Builds the libFuzzer targets and fuzzes each for a bounded time on a copy of its seed corpus.

  --seconds N     fuzzing time per target, seconds (default 60)
  --target T      wire (cluster wire decoder, handshakes, merge), sse (SSE parser, dialects,
                  stream session) or all (default)
  --jobs N        parallel fuzzing processes per target (libFuzzer -fork=N; default 1)
  --no-build      use the binaries already in the scratch folder
  --keep DIR      keep each target's grown corpus in DIR/<target> (default: a temp dir, removed)
  --avoid-known   step around the known, reported crashes (Sources/FuzzSupport/KnownIssues.swift)
                  to look for the next one; CI runs without it
  -h, --help      this text

Environment: SCRATCH=DIR build folder (default .build-fuzz, git-ignored).
Exit: 0 no crash; 1 a crash, leak, timeout or out-of-memory input was found (its path and base64
are printed; the file stays under $SCRATCH/fuzz-artifacts/); 2 bad usage or the build failed.

A crash reproduces with: $SCRATCH/debug/FuzzWire FILE   (or FuzzSSE FILE)
EOF
}
die_usage() { echo "fuzz.sh: $1" >&2; usage_line >&2; exit 2; }
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die_usage "$1 needs a value"; }
log() { echo "fuzz.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case $1 in
    --seconds) need_value "$@"; SECONDS_EACH=$2; shift 2 ;;
    --target) need_value "$@"; TARGET=$2; shift 2 ;;
    --jobs) need_value "$@"; JOBS=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --keep) need_value "$@"; KEEP=$2; shift 2 ;;
    --avoid-known) AVOID_KNOWN=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] && [ "$SECONDS_EACH" -ge 1 ] || die_usage "--seconds must be a positive integer (got '$SECONDS_EACH')"
[[ $JOBS =~ ^[0-9]+$ ]] && [ "$JOBS" -ge 1 ] && [ "$JOBS" -le 64 ] || die_usage "--jobs must be 1-64 (got '$JOBS')"
case $TARGET in
  wire) TARGETS=(wire) ;;
  sse) TARGETS=(sse) ;;
  all) TARGETS=(wire sse) ;;
  *) die_usage "--target must be wire, sse or all (got '$TARGET')" ;;
esac
command -v timeout >/dev/null || { log "needs 'timeout' (coreutils)"; exit 2; }

product_of() { case $1 in wire) echo FuzzWire ;; sse) echo FuzzSSE ;; esac; }

cd "$ROOT"
# libFuzzer ships with the Swift toolchain (clang's runtime): nothing is installed here.
SWIFT_BIN=$(dirname "$(readlink -f "$(command -v swift)")")
if ! ls "$SWIFT_BIN"/../lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 \
   && ! ls "$SWIFT_BIN"/../lib/swift/clang/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
  log "this Swift toolchain ($SWIFT_BIN) has no libFuzzer runtime (libclang_rt.fuzzer); Linux toolchains from swift.org ship it"
  exit 2
fi

# --- build -------------------------------------------------------------------------------------
# A debug build: testability is on (the harnesses reach internal state machines) and arithmetic
# overflow traps, which is what we hunt. No -parse-as-library: SwiftPM links executables with
# --defsym main=<module>_main, so main.swift's one top-level line starts libFuzzer (docs/fuzzing.md).
FUZZ_FLAGS=(-c debug --scratch-path "$SCRATCH" -Xswiftc -sanitize=fuzzer,address)
if [ "$BUILD" = 1 ]; then
  for t in "${TARGETS[@]}"; do
    product=$(product_of "$t")
    log "building $product: swift build ${FUZZ_FLAGS[*]} --product $product"
    start=$SECONDS
    swift build "${FUZZ_FLAGS[@]}" --product "$product" >&2 || { log "fuzz build of $product failed"; exit 2; }
    log "built $product in $((SECONDS - start)) s"
  done
fi
BIN_DIR=$(swift build "${FUZZ_FLAGS[@]}" --show-bin-path)

# --- run ---------------------------------------------------------------------------------------
WORK=$(mktemp -d /tmp/stampede-fuzz.XXXXXX)
CHILD=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$CHILD" ] && kill -TERM "$CHILD" 2>/dev/null
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

ARTIFACTS="$ROOT/$SCRATCH/fuzz-artifacts"
FAILED=()
SUMMARY=()
for t in "${TARGETS[@]}"; do
  product=$(product_of "$t")
  bin="$BIN_DIR/$product"
  [ -x "$bin" ] || { log "$bin is missing: build it first (drop --no-build)"; exit 2; }
  seeds="$ROOT/Fuzz/corpus/$t"
  [ -d "$seeds" ] || { log "no seed corpus at $seeds"; exit 2; }
  corpus="$WORK/$t/corpus"
  if [ -n "$KEEP" ]; then corpus="$KEEP/$t"; fi
  mkdir -p "$corpus" "$WORK/$t/artifacts"
  # Seeds only (README.md and other docs stay out).
  find "$seeds" -maxdepth 1 -type f ! -name '*.md' -exec cp {} "$corpus/" \;
  seed_count=$(find "$corpus" -type f | wc -l)
  args=(-max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=65536 -timeout=20
        -print_final_stats=1 -artifact_prefix="$WORK/$t/artifacts/")
  [ -f "$ROOT/Fuzz/$t.dict" ] && args+=(-dict="$ROOT/Fuzz/$t.dict")
  [ "$JOBS" -gt 1 ] && args+=(-fork="$JOBS" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0)
  log "fuzzing $product for ${SECONDS_EACH} s on $seed_count seeds (jobs $JOBS)"
  logfile="$WORK/$t/fuzz.log"
  set +e
  # Bounded twice: libFuzzer's own -max_total_time, and timeout for a hang outside it (startup, merge).
  STAMPEDE_FUZZ_AVOID_KNOWN=$AVOID_KNOWN SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no} \
    timeout --signal=INT --kill-after=30 $((SECONDS_EACH + 120)) "$bin" "${args[@]}" "$corpus" >"$logfile" 2>&1 &
  CHILD=$!
  wait "$CHILD"
  rc=$?
  CHILD=""
  set -e
  execs=$(grep -oE 'stat::number_of_executed_units:[[:space:]]*[0-9]+' "$logfile" | tail -1 | grep -o '[0-9]*$' || true)
  eps=$(grep -oE 'stat::average_exec_per_sec:[[:space:]]*[0-9]+' "$logfile" | tail -1 | grep -o '[0-9]*$' || true)
  [ -z "$eps" ] && eps=$(grep -o 'exec/s: [0-9]*' "$logfile" | tail -1 | grep -o '[0-9]*$' || true)
  cov=$(grep -oE '(cov|ft): [0-9]+' "$logfile" | tail -2 | tr '\n' ' ' || true)
  files=$(find "$corpus" -type f | wc -l)
  bytes=$(du -sb "$corpus" | cut -f1)
  line="$t: rc $rc, ${execs:-?} runs, ${eps:-?} exec/s, corpus $seed_count -> $files files ($bytes bytes), ${cov}"
  SUMMARY+=("$line")
  log "$line"
  found=$(find "$WORK/$t/artifacts" -type f | sort)
  if [ "$rc" -ne 0 ] || [ -n "$found" ]; then
    FAILED+=("$t")
    log "$product FAILED (exit $rc); the end of its log:"
    tail -n 60 "$logfile" >&2
    [ "$rc" -eq 124 ] && log "$product ran past its time limit and was stopped"
    mkdir -p "$ARTIFACTS/$t"
    for f in $found; do
      kept="$ARTIFACTS/$t/$(basename "$f")"
      cp "$f" "$kept"
      log "reproducer: $kept ($(wc -c <"$f") bytes); rerun: $bin $kept"
      echo "base64 $(basename "$f"): $(base64 -w0 "$f")" >&2
    done
  fi
done

echo "fuzz summary:"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${FAILED[*]}"
  exit 1
fi
echo "fuzz: no crash in ${TARGETS[*]} (${SECONDS_EACH} s each)"
