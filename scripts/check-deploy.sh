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

python3 - "$FILES" "$BIN" "$STATIC" "$NS" <<'PYTHON'
import glob, json, os, re, shlex, shutil, signal, subprocess, sys, tempfile, time
import yaml

ROOT, BIN, STATIC, NS = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
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

def rel(path):
    return os.path.relpath(path, ROOT)

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
        out = subprocess.run([BIN, sub, "--help"], capture_output=True, text=True, timeout=30)
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
    out = subprocess.run([BIN] + argv + ["--help"], capture_output=True, text=True, timeout=30)
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

# ------------------------------------------------------------------ official schemas
print("Schemas (Compose Specification, Kubernetes OpenAPI, CI)")
def has_module(name):
    return subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True).returncode == 0

def schema_check(label, cmd):
    out = subprocess.run([sys.executable, "-m"] + cmd, capture_output=True, text=True, timeout=120)
    lines = [l for l in (out.stdout + out.stderr).splitlines() if l.strip() and "passed for resource" not in l]
    check(out.returncode == 0, label, " | ".join(lines[-6:]))

if has_module("check_jsonschema"):
    if os.path.isfile(os.path.join(ROOT, "compose.yaml")):
        schema_check("compose.yaml follows the Compose Specification",
                     ["check_jsonschema", "--builtin-schema", "vendor.compose-spec", os.path.join(ROOT, "compose.yaml")])
    ci_doc = os.path.join(ROOT, "docs", "ci.md")
    if os.path.isfile(ci_doc):
        blocks = re.findall(r"```yaml\n(.*?)```", open(ci_doc).read(), re.S)
        tmpdir = tempfile.mkdtemp(prefix="stampede-check-deploy.")
        try:
            for i, block in enumerate(blocks):
                first = block.splitlines()[0] if block else ""
                schema = "vendor.github-workflows" if ".github/workflows" in first else "vendor.gitlab-ci" if "gitlab-ci" in first else None
                if schema:
                    path = os.path.join(tmpdir, f"example{i}.yaml")
                    open(path, "w").write(block)
                    schema_check(f"docs/ci.md: the {first.lstrip('# ').strip()} example follows {schema}",
                                 ["check_jsonschema", "--builtin-schema", schema, path])
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
else:
    note("the Compose and CI schemas: check-jsonschema is not installed (pip install check-jsonschema)")
k8s_files = sorted(glob.glob(os.path.join(ROOT, "Docker", "k8s", "*.yaml")))
if has_module("kubernetes_validate"):
    if k8s_files:
        schema_check("Docker/k8s/*.yaml follow the Kubernetes schemas (strict)",
                     ["kubernetes_validate", "--strict", "--no-warn"] + k8s_files)
else:
    note("the Kubernetes schemas: kubernetes-validate is not installed (pip install kubernetes-validate)")

