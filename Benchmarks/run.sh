#!/usr/bin/env bash
# Microbenchmark of the client's hot path: SSE framing + dialect per chunk, ns and allocations per
# chunk, for the fast route and the Foundation route (docs/benchmarks.md).
#
#   Benchmarks/run.sh [rounds] [chunks-per-round] [chunks-per-read]
#
# It builds this package in release (SCRATCH, default Benchmarks/.build) and runs ChunkBench with
# malloc-interposer preloaded (LD_PRELOAD on Linux, DYLD_INSERT_LIBRARIES on macOS), which counts
# every malloc while the benchmark has counting on.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
SCRATCH="${SCRATCH:-$HERE/.build}"
swift build -c release --package-path "$HERE" --scratch-path "$SCRATCH" --product ChunkBench >&2
BIN="$SCRATCH/release"
if [ "$(uname)" = Darwin ]; then
  DYLD_INSERT_LIBRARIES="$BIN/libMallocInterposerSwift.dylib" "$BIN/ChunkBench" "$@"
else
  LD_PRELOAD="$BIN/libMallocInterposerSwift.so" "$BIN/ChunkBench" "$@"
fi
