#!/usr/bin/env bash
# A real multi-host Stampede cluster on one machine, in Linux network namespaces.
#
#   sudo scripts/netns-cluster.sh --workers 3 --run-time 30s --json results/netns.json
#
# Hosts (one network namespace each, with its own eth0 and address):
#   target  10.213.0.2   `stampede mock` on :8000
#   coord   10.213.0.3   `stampede coordinator --bind 10.213.0.3:5557 --expect-workers N`
#   wK      10.213.0.(10+K)   `stampede worker --coordinator 10.213.0.3:5557 --name wK`
# Every host's eth0 is one end of a veth pair whose other end sits on a bridge (br0) inside a
# namespace of its own ("hub"). Nothing is added to the root namespace: no link, no address, no
# route, so the 10.213.0.0/24 test subnet exists only inside these namespaces and no packet can
# leave them. Names start with stp-<pid>-, so parallel runs never collide; namespaces left over by a
# run that was killed with SIGKILL (stp-<pid>- whose pid is gone) are removed at the next start.
#
# The coordinator binds a non-loopback address, so the cluster needs a token: a random one is made
# for this run and handed to the processes through the environment (STAMPEDE_TOKEN); it is never
# printed and never on a command line.
#
# Prints the coordinator's report on stdout (progress and logs on stderr). Exit code: the
# coordinator's (0 ok, 1 error rate above --max-error-rate or every worker lost, 2 a worker never
# joined within --expect-workers-timeout), or 1 when the run finished but some worker served no
# request; 2 bad usage; 3 setup failed; 77 this machine cannot make network namespaces (not root,
# no `ip`, or EPERM), which test runners treat as "skipped".
# A trap removes every namespace (and so every link in it) and ends every process this run started,
# whatever happened.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: scripts/netns-cluster.sh [options] [-- extra coordinator flags]

Runs stampede mock, a coordinator and N workers, each in its own network namespace (needs root
and iproute2), runs one bounded test, prints the coordinator's report and removes everything.

Options:
  --workers N            worker hosts, 1-32 (default 2)
  --run-time DURATION    length of the test, e.g. 20s, 2m (default 20s)
  --users N              users in total (default 4 per worker)
  --spawn-rate R         users started per second (default: --users, i.e. all within a second)
  --json PATH            write the coordinator's JSON report to PATH
  --mock-flags "FLAGS"   flags for `stampede mock` (default "--ttft-ms 50 --itl-ms 10")
  --join-timeout DURATION  --expect-workers-timeout of the coordinator (default 30s)
  --bin PATH             stampede binary (default .build/debug/stampede, built with
                         `swift build` when missing)
  --logs DIR             keep every process's log in DIR (default: a temporary folder, removed)
  --partition W:AT:FOR   cut worker host W (e.g. w1) off the coordinator AT seconds after the
                         workers start, for FOR seconds (iptables DROP in W's namespace); the run
                         then also fails unless W rejoined and served requests afterwards
  --as-root              run the processes as root (default: as nobody, uid 65534, via setpriv)
  -h, --help             this help

Exit: 0 ok; 1 the run failed (error rate, a worker lost or idle); 2 usage or a worker never joined;
3 setup failed; 77 no network namespaces here (not root, no `ip`, EPERM).
EOF
}

die_usage() { echo "netns-cluster: $*" >&2; echo "Usage: scripts/netns-cluster.sh [options] [-- extra coordinator flags]" >&2; echo "Try 'scripts/netns-cluster.sh --help'." >&2; exit 2; }
log() { echo "netns-cluster: $*" >&2; }

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORKERS=2
RUN_TIME=20s
USERS=
SPAWN_RATE=
JSON=
MOCK_FLAGS="--ttft-ms 50 --itl-ms 10"
JOIN_TIMEOUT=30s
BIN=
LOGS=
PARTITION=
AS_ROOT=0
EXTRA=()

need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die_usage "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --workers) need_value "$@"; WORKERS=$2; shift 2 ;;
    --run-time) need_value "$@"; RUN_TIME=$2; shift 2 ;;
    --users) need_value "$@"; USERS=$2; shift 2 ;;
    --spawn-rate) need_value "$@"; SPAWN_RATE=$2; shift 2 ;;
    --json) need_value "$@"; JSON=$2; shift 2 ;;
    --mock-flags) [ $# -ge 2 ] || die_usage "--mock-flags needs a value"; MOCK_FLAGS=$2; shift 2 ;;
    --join-timeout) need_value "$@"; JOIN_TIMEOUT=$2; shift 2 ;;
    --bin) need_value "$@"; BIN=$2; shift 2 ;;
    --logs) need_value "$@"; LOGS=$2; shift 2 ;;
    --partition) need_value "$@"; PARTITION=$2; shift 2 ;;
    --as-root) AS_ROOT=1; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA=("$@"); break ;;
    *) die_usage "unknown option '$1'" ;;
  esac