# ------------------------------------------------------------------ Dockerfile
print("Dockerfile and .dockerignore")
dockerfile_path = os.path.join(ROOT, "Docker", "Dockerfile")
if check(os.path.isfile(dockerfile_path), "Docker/Dockerfile exists"):
    text = open(dockerfile_path).read()
    lines = [l.strip() for l in re.sub(r"\\\n", " ", text).splitlines() if l.strip() and not l.strip().startswith("#")]
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", "\n".join(lines), re.M))
    def resolve(s):
        return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), s)
    froms = [resolve(l.split()[1]) for l in lines if l.upper().startswith("FROM ")]
    check(len(froms) >= 2, "multi-stage build", f"FROM lines: {froms}")
    if len(froms) >= 2:
        builder, runtime = froms[0], froms[-1]
        bm = re.match(r"^swift:(6\.[0-9.]*)-(noble|jammy)$", builder)
        check(bm, "the builder is the official swift:6.x-noble/-jammy image", builder)
        rel_names = {"noble": "24.04", "jammy": "22.04"}
        if bm:
            rm = re.match(r"^ubuntu:(.+)$", runtime)
            check(rm and rm.group(1) in (bm.group(2), rel_names[bm.group(2)]),
                  "the runtime is ubuntu of the builder's release", f"{builder} -> {runtime}")
    check(re.search(r"swift build -c release --product stampede", text), "builds the stampede product in release mode")
    check("--static-swift-stdlib" in text or "/usr/lib/swift/linux" in text,
          "the Swift runtime is linked in statically or copied from the builder")
    check(re.search(r"stampede_StampedeWorkload\.resources", text), "copies the resource bundle (prompts) next to the binary")
    bundle = os.path.join(os.path.dirname(BIN), "stampede_StampedeWorkload.resources")
    check(os.path.isdir(bundle), "the bundle name matches what SwiftPM builds", bundle)
    runtime_part = text[text.rfind("\nFROM "):]
    for pkg in ("libcurl4-openssl-dev", "libstdc++6", "ca-certificates", "tzdata"):
        check(pkg in runtime_part, f"the runtime image installs {pkg}")
    users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
    check(users and users[-1].split(":")[0] not in ("root", "0"), "runs as a non-root user", f"USER {users}")
    entry = [l for l in lines if l.upper().startswith("ENTRYPOINT")]
    check(entry and json.loads(entry[-1].split(None, 1)[1]) in (["stampede"], ["/usr/local/bin/stampede"]),
          "the entrypoint is `stampede`", str(entry))
ignore_path = os.path.join(ROOT, ".dockerignore")
if check(os.path.isfile(ignore_path), ".dockerignore exists"):
    patterns = [l.strip() for l in open(ignore_path) if l.strip() and not l.startswith("#")]
    for p in (".build", ".git", "results", ".env"):
        check(any(x.rstrip("*/").lstrip("/") == p or x.lstrip("/").startswith(p) for x in patterns),
              f".dockerignore leaves out {p}")

