#!/usr/bin/env python3
"""Runs a command as a child subreaper and waits for every process it starts, orphans included.

    python3 reap.py CMD [ARGS...]

Under GNU time (`/usr/bin/time python3 reap.py CMD`) the reported user+sys CPU then covers the whole
process tree of CMD: the kernel adds a child's CPU to its parent's only when the parent waits for it,
and a process whose parent exited first is re-parented to the nearest subreaper (this one, not init),
which waits for it here. SIGTERM/SIGINT (e.g. from `timeout`) are passed on to CMD, and reaping goes
on until no child is left. Exits with CMD's status; prints to stderr how many processes it reaped
and how many of them were orphans (re-parented), so a report can say that nothing escaped.
"""
import ctypes
import os
import signal
import subprocess
import sys

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
status, reaped, orphans = 1, 0, 0
while True:
    try:
        pid, st = os.waitpid(-1, 0)
    except ChildProcessError:
        break
    except InterruptedError:
        continue
    reaped += 1
    if pid == child.pid:
        status = os.waitstatus_to_exitcode(st)
        child.returncode = status  # so that Popen does not wait for it again
    else:
        orphans += 1
print(f"reap.py: reaped {reaped} processes, {orphans} of them orphans", file=sys.stderr)
sys.exit(status if status >= 0 else 128 - status)