done

# Seconds in a duration such as 500ms, 20s, 5m, 1h30m (the forms stampede accepts); empty if invalid.
seconds_of() {
  local rest=$1 total=0 n unit
  [ -n "$rest" ] || return 0
  while [ -n "$rest" ]; do
    if [[ $rest =~ ^([0-9]+)(ms|s|m|h)(.*)$ ]]; then
      n=${BASH_REMATCH[1]}; unit=${BASH_REMATCH[2]}; rest=${BASH_REMATCH[3]}
      case $unit in ms) total=$((total + (n + 999) / 1000)) ;; s) total=$((total + n)) ;;
                    m) total=$((total + n * 60)) ;; h) total=$((total + n * 3600)) ;; esac
    else
      return 0
    fi
  done
  echo "$total"
}

[[ $WORKERS =~ ^[0-9]+$ ]] && [ "$WORKERS" -ge 1 ] && [ "$WORKERS" -le 32 ] || die_usage "--workers must be 1-32 (got '$WORKERS')"
RUN_S=$(seconds_of "$RUN_TIME"); [ -n "$RUN_S" ] && [ "$RUN_S" -ge 1 ] || die_usage "--run-time: '$RUN_TIME' is not a duration like 20s or 2m"
JOIN_S=$(seconds_of "$JOIN_TIMEOUT"); [ -n "$JOIN_S" ] && [ "$JOIN_S" -ge 1 ] || die_usage "--join-timeout: '$JOIN_TIMEOUT' is not a duration like 30s"
USERS=${USERS:-$((WORKERS * 4))}
[[ $USERS =~ ^[0-9]+$ ]] && [ "$USERS" -ge 1 ] || die_usage "--users must be a positive integer (got '$USERS')"
SPAWN_RATE=${SPAWN_RATE:-$USERS}
[[ $SPAWN_RATE =~ ^[0-9]+(\.[0-9]+)?$ ]] || die_usage "--spawn-rate must be a positive number (got '$SPAWN_RATE')"
CUT_HOST= CUT_AT= CUT_FOR=
if [ -n "$PARTITION" ]; then
  [[ $PARTITION =~ ^w([0-9]+):([0-9]+):([0-9]+)$ ]] || die_usage "--partition must be wK:AT:FOR in seconds, e.g. w1:3:6 (got '$PARTITION')"
  CUT_HOST=w${BASH_REMATCH[1]}; CUT_AT=${BASH_REMATCH[2]}; CUT_FOR=${BASH_REMATCH[3]}
  [ "${BASH_REMATCH[1]}" -ge 1 ] && [ "${BASH_REMATCH[1]}" -le "$WORKERS" ] || die_usage "--partition: no worker host $CUT_HOST (--workers $WORKERS)"
  [ "$CUT_FOR" -ge 1 ] && [ "$CUT_FOR" -le 600 ] && [ "$CUT_AT" -le 600 ] || die_usage "--partition: AT and FOR must be 0-600 and 1-600 seconds"
fi