# ------------------------------------------------------------------ compose.yaml
print("compose.yaml")
compose_runs = {}
compose_path = os.path.join(ROOT, "compose.yaml")
if check(os.path.isfile(compose_path), "compose.yaml exists"):
    raw = yaml.safe_load(open(compose_path))
    required = {}
    doc = compose_interpolate(raw, "compose", required)
    services = doc.get("services") or {}
    raw_services = raw.get("services") or {}
    check(set(("target", "coordinator", "worker")) <= set(services),
          "services target, coordinator and worker", f"found {sorted(services)}")
    argvs = {}
    for name in ("target", "coordinator", "worker"):
        svc = services.get(name) or {}
        build = svc.get("build") or {}
        if isinstance(build, str):
            build = {"context": build}
        check(svc.get("image") and build.get("dockerfile") == "Docker/Dockerfile" and build.get("context") in (".", "./"),
              f"{name}: the project image, built from Docker/Dockerfile", f"image={svc.get('image')} build={build}")
        check("entrypoint" not in svc, f"{name}: keeps the image's entrypoint (stampede)")
        cmd = svc.get("command")
        argvs[name] = shlex.split(cmd) if isinstance(cmd, str) else [str(x) for x in (cmd or [])]
    images = {(services.get(n) or {}).get("image") for n in ("target", "coordinator", "worker")}
    check(len(images) == 1, "one image serves every role", str(images))

    tgt, crd, wrk = argvs["target"], argvs["coordinator"], argvs["worker"]
    check_invocation("compose target", tgt)
    check_invocation("compose coordinator", crd)
    check_invocation("compose worker", wrk)
    check(tgt[:1] == ["mock"] and flag_value(tgt, "--host") == "0.0.0.0", "target: `stampede mock` on 0.0.0.0")
    target_port = int(flag_value(tgt, "--port") or 8000)
    check(crd[:1] == ["coordinator"], "coordinator: `stampede coordinator`")
    bind_host, bind_port = split_hostport(flag_value(crd, "--bind") or "127.0.0.1:5557")
    check(bind_host in ("0.0.0.0", "::"), "coordinator: binds every interface (workers are other containers)", bind_host)
    t_host, t_port = url_host_port(flag_value(crd, "--target"))
    check((t_host, t_port) == ("target", target_port), "coordinator: --target is the target service and its port",
          f"{t_host}:{t_port} vs target:{target_port}")
    raw_cmd = (raw_services.get("coordinator") or {}).get("command") or []
    raw_cmd = shlex.split(raw_cmd) if isinstance(raw_cmd, str) else [str(x) for x in raw_cmd]
    raw_expect = flag_value(raw_cmd, "--expect-workers") or ""
    raw_replicas = str((((raw_services.get("worker") or {}).get("deploy") or {}).get("replicas")) or "")
    var = re.match(r"^\$\{(\w+):-(\d+)\}$", raw_expect)
    check(var, "coordinator: --expect-workers comes from an env var with a default (${WORKERS:-2})", raw_expect)
    if var:
        check(raw_replicas == raw_expect, "worker: deploy.replicas follows the same variable", f"{raw_replicas!r} vs {raw_expect!r}")
    for flag in ("--json", "--llmperf-dir"):
        v = flag_value(crd, flag) or ""
        check(v.startswith("/results/"), f"coordinator: {flag} writes under /results", v)
    vols = (services.get("coordinator") or {}).get("volumes") or []
    mounts = {}
    for v in vols:
        if isinstance(v, str):
            parts = v.split(":")
            mounts[parts[1] if len(parts) > 1 else parts[0]] = parts[0]
        else:
            mounts[v.get("target")] = v.get("source")
    check(mounts.get("/results"), "coordinator: a volume keeps /results", str(vols))
    src = mounts.get("/results") or ""
    if src and not src.startswith((".", "/")):
        check(src in (doc.get("volumes") or {}), f"the named volume '{src}' is declared")
    published = []
    for p in (services.get("coordinator") or {}).get("ports") or []:
        if isinstance(p, dict):
            published.append(int(p.get("target")))
        else:
            published.append(int(str(p).split("/")[0].split(":")[-1]))
    check(bind_port in published, f"coordinator: publishes its port {bind_port}", str(published))
    c_host, c_port = split_hostport(flag_value(wrk, "--coordinator"))
    check(wrk[:1] == ["worker"] and (c_host, c_port) == ("coordinator", bind_port),
          "worker: connects to the coordinator service on its bound port", f"{c_host}:{c_port}")
    w = services.get("worker") or {}
    check("container_name" not in w, "worker: no container_name, so `--scale worker=N` works")
    check(not w.get("ports"), "worker: publishes no fixed host port (it would collide when scaled)")
    check(not flag_value(wrk, "--name"), "worker: no fixed --name (each replica's id is its hostname)")
    def env_of(svc):
        e = svc.get("environment") or {}
        if isinstance(e, list):
            e = dict((x.split("=", 1) + [None])[:2] for x in e)
        return e
    for name in ("coordinator", "worker"):
        renv = env_of(raw_services.get(name) or {})
        check(re.match(r"^\$\{STAMPEDE_TOKEN:\?.+\}$", str(renv.get("STAMPEDE_TOKEN", ""))),
              f"{name}: STAMPEDE_TOKEN is ${{STAMPEDE_TOKEN:?message}} (compose stops with the message when unset)",
              str(renv.get("STAMPEDE_TOKEN")))
    check(set(required) <= {"STAMPEDE_TOKEN"}, "only the token is required from the environment", str(sorted(required)))
    compose_runs = {"target": tgt, "coordinator": crd, "worker": wrk,
                    "workers": int(((w.get("deploy") or {}).get("replicas")) or 1)}

env_example = os.path.join(ROOT, ".env.example")
if check(os.path.isfile(env_example), ".env.example exists"):
    values = dict(l.strip().split("=", 1) for l in open(env_example) if "=" in l and not l.lstrip().startswith("#"))
    tok = values.get("STAMPEDE_TOKEN")
    check(tok is not None and (tok == "" or re.search(r"change|replace|example|placeholder", tok, re.I)),
          ".env.example has STAMPEDE_TOKEN with no real value", repr(tok))
