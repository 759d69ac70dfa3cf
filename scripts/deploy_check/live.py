"""Running the commands for real (root only): each alone in an empty network namespace, then each
set of manifests as a small cluster in a namespace of its own."""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

from deploy_check import context as ctx
from deploy_check.commands import DUMMY_TOKEN, flag_value
from deploy_check.report import check, fail, note


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



def start_each(invocations):
    """Starts every command alone; one still running after 4 s (or that says "listening on") passed
    every check the binary makes before it serves."""
    print("Starting each command in an empty network namespace (parse + validate + start)")
    if ctx.STATIC:
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
                procs.append((label, subprocess.Popen(["unshare", "--net", ctx.BIN] + argv, stdout=log, stderr=subprocess.STDOUT, env=env), log))
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



def run_cluster(label, spec, hosts, index):
    ns = f"{ctx.NS}-{index}"
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
                   PATH=os.path.dirname(ctx.BIN) + os.pathsep + os.environ.get("PATH", ""))
        env.update({k: v for k, v in (spec.get("env") or {}).items() if k != "HOLD_SECONDS"})
        def start(argv, logname, wrapper=None):
            log = open(os.path.join(tmp, logname), "w+")
            cmd = (wrapper + argv) if wrapper else [ctx.BIN] + argv
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



def run_clusters(compose_runs, k8s_runs):
    print("Running each manifest as a cluster in a network namespace")
    if ctx.STATIC:
        note("running the clusters (--static)")
    elif os.geteuid() != 0 or not shutil.which("ip"):
        note("running the clusters: needs root and `ip`")
    else:
        if compose_runs:
            run_cluster("compose", compose_runs, ["target", "coordinator"], 1)
        if k8s_runs:
            run_cluster("kubernetes", k8s_runs, k8s_runs["hosts"], 2)

