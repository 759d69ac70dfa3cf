#!/usr/bin/env bash
# Checks the deployment files without a container engine or a Kubernetes cluster:
# Docker/Dockerfile, .dockerignore, compose.yaml, .env.example and Docker/k8s/*.yaml.
#
#   scripts/check-deploy.sh [--bin PATH] [--static]
#
# 1. Structure. compose.yaml and every Kubernetes document are parsed with a real YAML parser
#    (PyYAML) and checked: the services and objects that must exist, one image for every role,
#    the entrypoint (`stampede`) and the role each command picks, published and container ports,
#    Service selectors and target ports against the pods, the results volume, the Secret and the
#    token wiring (compose fails when STAMPEDE_TOKEN is unset; no real token is committed), the
#    workers' scaling (no container_name; --expect-workers follows WORKERS / replicas), and that
#    every address a command uses names the right service and port. compose's `${VAR:-default}` is
#    replaced by its default, `${VAR:?msg}` by a dummy; Kubernetes' `$(VAR)` by the container's own
#    env value or a dummy. The Dockerfile is checked as text (stages, runtime base, user, entrypoint,
#    the resource bundle).
#
#    Where installed (scripts/install-test-deps.sh does), the official schemas check them too,
#    offline: compose.yaml against the Compose Specification (check-jsonschema's vendored
#    compose-spec), every manifest against the Kubernetes OpenAPI schemas in strict mode
#    (kubernetes-validate: unknown fields are errors), and the CI examples in docs/ci.md against
#    the GitHub workflow and GitLab CI schemas.
# 2. The commands are real `stampede` invocations. What ArgumentParser does was measured, not
#    assumed (stampede 0.1, swift-argument-parser 1.8):
#      `stampede worker --bogus x --help`            -> exit 0: with --help, UNKNOWN flags and stray
#                                                       positionals are NOT rejected;
#      `stampede worker --coordinator nope --help`   -> exit 64: values ARE converted (Int, host:port,
#                                                       enums) even with --help;
#      `stampede coordinator --run-time 1y --help`   -> exit 0: validate() (durations, ranges, JSON,
#                                                       --target required) does NOT run with --help.
#    So `<cmd> <flags> --help` alone proves little. Three checks are made instead:
#      a. every flag name is one that `stampede <cmd> --help` lists, with a value exactly when the
#         help shows one (parsed from the help text), and no positional is left over;
#      b. `stampede <cmd> <flags> --help` exits 0 (every value converts to its type);
#      c. the values are re-checked here in Python (durations, host:port, counts, fractions, URLs);
#      d. (root only, skipped with --static) the exact command is started for real inside an empty
#         network namespace (`unshare --net`: no interface but a down loopback, so nothing can be
#         reached) with a dummy token and /results mapped to a temporary folder. ArgumentParser runs
#         validate() before run(), so a bad value exits 64 at once; a command still running after
#         4 s (or that said "listening on") has passed every check the binary makes.
# 3. (root with `ip`, skipped with --static) Each manifest runs as a cluster: its target, its
#    coordinator and as many workers as it declares, with the manifests' own commands, inside one
#    network namespace whose /etc/hosts maps the service names (target, coordinator;
#    stampede-target, stampede-coordinator) to its loopback. The Kubernetes coordinator runs
#    through its own `sh -c` wrapper with HOLD_SECONDS=0. Only the run's length is changed
#    (--run-time 10s), /results is mapped to a temporary folder and the example mock gets
#    --ttft-ms 20 --itl-ms 5 (its batching model needs ~9 s per request at 32 users). It passes
#    when the coordinator exits 0, every worker served requests and the LLMPerf files were written.
#
# Exit: 0 every check passed; 1 some failed (each printed); 2 bad usage; 77 python3 or PyYAML is
# missing (scripts/install-test-deps.sh installs them), which test runners read as "skipped".
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/check-deploy.sh [--bin PATH] [--static] [--root DIR]

Validates Docker/Dockerfile, compose.yaml, .env.example and Docker/k8s/*.yaml (see the header of
this script for the method).
  --bin PATH   stampede binary (default .build/debug/stampede; built with `swift build` if missing)
  --static     only the checks that run nothing (structure, flag names, --help parse, values)
  --root DIR   check the files in DIR instead of this checkout (the tests use it)
  -h, --help   this help
EOF
}
die_usage() { echo "check-deploy: $*" >&2; echo "Usage: scripts/check-deploy.sh [--bin PATH] [--static] [--root DIR]" >&2; exit 2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
FILES=$ROOT
BIN=
STATIC=0
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) [ $# -ge 2 ] && [ -n "$2" ] || die_usage "--bin needs a value"; BIN=$2; shift 2 ;;
    --static) STATIC=1; shift ;;
    --root) [ $# -ge 2 ] && [ -d "$2" ] || die_usage "--root needs a folder"; FILES=$(cd "$2" && pwd); shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done

if ! command -v python3 >/dev/null 2>&1; then echo "check-deploy: skipped: python3 is missing" >&2; exit 77; fi
if ! python3 -c 'import yaml' 2>/dev/null; then
  echo "check-deploy: skipped: PyYAML is missing (pip install pyyaml, or scripts/install-test-deps.sh)" >&2; exit 77
fi
if [ -z "$BIN" ]; then
  BIN=$ROOT/.build/debug/stampede
  if [ ! -x "$BIN" ]; then
    echo "check-deploy: building $BIN (swift build --product stampede)" >&2
    (cd "$ROOT" && swift build --product stampede >&2)
  fi
fi
[ -x "$BIN" ] || die_usage "--bin: '$BIN' is not an executable"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")

# Namespaces and hosts files made by step 3 are named after this shell's pid; the trap removes them
# even if Python is killed.
NS=stp-chk-$$
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM HUP
  if ip netns list 2>/dev/null | grep -q "^$NS-"; then
    for ns in $(ip netns list | awk '{print $1}' | grep "^$NS-"); do
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    done
  fi
  rm -rf /etc/netns/"$NS"-* 2>/dev/null || true
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# The checks themselves: scripts/deploy_check/ (report, commands, files, k8s, live).
PYTHONPATH="$(cd "$(dirname "$0")" && pwd)${PYTHONPATH:+:$PYTHONPATH}" python3 -m deploy_check "$FILES" "$BIN" "$STATIC" "$NS"