if shutil.which("git") and os.path.isdir(os.path.join(ROOT, ".git")):
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "--", ".env", "results"], capture_output=True, text=True).stdout.split()
    check(not tracked, "no .env or results are tracked by git", " ".join(tracked))

# ------------------------------------------------------------------ Kubernetes
print("Kubernetes (Docker/k8s)")
k8s_runs = {}
files = sorted(glob.glob(os.path.join(ROOT, "Docker", "k8s", "*.yaml")) + glob.glob(os.path.join(ROOT, "Docker", "k8s", "*.yml")))
docs = []
for f in files:
    for d in yaml.safe_load_all(open(f)):
        if d is not None:
            docs.append((rel(f), d))
check(docs, "Docker/k8s holds manifests", f"{len(files)} file(s)")
for f, d in docs:
    check(isinstance(d, dict) and d.get("apiVersion") and d.get("kind") and (d.get("metadata") or {}).get("name"),
          f"{f}: {d.get('kind')}/{(d.get('metadata') or {}).get('name')} has apiVersion, kind, metadata.name")
by_kind = {}
for f, d in docs:
    by_kind.setdefault(d.get("kind"), []).append(d)
secrets = {s["metadata"]["name"]: s for s in by_kind.get("Secret", [])}
check(secrets, "a Secret for the token")
for name, s in secrets.items():
    vals = list((s.get("stringData") or {}).values()) + list((s.get("data") or {}).values())
    check(all(v in ("", None) or re.search(r"change|replace|example|placeholder", str(v), re.I) for v in vals),
          f"Secret {name}: no real value committed")

def pod_spec(obj):
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}

def stampede_argv(c):
    """The stampede command line a container runs (entrypoint `stampede`)."""
    env = {e["name"]: e.get("value") for e in c.get("env") or [] if "value" in e}
    cmd = [k8s_interpolate(str(x), env) for x in c.get("command") or []]
    args = [k8s_interpolate(str(x), env) for x in c.get("args") or []]
    if not cmd:
        return args, None
    if os.path.basename(cmd[0]) == "stampede":
        return cmd[1:] + args, None
    if len(cmd) == 3 and os.path.basename(cmd[0]) in ("sh", "bash") and cmd[1] == "-c" and args:
        if f'stampede {args[0]} "$@"' in cmd[2]:
            return args, cmd   # sh -c SCRIPT $0=args[0] "$@"=args[1:]
    fail(f"container {c.get('name')}: command {cmd} is not `stampede ...` nor a `sh -c` wrapper running `stampede {args[:1]} \"$@\"`")
    return args, cmd

workloads = []   # (kind, obj, container, argv, wrapper)
for kind in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
    for obj in by_kind.get(kind, []):
        for c in pod_spec(obj).get("containers") or []:
            argv, wrapper = stampede_argv(c)
            workloads.append((kind, obj, c, argv, wrapper))
def find(role):
    return [w for w in workloads if w[3][:1] == [role]]
coords, workers, targets = find("coordinator"), find("worker"), find("mock")
check(len(coords) == 1 and coords[0][0] == "Job", "the coordinator is a Job", str([(w[0], w[1]["metadata"]["name"]) for w in coords]))
check(len(workers) == 1 and workers[0][0] == "Deployment" and isinstance((workers[0][1].get("spec") or {}).get("replicas"), int),
      "the workers are a Deployment with replicas")
check(len(targets) == 1 and targets[0][0] == "Deployment", "an example target: a mock Deployment")
images = {w[2].get("image") for w in workloads}
check(len(images) == 1, "one image for every role", str(images))

