#!/usr/bin/env python3
"""Scrapes a `stampede ... --web` server's /metrics, parses it with prometheus_client's parser and checks the
figures against the run's --json results. Prints `metrics-ok` on success; exits 3 when prometheus_client is missing.

usage: check_metrics.py BASE_URL RESULTS_JSON [BEARER_TOKEN_ENV]
"""
import json
import os
import sys
import urllib.request

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print("skip: prometheus_client is not installed (scripts/install-test-deps.sh installs it)")
    sys.exit(3)


def main():
    base, results_path = sys.argv[1], sys.argv[2]
    request = urllib.request.Request(base + "/metrics")
    if len(sys.argv) > 3 and os.environ.get(sys.argv[3]):
        request.add_header("Authorization", "Bearer " + os.environ[sys.argv[3]])
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode("utf-8")
        kind = response.headers.get("Content-Type", "")
    assert kind.startswith("text/plain"), kind
    results = json.load(open(results_path))
    overall = results["overall"]

    samples = {}
    families = {}
    for family in text_string_to_metric_families(text):
        families[family.name] = family.type
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value

    def value(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        assert key in samples, f"missing sample {key}; have {sorted(k for k in samples if k[0].startswith(name))[:20]}"
        return samples[key]

    failures = []

    def check(label, got, want):
        ok = abs(got - want) < 1e-6
        print(f"{label}: {got} (json {want}) {'ok' if ok else 'MISMATCH'}")
        if not ok:
            failures.append(label)

    for metric in ["ttft", "itl", "e2e"]:
        assert families.get(f"stampede_{metric}_seconds") == "histogram", families
    check("e2e count == requests_succeeded", value("stampede_e2e_seconds_count"), overall["requests_succeeded"])
    check("ttft count == ttft n", value("stampede_ttft_seconds_count"), overall["latency"]["ttft"]["count"])
    check("itl count == itl n", value("stampede_itl_seconds_count"), overall["latency"]["itl"]["count"])
    check("+Inf bucket == count", value("stampede_e2e_seconds_bucket", le="+Inf"), value("stampede_e2e_seconds_count"))
    mean = value("stampede_e2e_seconds_sum") / max(1, value("stampede_e2e_seconds_count"))
    want_mean = overall["latency"]["e2e"]["mean"]
    print(f"e2e mean from sum/count: {mean:.6f} s (json {want_mean:.6f})")
    if want_mean > 0 and abs(mean - want_mean) / want_mean > 0.01:
        failures.append("e2e mean")
    check("succeeded counter", value("stampede_requests_total", outcome="succeeded"), overall["requests_succeeded"])
    check("failed counter", value("stampede_requests_total", outcome="failed"), overall["requests_failed"])
    for error_class, count in overall.get("errors_by_class", {}).items():
        check(f"errors {error_class}", value("stampede_request_errors_total", error_class=error_class), count)
    check("output tokens", value("stampede_output_tokens_total"), overall["output_tokens_total"])
    check("input tokens", value("stampede_input_tokens_total"), overall["input_tokens_total"])
    for gauge in ["stampede_users", "stampede_in_flight", "stampede_workers"]:
        assert families.get(gauge) == "gauge", (gauge, families.get(gauge))
    if failures:
        print("FAILED:", ", ".join(failures))
        sys.exit(1)
    print("metrics-ok")


if __name__ == "__main__":
    main()