# --- the environment -------------------------------------------------------------------------
skip() { log "skipped: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces (run with sudo)"
command -v ip >/dev/null 2>&1 || skip "needs the 'ip' command (Debian/Ubuntu: apt-get install iproute2)"

if [ -z "$BIN" ]; then
  BIN=$ROOT/.build/debug/stampede
  if [ ! -x "$BIN" ]; then
    log "building $BIN (swift build --product stampede)"
    (cd "$ROOT" && swift build --product stampede >&2) || { log "swift build failed"; exit 3; }
  fi
fi
[ -x "$BIN" ] || die_usage "--bin: '$BIN' is not an executable"
BIN=$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")
if [ -n "$PARTITION" ]; then
  command -v iptables >/dev/null 2>&1 || skip "--partition needs iptables (Debian/Ubuntu: apt-get install iptables)"
fi

P=stp-$$-
HUB=${P}hub
SUBNET=10.213.0
TARGET_IP=$SUBNET.2
COORD_IP=$SUBNET.3
NAMESPACES=()
PIDS=()
TMP=$(mktemp -d /tmp/stampede-netns.XXXXXX)
LOGDIR=${LOGS:-$TMP}
mkdir -p "$LOGDIR"
cleanup() {
  local rc=$? pid ns
  trap - EXIT INT TERM HUP
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for _ in $(seq 1 30); do   # at most 3 s for a graceful stop
    local alive=0
    for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  # Anything else still inside our namespaces was started by this run.
  for ns in "${NAMESPACES[@]}"; do
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
  done
  for ns in "${NAMESPACES[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$TMP"
  [ -n "${CUTTER:-}" ] && kill "$CUTTER" 2>/dev/null
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Leftovers of runs that were SIGKILLed: stp-<pid>- namespaces whose pid is gone.
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  if [[ $ns =~ ^stp-([0-9]+)- ]] && ! kill -0 "${BASH_REMATCH[1]}" 2>/dev/null; then
    log "removing stale namespace $ns"
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  fi
done

add_ns() {
  local err
  if ! err=$(ip netns add "$1" 2>&1); then
    case $err in *"Operation not permitted"*|*"Permission denied"*) skip "cannot create network namespaces here: $err" ;; esac
    log "ip netns add $1 failed: $err"; exit 3
  fi
  NAMESPACES+=("$1")
  ip -n "$1" link set lo up || return 1
}

# host NAME IP: a namespace whose eth0 is cabled to the hub's bridge. (Called under `||`, where
# set -e is off: every step checks itself.)
host() {
  local ns=$P$1 port=v-$1
  add_ns "$ns" || return 1
  ip link add eth0 netns "$ns" type veth peer name "$port" netns "$HUB" || return 1
  ip -n "$HUB" link set "$port" master br0 up || return 1
  ip -n "$ns" addr add "$2/24" dev eth0 || return 1
  ip -n "$ns" link set eth0 up || return 1
}

setup() {
  add_ns "$HUB" || return 1
  ip -n "$HUB" link add br0 type bridge || return 1
  ip -n "$HUB" link set br0 up || return 1
  host target "$TARGET_IP" || return 1
  host coord "$COORD_IP" || return 1
  for k in $(seq 1 "$WORKERS"); do host "w$k" "$SUBNET.$((10 + k))" || return 1; done
}
setup || { log "network setup failed"; exit 3; }
log "hosts: target $TARGET_IP, coord $COORD_IP, w1..w$WORKERS $SUBNET.11..$SUBNET.$((10 + WORKERS)) (namespaces ${P}*, bridge in $HUB)"

# Each host gets its own hostname (a UTS namespace) when unshare can give one: the report's host column.
UTS=0
unshare --uts true 2>/dev/null && UTS=1
# start NAME LOG cmd...: runs cmd in host NAME's namespace, in the background; its pid is the command's.
start() {
  local name=$1 logfile=$2; shift 2
  if [ $UTS = 1 ]; then
    ip netns exec "$P$name" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$name" "$@" >"$logfile" 2>&1 &
  else
    ip netns exec "$P$name" "$@" >"$logfile" 2>&1 &
  fi
  PIDS+=($!)
}

# shellcheck source=scripts/lib/processes.sh
. "$ROOT/scripts/lib/processes.sh"
show_logs() { show_logs_in "$LOGDIR" 20; }
# As nobody (uid 65534) unless --as-root: what a user runs, so no privileged call can hide.
RUN=()
if [ "$AS_ROOT" = 0 ]; then
  as_nobody "$BIN" "$TMP" || { log "setpriv (util-linux) is missing; use --as-root"; exit 3; }
  BIN=$STAMPEDE
  RUN=("${RUN_AS[@]}")
fi

STAMPEDE_TOKEN=$(od -An -tx1 -N24 /dev/urandom | tr -d ' \n')
export STAMPEDE_TOKEN

# shellcheck disable=SC2086  # MOCK_FLAGS is a list of flags
start target "$LOGDIR/target.log" "${RUN[@]}" "$BIN" mock --host "$TARGET_IP" --port 8000 $MOCK_FLAGS --log-level warning
if ! wait_for "$LOGDIR/target.log" "listening on" 30 "${PIDS[-1]}"; then
  log "the mock did not start"; show_logs; exit 3
fi

# The coordinator writes into a folder of its own (as_nobody made it nobody's); the report is copied to --json after.
mkdir -p "$TMP/out"
JSON_OUT=$TMP/out/report.json
[ -z "$JSON" ] || mkdir -p "$(dirname "$JSON")"
COORD_LIMIT=$((RUN_S + JOIN_S + 90))   # a hard bound on the whole run
ip netns exec "${P}coord" timeout --signal=INT --kill-after=15 "$COORD_LIMIT" \
  "${RUN[@]}" "$BIN" coordinator --bind "$COORD_IP:5557" --expect-workers "$WORKERS" --expect-workers-timeout "$JOIN_TIMEOUT" \
  --target "http://$TARGET_IP:8000" --users "$USERS" --spawn-rate "$SPAWN_RATE" --run-time "$RUN_TIME" \
  --json "$JSON_OUT" --quiet "${EXTRA[@]}" >"$TMP/report.txt" 2>"$LOGDIR/coordinator.log" &
COORD=$!
PIDS+=("$COORD")
if ! wait_for "$LOGDIR/coordinator.log" "listening on" 30 "$COORD"; then
  log "the coordinator did not start"; cat "$TMP/report.txt"; show_logs
  rc=0; wait "$COORD" || rc=$?; [ "$rc" = 0 ] && rc=3; exit "$rc"
fi

for k in $(seq 1 "$WORKERS"); do
  start "w$k" "$LOGDIR/w$k.log" "${RUN[@]}" "$BIN" worker --coordinator "$COORD_IP:5557" --name "w$k"
done
log "running: $WORKERS worker(s), $USERS user(s), $RUN_TIME$([ "$AS_ROOT" = 0 ] && echo ", as uid 65534")"

# The partition: every packet between the worker host and the coordinator is dropped for a while.
if [ -n "$PARTITION" ]; then
  (
    sleep "$CUT_AT"
    for chain in "INPUT -s" "OUTPUT -d"; do
      # shellcheck disable=SC2086  # "$chain" is a chain and a match flag
      ip netns exec "$P$CUT_HOST" iptables -A $chain "$COORD_IP" -j DROP
    done
    echo "netns-cluster: partition: $CUT_HOST cut off from the coordinator for ${CUT_FOR}s" >&2
    sleep "$CUT_FOR"
    ip netns exec "$P$CUT_HOST" iptables -F
    echo "netns-cluster: partition healed" >&2
  ) &
  CUTTER=$!
fi

rc=0
wait "$COORD" || rc=$?
cat "$TMP/report.txt"
[ -n "$JSON" ] && [ -f "$JSON_OUT" ] && cp "$JSON_OUT" "$JSON"
[ "$rc" = 124 ] && log "the coordinator ran past ${COORD_LIMIT}s and was stopped"

# Every worker must have served requests.
if [ "$rc" = 0 ] && command -v python3 >/dev/null 2>&1; then
  if ! python3 - "$JSON_OUT" "$WORKERS" "$CUT_HOST" >&2 <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
workers = {w["id"]: w for w in report.get("workers", [])}
expected = [f"w{k}" for k in range(1, int(sys.argv[2]) + 1)]
idle = [w for w in expected if workers.get(w, {}).get("finished", 0) <= 0]
print("netns-cluster: requests per worker: " + ", ".join(f"{w}={workers.get(w, {}).get('finished', 0)}" for w in expected))
if idle:
    print("netns-cluster: no requests from " + ", ".join(idle))
    sys.exit(1)
cut = sys.argv[3]
if cut:
    w = workers.get(cut, {})
    # After a rejoin the worker ends the run as a live worker with a share again, counted once.
    print(f"netns-cluster: after the partition {cut} is {w.get('state')} with {w.get('users')} users")
    if w.get("state") != "stopped" or not w.get("users"):
        sys.exit(1)
    if sum(x.get("finished", 0) for x in workers.values()) != report["overall"]["requests_finished"]:
        print("netns-cluster: per-worker requests do not add up to the total")
        sys.exit(1)
EOF
  then rc=1; fi
fi

# A partitioned worker must have been dropped and come back (a rejoin, not a run that never noticed).
if [ "$rc" = 0 ] && [ -n "$CUT_HOST" ]; then
  if grep "worker rejoined" "$LOGDIR/coordinator.log" | grep -q "$CUT_HOST"; then
    log "$CUT_HOST was cut off for ${CUT_FOR}s and rejoined"
  else
    log "$CUT_HOST never rejoined after the partition"; rc=1
  fi
fi

# After a good run the workers exit when the coordinator says quit; give them a moment before the
# trap ends them.
[ "$rc" = 0 ] && for _ in $(seq 1 50); do
  alive=0
  for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
  [ $alive = 0 ] && break
  sleep 0.1
done

if [ "$rc" != 0 ]; then
  log "run failed (exit $rc)"
  show_logs
fi
[ -n "$JSON" ] && log "wrote $JSON"
exit "$rc"