for kind, obj, c, argv, wrapper in workloads:
    name = obj["metadata"]["name"]
    spec, tmpl = obj.get("spec") or {}, (obj.get("spec") or {}).get("template") or {}
    labels = (tmpl.get("metadata") or {}).get("labels") or {}
    if kind == "Deployment":
        sel = (spec.get("selector") or {}).get("matchLabels") or {}
        check(sel and all(labels.get(k) == v for k, v in sel.items()), f"{name}: selector matches the pod labels")
    if kind == "Job":
        check(pod_spec(obj).get("restartPolicy") in ("Never", "OnFailure"), f"{name}: restartPolicy Never/OnFailure")
    psc, csc = pod_spec(obj).get("securityContext") or {}, c.get("securityContext") or {}
    non_root = csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True and csc.get("runAsUser", psc.get("runAsUser", 1)) != 0
    check(non_root, f"{name}: runs as non-root")
    vols = {v["name"]: v for v in pod_spec(obj).get("volumes") or []}
    for m in c.get("volumeMounts") or []:
        check(m["name"] in vols, f"{name}: volume {m['name']} is declared")
        sec = (vols.get(m["name"]) or {}).get("secret")
        if sec and not sec.get("optional"):
            check(sec.get("secretName") in secrets, f"{name}: Secret {sec.get('secretName')} exists")
    for e in c.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("secretKeyRef")
        if ref and not ref.get("optional"):
            check(ref.get("name") in secrets, f"{name}: env {e['name']} comes from an existing Secret")
    role = argv[0] if argv else "?"
    check_invocation(f"k8s {name}", argv)
    if role in ("coordinator", "worker"):
        tf = flag_value(argv, "--token-file")
        mounts = [m for m in c.get("volumeMounts") or [] if ((vols.get(m["name"]) or {}).get("secret") or {}).get("secretName") in secrets]
        check(tf and any(tf.startswith(m["mountPath"].rstrip("/") + "/") for m in mounts),
              f"{name}: --token-file reads the token Secret's mount", str(tf))
    if role == "coordinator":
        for flag in ("--json", "--llmperf-dir"):
            v = flag_value(argv, flag) or ""
            mp = [m["mountPath"] for m in c.get("volumeMounts") or [] if "emptyDir" in (vols.get(m["name"]) or {}) or "persistentVolumeClaim" in (vols.get(m["name"]) or {})]
            check(any(v.startswith(p.rstrip("/") + "/") for p in mp), f"{name}: {flag} writes to a volume ({v})")

services = by_kind.get("Service", [])
def service_backend(svc):
    sel = (svc.get("spec") or {}).get("selector") or {}
    hits = [w for w in workloads if sel and all(((w[1].get("spec") or {}).get("template", {}).get("metadata", {}).get("labels") or {}).get(k) == v for k, v in sel.items())]
    return hits
def container_port(c, target):
    for p in c.get("ports") or []:
        if target in (p.get("name"), p.get("containerPort")):
            return p.get("containerPort")
    return None
svc_ports = {}
for svc in services:
    sname = svc["metadata"]["name"]
    hits = service_backend(svc)
    check(len({id(h[1]) for h in hits}) == 1, f"Service {sname}: its selector picks exactly one workload", str([h[1]["metadata"]["name"] for h in hits]))
    for p in (svc.get("spec") or {}).get("ports") or []:
        tp = p.get("targetPort", p.get("port"))
        cp = container_port(hits[0][2], tp) if hits else None
        check(cp is not None, f"Service {sname}: port {p.get('port')} -> targetPort {tp} is a container port")
        if hits and cp is not None:
            svc_ports[sname] = (p.get("port"), cp, hits[0][3][:1])
