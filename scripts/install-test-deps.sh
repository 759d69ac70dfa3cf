#!/usr/bin/env bash
# Installs what the test suite needs beyond the Swift toolchain. Idempotent; CI runs it first.
# python3 (LLMPerf file checks, check-deploy.sh), PyYAML (check-deploy.sh parses compose.yaml and
# the Kubernetes manifests), chromium (the HTML report's screenshot test), iproute2 and iptables (netns-cluster.sh and its partition), setpriv, check-jsonschema and kubernetes-validate
# (check-deploy.sh's schema checks). Tests whose tools are missing skip.
set -euo pipefail
can_apt() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}
need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v iptables >/dev/null 2>&1 || need+=(iptables)     # netns-cluster.sh --partition
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)    # processes run as nobody under root
command -v chromium >/dev/null 2>&1 || need+=(chromium)     # headless screenshots of --html reports
if [ ${#need[@]} -gt 0 ]; then
  if can_apt; then
    apt_install "${need[@]}"
  else
    echo "install-test-deps: missing ${need[*]} and cannot apt-get; tests that need them will skip" >&2
  fi
fi
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import yaml' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check pyyaml >/dev/null 2>&1 || true
  if ! python3 -c 'import yaml' 2>/dev/null && can_apt; then apt_install python3-yaml || true; fi
  python3 -c 'import yaml' 2>/dev/null \
    || echo "install-test-deps: PyYAML missing (pip install pyyaml); the check-deploy tests will skip" >&2
fi
# The official schemas check-deploy.sh validates against, offline: the Compose Specification and
# the CI schemas (check-jsonschema), the Kubernetes OpenAPI schemas (kubernetes-validate).
# Optional: without them those checks are skipped.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import check_jsonschema, kubernetes_validate' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check check-jsonschema kubernetes-validate >/dev/null 2>&1 \
    || echo "install-test-deps: check-jsonschema / kubernetes-validate not installed; check-deploy skips the schema checks" >&2
fi
# The --web tests: prometheus-client parses /metrics; selenium drives headless Chromium through Debian's
# chromium-driver. Optional: without them those tests skip.
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import prometheus_client' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check prometheus-client >/dev/null 2>&1 \
    || echo "install-test-deps: prometheus-client not installed; the /metrics test skips" >&2
fi
if ! command -v chromedriver >/dev/null 2>&1; then
  if can_apt; then apt_install chromium-driver || true; fi
  command -v chromedriver >/dev/null 2>&1 || echo "install-test-deps: chromium-driver missing; the dashboard browser test skips" >&2
fi
if command -v python3 >/dev/null 2>&1 && ! python3 -c 'import selenium' 2>/dev/null; then
  python3 -m pip install -q --disable-pip-version-check selenium >/dev/null 2>&1 \
    || echo "install-test-deps: selenium not installed; the dashboard browser test skips" >&2
fi
