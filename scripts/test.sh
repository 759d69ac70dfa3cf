#!/usr/bin/env bash
# The test command (README.md). Builds the package (the subprocess tests run the `stampede`
# binary from .build/debug) and runs every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build
swift test --disable-xctest "$@"