by_role = {v[2][0]: (k, v[0], v[1]) for k, v in svc_ports.items() if v[2]}
if coords and workers and targets:
    c_argv, w_argv, t_argv = coords[0][3], workers[0][3], targets[0][3]
    cs, ts = by_role.get("coordinator"), by_role.get("mock")
    check(cs, "a Service in front of the coordinator")
    check(ts, "a Service in front of the target")
    if cs:
        bind_port = split_hostport(flag_value(c_argv, "--bind") or "127.0.0.1:5557")[1]
        check(cs[2] == bind_port, f"Service {cs[0]}: reaches the coordinator's bound port {bind_port}", str(cs))
        check(split_hostport(flag_value(w_argv, "--coordinator")) == (cs[0], cs[1]),
              "workers: --coordinator is the coordinator Service and port", flag_value(w_argv, "--coordinator"))
    if ts:
        mock_port = int(flag_value(t_argv, "--port") or 8000)
        check(ts[2] == mock_port, f"Service {ts[0]}: reaches the mock's port {mock_port}")
        check(url_host_port(flag_value(c_argv, "--target")) == (ts[0], ts[1]),
              "coordinator: --target is the target Service and port", flag_value(c_argv, "--target"))
    replicas = (workers[0][1].get("spec") or {}).get("replicas")
    check(str(replicas) == (flag_value(c_argv, "--expect-workers") or "1"),
          "coordinator: --expect-workers equals the workers' replicas", f"{flag_value(c_argv, '--expect-workers')} vs {replicas}")
    check(flag_value(t_argv, "--host") == "0.0.0.0", "target: mock binds 0.0.0.0")
    k8s_runs = {"target": t_argv, "coordinator": c_argv, "worker": w_argv, "workers": int(replicas or 1),
                "wrapper": coords[0][4], "env": {e["name"]: str(e.get("value")) for e in coords[0][2].get("env") or [] if "value" in e},
                "hosts": [by_role[r][0] for r in ("coordinator", "mock") if r in by_role]}

# ------------------------------------------------------------------ running the commands
def can_netns():
    return os.geteuid() == 0 and shutil.which("unshare") and subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0

def map_paths(argv, tmp):
    out = []
    for a in argv:
        for prefix in ("/results", "/etc/stampede"):
            if a == prefix or a.startswith(prefix + "/"):
                a = os.path.join(tmp, a.lstrip("/"))
        out.append(a)
    return out

def prepare_tmp(tmp, argvs):
    os.makedirs(os.path.join(tmp, "results"), exist_ok=True)
    for argv in argvs:
        tf = flag_value(argv, "--token-file")
        if tf:
            os.makedirs(os.path.dirname(tf), exist_ok=True)
            with open(tf, "w") as fh:
                fh.write(DUMMY_TOKEN + "\n")

