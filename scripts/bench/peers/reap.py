#!/usr/bin/env python3
"""Runs a command as a child subreaper and waits for every process it starts, orphans included.

    python3 reap.py CMD [ARGS...]

Under GNU time (`/usr/bin/time python3 reap.py CMD`) the reported user+sys CPU then covers the whole
process tree of CMD: the kernel adds a child's CPU to its parent's only when the parent waits for it,
and a process whose parent exited first is re-parented to the nearest subreaper (this one, not init),
which waits for it here. SIGTERM/SIGINT (e.g. from `timeout`) are passed on to CMD, and reaping goes
on until no child is left. Exits with CMD's status; prints to stderr how many processes it reaped
and how many of them were orphans (re-parented), so a report can say that nothing escaped.

Bounded: once CMD has exited, orphans get REAP_GRACE seconds (default 30) to end; then they get
SIGTERM, and 5 seconds later SIGKILL. The report counts the ones it had to stop.
"""
import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
    sys.exit(f"reap.py: prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")
child = subprocess.Popen(sys.argv[1:])


def forward(signum, _frame):
    try:
        os.kill(child.pid, signum)
    except ProcessLookupError:
        pass


signal.signal(signal.SIGTERM, forward)
signal.signal(signal.SIGINT, forward)
GRACE = float(os.environ.get("REAP_GRACE", "30"))


def children():
    """Our children now (CMD's orphans are re-parented to us), from /proc."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == me:  # field 4, after "pid (comm) state"
                found.append(int(entry))
    return found


status, reaped, orphans, stopped = 1, 0, 0, 0
cmd_done_at, signalled = None, None
while True:
    try:
        pid, st = os.waitpid(-1, 0 if cmd_done_at is None else os.WNOHANG)
    except ChildProcessError:
        break
    except InterruptedError:
        continue
    if pid == 0:  # orphans still running after CMD ended: wait, then stop them
        waited = time.monotonic() - cmd_done_at
        if waited >= GRACE + 5 and signalled != signal.SIGKILL or waited >= GRACE and signalled is None:
            signalled = signal.SIGKILL if waited >= GRACE + 5 else signal.SIGTERM
            for orphan in children():
                try:
                    os.kill(orphan, signalled)
                    stopped += signalled == signal.SIGTERM
                except ProcessLookupError:
                    pass
        time.sleep(0.1)
        continue
    reaped += 1
    if pid == child.pid:
        status = os.waitstatus_to_exitcode(st)
        child.returncode = status  # so that Popen does not wait for it again
        cmd_done_at = time.monotonic()
    else:
        orphans += 1
print(f"reap.py: reaped {reaped} processes, {orphans} of them orphans"
      + (f"; stopped {stopped} still running {GRACE:g} s after the command ended" if stopped else ""), file=sys.stderr)
sys.exit(status if status >= 0 else 128 - status)
