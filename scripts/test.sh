#!/usr/bin/env bash
# The test command (README.md). Builds the package (the subprocess tests run the `stampede`
# binary from .build/debug), then runs every suite one test at a time (about 4 minutes).
#
# Why not in parallel: many tests time real load (mock servers, worker processes, open-loop
# schedules, sweeps). On a 2-core machine Swift's cooperative pool has 2 threads, and tests run
# side by side starve each other's timers: measured, a 1 s run took 2.8 s and its timing checks
# failed. Serial runs are slower but give the same answer every time.
# To run a subset: swift test --disable-xctest --filter NAME
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
# The fuzzers' seed corpora (docs/fuzzing.md), replayed once with the plain debug build, where
# overflow traps: every crash the fuzzers ever found stays checked. A few seconds.
.build/debug/FuzzWire Fuzz/corpus/wire
.build/debug/FuzzSSE Fuzz/corpus/sse
swift test --disable-xctest --no-parallel
