"""The official schemas, the Dockerfile and .dockerignore, compose.yaml and .env.example."""
import glob
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

from deploy_check import context as ctx
from deploy_check.commands import check_invocation, compose_interpolate, flag_value, split_hostport, url_host_port
from deploy_check.report import check, note


def check_schemas():
    print("Schemas (Compose Specification, Kubernetes OpenAPI, CI)")
    def has_module(name):
        return subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True).returncode == 0

    def schema_check(label, cmd):
        out = subprocess.run([sys.executable, "-m"] + cmd, capture_output=True, text=True, timeout=120)
        lines = [l for l in (out.stdout + out.stderr).splitlines() if l.strip() and "passed for resource" not in l]
        check(out.returncode == 0, label, " | ".join(lines[-6:]))

    if has_module("check_jsonschema"):
        if os.path.isfile(os.path.join(ctx.ROOT, "compose.yaml")):
            schema_check("compose.yaml follows the Compose Specification",
                         ["check_jsonschema", "--builtin-schema", "vendor.compose-spec", os.path.join(ctx.ROOT, "compose.yaml")])
        if os.path.isfile(os.path.join(ctx.ROOT, "Docker", "compose.hostnet.yaml")):
            schema_check("Docker/compose.hostnet.yaml follows the Compose Specification",
                         ["check_jsonschema", "--builtin-schema", "vendor.compose-spec",
                          os.path.join(ctx.ROOT, "Docker", "compose.hostnet.yaml")])
        ci_doc = os.path.join(ctx.ROOT, "docs", "ci.md")
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
    k8s_files = sorted(glob.glob(os.path.join(ctx.ROOT, "Docker", "k8s", "*.yaml")))
    if has_module("kubernetes_validate"):
        if k8s_files:
            schema_check("Docker/k8s/*.yaml follow the Kubernetes schemas (strict)",
                         ["kubernetes_validate", "--strict", "--no-warn"] + k8s_files)
    else:
        note("the Kubernetes schemas: kubernetes-validate is not installed (pip install kubernetes-validate)")



def check_dockerfile():
    print("Dockerfile and .dockerignore")
    dockerfile_path = os.path.join(ctx.ROOT, "Docker", "Dockerfile")
    if check(os.path.isfile(dockerfile_path), "Docker/Dockerfile exists"):
        text = open(dockerfile_path).read()
        lines = [l.strip() for l in re.sub(r"\\\n", " ", text).splitlines() if l.strip() and not l.strip().startswith("#")]
        args = dict(re.findall(r"^ARG (\w+)=(\S+)", "\n".join(lines), re.M))
        def resolve(s):
            for _ in range(5):  # an ARG's default may name another ARG (RUNTIME_BASE=ubuntu:${UBUNTU_RELEASE})
                s = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)), s)
            return s
        # BuildKit fetches a `# syntax=` frontend from a registry before anything else: a machine
        # without one cannot build at all (found with a real engine, scripts/compose-check.sh).
        check(not re.search(r"^#\s*syntax\s*=", text, re.M | re.I), "no `# syntax=` line (it needs a registry)")
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
        stages = {m.group(2).lower(): resolve(m.group(1)) for m in
                  (re.match(r"^FROM\s+(\S+)\s+AS\s+(\S+)", l, re.I) for l in lines) if m}
        check(stages.get("prebuilt") == "scratch" and re.search(r"^COPY Docker/prebuilt/ /out/", text, re.M),
              "a `prebuilt` stage takes a host-built binary from Docker/prebuilt/", str(stages))
        check(args.get("BINARY") == "build" and stages.get("binary") == "build",
              "the Swift build stage is the default binary (ARG BINARY=build)", f"BINARY={args.get('BINARY')}")
        check(re.search(r"^COPY --from=binary /out/ /usr/local/bin/", text, re.M), "the runtime copies the chosen binary stage")
        check(re.search(r"swift build -c release --product stampede", text), "builds the stampede product in release mode")
        check("--static-swift-stdlib" in text or "/usr/lib/swift/linux" in text,
              "the Swift runtime is linked in statically or copied from the builder")
        check(re.search(r"stampede_StampedeWorkload\.resources", text), "copies the resource bundle (prompts) next to the binary")
        bundle = os.path.join(os.path.dirname(ctx.BIN), "stampede_StampedeWorkload.resources")
        check(os.path.isdir(bundle), "the bundle name matches what SwiftPM builds", bundle)
        runtime_part = text[text.rfind("\nFROM "):]
        for pkg in ("libstdc++6", "zlib1g", "ca-certificates", "tzdata"):
            check(pkg in runtime_part, f"the runtime image installs {pkg}")
        users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
        check(users and users[-1].split(":")[0] not in ("root", "0"), "runs as a non-root user", f"USER {users}")
        entry = [l for l in lines if l.upper().startswith("ENTRYPOINT")]
        check(entry and json.loads(entry[-1].split(None, 1)[1]) in (["stampede"], ["/usr/local/bin/stampede"]),
              "the entrypoint is `stampede`", str(entry))
    ignore_path = os.path.join(ctx.ROOT, ".dockerignore")
    if check(os.path.isfile(ignore_path), ".dockerignore exists"):
        patterns = [l.strip() for l in open(ignore_path) if l.strip() and not l.startswith("#")]
        for p in (".build", ".git", "results", ".env"):
            check(any(x.rstrip("*/").lstrip("/") == p or x.lstrip("/").startswith(p) for x in patterns),
                  f".dockerignore leaves out {p}")
        check(not any(x.rstrip("*/").lstrip("/") in ("Docker", "Docker/prebuilt") for x in patterns),
              ".dockerignore keeps Docker/prebuilt/ (BINARY=prebuilt reads it)")