def kill(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

print("Starting each command in an empty network namespace (parse + validate + start)")
if STATIC:
    note("starting the commands (--static)")
elif not can_netns():
    note("starting the commands: needs root and `unshare --net`")
else:
    tmp = tempfile.mkdtemp(prefix="stampede-check-deploy.")
    try:
        runs = [(label, map_paths(argv, tmp)) for label, argv in invocations]
        prepare_tmp(tmp, [a for _, a in runs])
        env = dict(os.environ, STAMPEDE_TOKEN=DUMMY_TOKEN)
        procs = []
        for label, argv in runs:
            log = open(os.path.join(tmp, re.sub(r"\W", "_", label) + ".log"), "w+")
            procs.append((label, subprocess.Popen(["unshare", "--net", BIN] + argv, stdout=log, stderr=subprocess.STDOUT, env=env), log))
        deadline = time.monotonic() + 4
        while time.monotonic() < deadline and any(p.poll() is None for _, p, _ in procs):
            time.sleep(0.1)
        for label, p, log in procs:
            alive = p.poll() is None
            kill(p)
            log.seek(0)
            text = log.read()
            err = next((l for l in text.splitlines() if l.startswith("Error:")), text.strip()[-300:])
            check(alive or "listening on" in text, f"{label}: starts (parse and validate passed)", f"exit {p.returncode}: {err}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

print("Running each manifest as a cluster in a network namespace")
def run_cluster(label, spec, hosts, index):
    ns = f"{NS}-{index}"
    tmp = tempfile.mkdtemp(prefix="stampede-check-deploy.")
    etc = f"/etc/netns/{ns}"
    procs = []
    try:
        subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        os.makedirs(etc, exist_ok=True)
        with open(f"{etc}/hosts", "w") as fh:
            fh.write("127.0.0.1 localhost " + " ".join(hosts) + "\n")
        def shorten(argv):
            argv = list(argv)
            for i, a in enumerate(argv[:-1]):
                if a == "--run-time":
                    argv[i + 1] = "10s"
            return map_paths(argv, tmp)
        # The example target answers with fixed delays, so that the short run finishes requests
        # (its batching model takes ~9 s per request at 32 users).
        t = shorten(spec["target"]) + ["--ttft-ms", "20", "--itl-ms", "5"]
        c, w = shorten(spec["coordinator"]), shorten(spec["worker"])
        prepare_tmp(tmp, [c, w])
        env = dict(os.environ, STAMPEDE_TOKEN=DUMMY_TOKEN, HOLD_SECONDS="0", HOSTNAME="check-deploy",
                   PATH=os.path.dirname(BIN) + os.pathsep + os.environ.get("PATH", ""))
        env.update({k: v for k, v in (spec.get("env") or {}).items() if k != "HOLD_SECONDS"})
        def start(argv, logname, wrapper=None):
            log = open(os.path.join(tmp, logname), "w+")
            cmd = (wrapper + argv) if wrapper else [BIN] + argv
            p = subprocess.Popen(["ip", "netns", "exec", ns] + cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
            procs.append((p, log, logname))
            return p, log
        tp, tlog = start(t, "target.log")
        for _ in range(200):
            tlog.seek(0)
            if "listening on" in tlog.read() or tp.poll() is not None:
                break
            time.sleep(0.1)
        cp, clog = start(c, "coordinator.log", spec.get("wrapper"))
        time.sleep(0.5)
        wps = [start(w, f"worker{k + 1}.log")[0] for k in range(spec["workers"])]
        # Bounded: 90 s in all, and 10 s once every worker has exited (they exit after the run).
        deadline, workers_gone = time.monotonic() + 90, None
        while cp.poll() is None and time.monotonic() < deadline:
            if workers_gone is None and all(p.poll() is not None for p in wps):
                workers_gone = time.monotonic()
            if workers_gone is not None and time.monotonic() - workers_gone > 10:
                break
            time.sleep(0.2)
        rc = cp.poll()
        report = {}
        path = flag_value(c, "--json")
        if path and os.path.exists(path):
            report = json.load(open(path))
        per_worker = [w_.get("finished", 0) for w_ in report.get("workers", [])]
        good = rc == 0 and len(per_worker) == spec["workers"] and all(n > 0 for n in per_worker)
        if not good:
            for p, log, logname in procs:
                log.seek(0)
                print(f"    ----- {logname}\n" + "\n".join("    " + l for l in log.read().splitlines()[-15:]))
        check(good, f"{label}: coordinator exit 0 with {spec['workers']} workers, requests per worker {per_worker}", f"exit {rc}")
        llm = flag_value(c, "--llmperf-dir")
        if good and llm:
            check(glob.glob(os.path.join(llm, "*_summary.json")), f"{label}: LLMPerf files written to --llmperf-dir")
    except subprocess.CalledProcessError as e:
        fail(f"{label}: cannot create the namespace: {e.stderr.decode().strip() if e.stderr else e}")
    finally:
        for p, log, _ in procs:
            kill(p)
            log.close()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(etc, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)

if STATIC:
    note("running the clusters (--static)")
elif os.geteuid() != 0 or not shutil.which("ip"):
    note("running the clusters: needs root and `ip`")
else:
    if compose_runs:
        run_cluster("compose", compose_runs, ["target", "coordinator"], 1)
    if k8s_runs:
        run_cluster("kubernetes", k8s_runs, k8s_runs["hosts"], 2)

print()
print(f"check-deploy: {len(passed)} passed, {len(failures)} failed" + (f", {len(notes)} skipped" if notes else ""))
for f in failures:
    print(f"  FAIL {f}")
sys.exit(1 if failures else 0)
PYTHON
