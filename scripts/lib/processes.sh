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
