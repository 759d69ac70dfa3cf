"""The commands the deployment files run: interpolation of their variables, the values of their
flags, and the binary's own view of them (`stampede <cmd> --help`)."""
import re
import shlex
import subprocess

from deploy_check import context as ctx
from deploy_check.report import check, fail

# ------------------------------------------------------------------ interpolation
COMPOSE_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
DUMMY_TOKEN = "check-deploy-dummy-token"

def compose_interpolate(value, where, required):
    """compose's ${VAR:-default} -> default, ${VAR:?msg} -> dummy (recorded), $$ -> $."""
    if isinstance(value, dict):
        return {k: compose_interpolate(v, f"{where}.{k}", required) for k, v in value.items()}
    if isinstance(value, list):
        return [compose_interpolate(v, f"{where}[{i}]", required) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    def rep(m):
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group(1) or m.group(4), m.group(2), m.group(3)
        if op in (":-", "-"):
            return arg
        if op in (":?", "?"):
            required.setdefault(name, []).append(where)
            return DUMMY_TOKEN if "TOKEN" in name else f"dummy-{name.lower()}"
        fail(f"compose.yaml {where}: ${{{name}}} has no default (use ${{{name}:-default}} or ${{{name}:?message}})")
        return ""
    return COMPOSE_VAR.sub(rep, value)

K8S_VAR = re.compile(r"\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")

def k8s_interpolate(arg, env):
    def rep(m):
        if m.group(0) == "$$(":
            return "$("
        return str(env.get(m.group(1), f"dummy-{m.group(1).lower()}"))
    return K8S_VAR.sub(rep, arg)

# ------------------------------------------------------------------ values (Python's own check)
DURATION = re.compile(r"^(\d+(\.\d+)?(ms|s|m|h))+$")
def is_hostport(v, allow_zero=False):
    m = re.match(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d+)$", v)
    return bool(m) and (0 if allow_zero else 1) <= int(m.group(2)) <= 65535
def is_int(v, lo, hi=None):
    return bool(re.match(r"^\d+$", v)) and int(v) >= lo and (hi is None or int(v) <= hi)
def is_number(v, lo, hi=None, open_lo=False):
    try:
        x = float(v)
    except ValueError:
        return False
    return (x > lo if open_lo else x >= lo) and (hi is None or x <= hi)

VALUE_RULES = {
    "--run-time": ("a duration like 90s or 5m", lambda v: bool(DURATION.match(v))),
    "--expect-workers-timeout": ("a duration", lambda v: bool(DURATION.match(v))),
    "--heartbeat-timeout": ("a duration", lambda v: bool(DURATION.match(v))),
    "--heartbeat-interval": ("a duration", lambda v: bool(DURATION.match(v))),
    "--request-timeout": ("a duration", lambda v: bool(DURATION.match(v))),
    "--bind": ("host:port", lambda v: is_hostport(v, allow_zero=True)),
    "--coordinator": ("host:port", lambda v: is_hostport(v)),
    "--port": ("a port 0-65535", lambda v: is_int(v, 0, 65535)),
    "--expect-workers": ("an integer >= 1", lambda v: is_int(v, 1)),
    "--max-workers": ("an integer >= 1", lambda v: is_int(v, 1)),
    "--users": ("an integer >= 1", lambda v: is_int(v, 1)),
    "--max-requests": ("an integer >= 1", lambda v: is_int(v, 1)),
    "--spawn-rate": ("a number > 0", lambda v: is_number(v, 0, open_lo=True)),
    "--max-error-rate": ("a fraction 0-1", lambda v: is_number(v, 0, 1)),
    "--target": ("an http(s) URL", lambda v: bool(re.match(r"^https?://[^/\s:]+(:\d+)?(/\S*)?$", v))),
    "--api": ("chat, completions or tgi", lambda v: v in ("chat", "completions", "tgi")),
    "--host": ("an address", lambda v: bool(re.match(r"^[A-Za-z0-9.:-]+$", v))),
}

def flag_value(argv, flag):
    """The value of the last `flag VALUE` or `flag=VALUE` in argv, or None."""
    found = None
    for i, tok in enumerate(argv):
        if tok == flag and i + 1 < len(argv):
            found = argv[i + 1]
        elif tok.startswith(flag + "="):
            found = tok.split("=", 1)[1]
    return found

def url_host_port(url):
    m = re.match(r"^https?://([^/:]+)(?::(\d+))?", url or "")
    if not m:
        return None, None
    return m.group(1), int(m.group(2) or (443 if url.startswith("https") else 80))

def split_hostport(v):
    host, _, port = (v or "").rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else None

# ------------------------------------------------------------------ the binary's own view
HELP_CACHE = {}
def known_options(sub):
    """{--flag: takes_value} from `stampede SUB --help`."""
    if sub not in HELP_CACHE:
        out = subprocess.run([ctx.BIN, sub, "--help"], capture_output=True, text=True, timeout=30)
        opts = {}
        for line in out.stdout.splitlines():
            m = re.match(r"^\s{1,4}(?:-\w, )?(--[a-z0-9][a-z0-9-]*)(?: (<[^>]+>))?", line)
            if m:
                opts[m.group(1)] = m.group(2) is not None
        HELP_CACHE[sub] = (out.returncode, opts)
    return HELP_CACHE[sub]

invocations = []   # (label, argv) for the running checks

def check_invocation(label, argv):
    print(f"- {label}: stampede {' '.join(shlex.quote(a) for a in argv)}")
    if not argv or argv[0] not in ("mock", "coordinator", "worker", "run"):
        fail(f"{label}: the first word must be a stampede command (mock, coordinator, worker, run), got {argv[:1]}")
        return
    sub = argv[0]
    rc, opts = known_options(sub)
    if rc != 0 or not opts:
        fail(f"{label}: `stampede {sub} --help` failed (exit {rc})")
        return
    # a. flag names and arity, from the help text
    i, problems = 1, []
    while i < len(argv):
        tok = argv[i]
        if not tok.startswith("-"):
            problems.append(f"stray argument '{tok}'")
            i += 1
            continue
        name, has_inline = (tok.split("=", 1)[0], True) if "=" in tok else (tok, False)
        if name not in opts:
            problems.append(f"unknown flag {name}")
            i += 1
            continue
        if opts[name]:
            if not has_inline:
                if i + 1 >= len(argv):
                    problems.append(f"{name} needs a value")
                i += 1
        elif has_inline:
            problems.append(f"{name} takes no value")
        i += 1
    check(not problems, f"{label}: every flag is one `stampede {sub} --help` lists", "; ".join(problems))
    # b. the binary converts every value (ArgumentParser does that even with --help)
    out = subprocess.run([ctx.BIN] + argv + ["--help"], capture_output=True, text=True, timeout=30)
    err = next((l for l in (out.stderr + out.stdout).splitlines() if l.startswith("Error:")), out.stderr.strip()[:200])
    check(out.returncode == 0, f"{label}: `stampede {sub} ... --help` parses every value", f"exit {out.returncode}: {err}")
    # c. values, checked here
    bad = []
    for flag, (what, ok_) in VALUE_RULES.items():
        v = flag_value(argv, flag)
        if v is not None and not ok_(v):
            bad.append(f"{flag} {v!r} is not {what}")
    check(not bad, f"{label}: values are well-formed", "; ".join(bad))
    invocations.append((label, argv))