def check_compose():
    """Returns what the live run needs (the three commands and the replicas), or {}."""
    print("compose.yaml")
    compose_runs = {}
    compose_path = os.path.join(ctx.ROOT, "compose.yaml")
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
        check(not flag_value(wrk, "--name"), "worker: no fixed --name (each replica's default id is hostname-pid-random)")
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

        check_compose_hostnet(services, crd, wrk)

    env_example = os.path.join(ctx.ROOT, ".env.example")
    if check(os.path.isfile(env_example), ".env.example exists"):
        values = dict(l.strip().split("=", 1) for l in open(env_example) if "=" in l and not l.lstrip().startswith("#"))
        tok = values.get("STAMPEDE_TOKEN")
        check(tok is not None and (tok == "" or re.search(r"change|replace|example|placeholder", tok, re.I)),
              ".env.example has STAMPEDE_TOKEN with no real value", repr(tok))
    if shutil.which("git") and os.path.isdir(os.path.join(ctx.ROOT, ".git")):
        tracked = subprocess.run(["git", "-C", ctx.ROOT, "ls-files", "--", ".env", "results"], capture_output=True, text=True).stdout.split()
        check(not tracked, "no .env or results are tracked by git", " ".join(tracked))

    return compose_runs


def check_compose_hostnet(services, crd, wrk):
    """Docker/compose.hostnet.yaml, the override scripts/compose-check.sh runs compose.yaml with."""
    path = os.path.join(ctx.ROOT, "Docker", "compose.hostnet.yaml")
    if not check(os.path.isfile(path), "Docker/compose.hostnet.yaml exists (compose.yaml on the host network)"):
        return
    over = (yaml.safe_load(open(path)) or {}).get("services") or {}
    check(set(over) == set(services), "compose.hostnet.yaml: overrides every service of compose.yaml",
          f"{sorted(over)} vs {sorted(services)}")
    names = {"target": url_host_port(flag_value(crd, "--target"))[0], "coordinator": split_hostport(flag_value(wrk, "--coordinator"))[0]}
    for name, svc in over.items():
        svc = svc or {}
        check(svc.get("network_mode") == "host" and not svc.get("networks"), f"compose.hostnet.yaml: {name} is on the host network")
        hosts = {}
        for entry in svc.get("extra_hosts") or []:
            host, _, addr = str(entry).replace("=", ":", 1).partition(":")
            hosts[host] = addr
        check(all(hosts.get(n) == "127.0.0.1" for n in names.values()),
              f"compose.hostnet.yaml: {name} resolves {', '.join(sorted(names.values()))} to 127.0.0.1", str(hosts))
