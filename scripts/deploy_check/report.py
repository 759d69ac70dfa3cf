"""The checks' outcome: every line printed as it is decided, and counted."""

failures, passed, notes = [], [], []


def fail(msg):
    failures.append(msg)
    print(f"  FAIL {msg}")

def ok(msg):
    passed.append(msg)
    print(f"  ok   {msg}")

def check(cond, msg, detail=""):
    if cond:
        ok(msg)
    else:
        fail(msg + (f": {detail}" if detail else ""))
    return bool(cond)

def note(msg):
    notes.append(msg)
    print(f"  skip {msg}")

