"""Docker/k8s: the Secret, the coordinator Job and its Service, the worker Deployment, the target."""
import glob
import os
import re

import yaml

from deploy_check import context as ctx
from deploy_check.commands import check_invocation, flag_value, k8s_interpolate, split_hostport, url_host_port
from deploy_check.report import check, fail


def check_k8s():
    """Returns what the live run needs, or {}."""
    print("Kubernetes (Docker/k8s)")
    k8s_runs = {}
    files = sorted(glob.glob(os.path.join(ctx.ROOT, "Docker", "k8s", "*.yaml")) + glob.glob(os.path.join(ctx.ROOT, "Docker", "k8s", "*.yml")))
    docs = []
    for f in files:
        for d in yaml.safe_load_all(open(f)):
            if d is not None:
                docs.append((ctx.rel(f), d))
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

    return k8s_runs
