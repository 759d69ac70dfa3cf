# Helpers shared by scripts that start stampede processes and watch their logs
# (ci-smoke.sh, netns-cluster.sh). Source it; it defines functions only.

# wait_for FILE TEXT SECONDS PID: until FILE contains TEXT; false when PID exits or time is up.
wait_for() {
  local _
  for _ in $(seq 1 $(($3 * 10))); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# show_logs_in DIR LINES: the last LINES lines of every DIR/*.log, on stderr.
show_logs_in() {
  local f
  for f in "$1"/*.log; do
    [ -f "$f" ] || continue
    echo "----- $(basename "$f") (last $2 lines)" >&2
    tail -n "$2" "$f" >&2
  done
}

# as_nobody BIN DIR: prepares to run BIN as nobody (uid 65534) when this script runs as root, the
# way a user runs stampede: copies BIN (and its resource bundle) into DIR/bin, readable by all
# (the checkout may sit under a folder only root can enter), makes DIR/out writable by nobody, and
# sets STAMPEDE (the binary to run) and RUN_AS (a setpriv prefix, or nothing when not root).
# Returns 1 when root but setpriv is missing.
as_nobody() {
  local bin=$1 dir=$2 bundle
  STAMPEDE=$bin
  RUN_AS=()
  mkdir -p "$dir/out"
  [ "$(id -u)" = 0 ] || return 0
  command -v setpriv >/dev/null 2>&1 || return 1
  mkdir -p "$dir/bin"
  cp "$bin" "$dir/bin/stampede"
  for bundle in "$(dirname "$bin")"/*.resources; do [ -e "$bundle" ] && cp -R "$bundle" "$dir/bin/"; done
  chmod -R a+rX "$dir"
  chown 65534:65534 "$dir/out"
  STAMPEDE=$dir/bin/stampede
  RUN_AS=(setpriv --reuid 65534 --regid 65534 --clear-groups --)
}
