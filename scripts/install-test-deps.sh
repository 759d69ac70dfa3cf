#!/usr/bin/env bash
# Installs what the test suite needs beyond the Swift toolchain. Idempotent; CI runs it first.
set -euo pipefail
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
  else
    echo "install-test-deps: missing ${need[*]} and cannot apt-get; tests that need them will skip" >&2
  fi
fi
