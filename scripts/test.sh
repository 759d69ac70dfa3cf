#!/usr/bin/env bash
# The test command (README.md). Builds the package (the subprocess tests run the `stampede`
# binary from .build/debug), then runs the test suites in two passes:
#   1. every quick suite, in parallel;
#   2. the suites that time real load (open loop, stages, sweep, the deployment scripts), one test
#      at a time: on a 2-core machine they would starve each other and the quick suites' timing tests.
# To run a subset, call `swift test --disable-xctest --filter NAME` directly.
set -euo pipefail
cd "$(dirname "$0")/.."
heavy='LoadModelSuite|DeployTests'
swift build
swift test --disable-xctest --skip "$heavy"
swift test --disable-xctest --no-parallel --filter "$heavy"
