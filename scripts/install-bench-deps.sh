#!/usr/bin/env bash
# Installs the peers that scripts/bench/peers.sh measures Stampede against. Idempotent.
#   - wrk: from apt when running as root with apt-get; otherwise it must already be on PATH.
#   - Locust (FastHttpUser, geventhttpclient): pip, into a venv at $BENCH_VENV
#     (default <repo>/.build-bench-venv, ignored by git through `.build-*/`).
#   - with --llm-tools (or PEERS_LLM_TOOLS=1): guidellm and NVIDIA aiperf, pip, each into its own venv,
#     <repo>/.build-bench-guidellm and <repo>/.build-bench-aiperf (~600 MB each; guidellm pulls torch).
#     GUIDELLM_VERSION / AIPERF_VERSION pin them like LOCUST_VERSION (tried: guidellm 0.8.1, aiperf 0.13.0).
# Prints what is missing, and why, when it cannot install; exits 1 only if something is still missing.
#
#   scripts/install-bench-deps.sh [--llm-tools]     BENCH_VENV=/path/to/venv scripts/install-bench-deps.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_VENV="${BENCH_VENV:-$ROOT/.build-bench-venv}"
LOCUST_VERSION="${LOCUST_VERSION:-}"      # e.g. LOCUST_VERSION='==2.47.0' to pin; default: latest
GUIDELLM_VERSION="${GUIDELLM_VERSION:-}"
AIPERF_VERSION="${AIPERF_VERSION:-}"
LLM_TOOLS="${PEERS_LLM_TOOLS:-0}"
[ "${1:-}" = --llm-tools ] && LLM_TOOLS=1
missing=()
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }

# pip_tool NAME VENV PACKAGE : makes VENV if needed and pip-installs PACKAGE into it, unless
# VENV/bin/NAME already runs; adds to `missing` what it could not do.
pip_tool() {
  local name=$1 venv=$2 package=$3
  "$venv/bin/$name" --version >/dev/null 2>&1 && return 0
  if ! command -v python3 >/dev/null 2>&1; then
    missing+=("$name (python3 missing: install python3 and python3-venv)"); return 0
  fi
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv" >/dev/null 2>&1 || true
  if ! [ -x "$venv/bin/python" ]; then
    missing+=("$name (cannot make a venv at $venv: install python3-venv)"); return 0
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$package" >/dev/null \
    || missing+=("$name (pip install $package into $venv failed: no network or no wheel for this platform?)")
}

if ! command -v wrk >/dev/null 2>&1; then
  if can_apt; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  fi
  command -v wrk >/dev/null 2>&1 \
    || missing+=("wrk (not root or no apt-get: install it with your package manager, e.g. 'sudo apt-get install wrk')")
fi

if ! [ -x "$BENCH_VENV/bin/locust" ]; then
  if ! command -v python3 >/dev/null 2>&1; then
    missing+=("locust (python3 missing: install python3 and python3-venv)")
  elif ! [ -x "$BENCH_VENV/bin/python" ] && ! python3 -m venv "$BENCH_VENV" >/dev/null 2>&1; then
    if can_apt; then   # Debian/Ubuntu ship venv apart (python3-venv)
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$BENCH_VENV"; python3 -m venv "$BENCH_VENV" >/dev/null 2>&1 || true
    fi
  fi
  if [ -x "$BENCH_VENV/bin/python" ]; then
    "$BENCH_VENV/bin/python" -m pip install -q --disable-pip-version-check "locust$LOCUST_VERSION" >/dev/null \
      || missing+=("locust (pip install into $BENCH_VENV failed: no network or no wheel for this platform?)")
  elif command -v python3 >/dev/null 2>&1; then
    missing+=("locust (cannot make a venv at $BENCH_VENV: install python3-venv)")
  fi
fi

if [ "$LLM_TOOLS" = 1 ]; then
  pip_tool guidellm "$ROOT/.build-bench-guidellm" "guidellm$GUIDELLM_VERSION"
  pip_tool aiperf "$ROOT/.build-bench-aiperf" "aiperf$AIPERF_VERSION"
fi

if [ ${#missing[@]} -gt 0 ]; then
  printf 'install-bench-deps: missing %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "install-bench-deps: wrk $(command -v wrk), locust $("$BENCH_VENV/bin/locust" --version 2>/dev/null | head -1) in $BENCH_VENV"
if [ "$LLM_TOOLS" = 1 ]; then
  echo "install-bench-deps: $("$ROOT/.build-bench-guidellm/bin/guidellm" --version 2>/dev/null | tail -1) in $ROOT/.build-bench-guidellm," \
    "aiperf $("$ROOT/.build-bench-aiperf/bin/aiperf" --version 2>/dev/null | tail -1) in $ROOT/.build-bench-aiperf"
fi
