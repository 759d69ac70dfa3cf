"""python3 -m deploy_check ROOT BIN STATIC(0|1) NS: the checks of scripts/check-deploy.sh, in order."""
import sys

from deploy_check import context as ctx
from deploy_check import commands, files, k8s, live
from deploy_check.report import failures, notes, passed


def main():
    ctx.ROOT, ctx.BIN, ctx.STATIC, ctx.NS = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
    files.check_schemas()
    files.check_dockerfile()
    compose_runs = files.check_compose()
    k8s_runs = k8s.check_k8s()
    live.start_each(commands.invocations)
    live.run_clusters(compose_runs, k8s_runs)
    print()
    print(f"check-deploy: {len(passed)} passed, {len(failures)} failed" + (f", {len(notes)} skipped" if notes else ""))
    for f in failures:
        print(f"  FAIL {f}")
    return 1 if failures else 0


sys.exit(main())
