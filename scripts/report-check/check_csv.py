#!/usr/bin/env python3
"""Checks `stampede run --csv PREFIX` against `--json` of the same run, with Python's csv module.

Usage: check_csv.py PREFIX RUN.json   (prints csv-ok and exits 0, or names what differs and exits 1)
"""
import csv
import json
import sys

PCTS = ["50%", "66%", "75%", "80%", "90%", "95%", "98%", "99%", "99.9%", "99.99%", "100%"]
STATS = ["Type", "Name", "Request Count", "Failure Count", "Median Response Time", "Average Response Time",
         "Min Response Time", "Max Response Time", "Average Content Size", "Requests/s", "Failures/s"] + PCTS
HISTORY = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"] + PCTS + [
    "Total Request Count", "Total Failure Count", "Total Median Response Time", "Total Average Response Time",
    "Total Min Response Time", "Total Max Response Time", "Total Average Content Size"]
FAILURES = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"]
EXCEPTIONS = ["Count", "Message", "Traceback", "Nodes"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f)), open(path, newline="").readline().rstrip("\r\n").split(",")


def near(a, b, tol):
    return abs(float(a) - float(b)) <= tol


def main():
    prefix, json_path = sys.argv[1], sys.argv[2]
    run = json.load(open(json_path))
    overall = run["overall"]
    problems = []

    stats, header = read(prefix + "_stats.csv")
    if header[:len(STATS)] != STATS:
        problems.append(f"stats.csv columns {header[:len(STATS)]}")
    agg = [r for r in stats if r["Name"] == "Aggregated"]
    if len(agg) != 1 or stats[-1]["Name"] != "Aggregated" or agg[0]["Type"] != "":
        problems.append("stats.csv: the last row must be the one Aggregated row, with an empty Type")
    else:
        a = agg[0]
        e2e = overall["latency"]["e2e"]
        # Locust's columns keep a percentile within the exact min and max (a bucket's value can pass them).
        ms = lambda q: round(min(max(e2e[q], e2e["min"]), e2e["max"]) * 1000)
        checks = [
            ("Request Count", int(a["Request Count"]) == overall["requests_finished"]),
            ("Failure Count", int(a["Failure Count"]) == overall["requests_failed"]),
            ("Median Response Time", int(a["Median Response Time"]) == ms("p50")),
            ("Average Response Time", near(a["Average Response Time"], e2e["mean"] * 1000, 0.002)),
            ("Min Response Time", near(a["Min Response Time"], e2e["min"] * 1000, 0.002)),
            ("Max Response Time", near(a["Max Response Time"], e2e["max"] * 1000, 0.002)),
            ("Requests/s", near(a["Requests/s"], overall["requests_per_second"], 1e-5)),
            ("Failures/s", near(a["Failures/s"], overall["requests_failed"] / overall["duration_seconds"], 1e-5)),
            ("50%", int(a["50%"]) == ms("p50")),
            ("90%", int(a["90%"]) == ms("p90")),
            ("95%", int(a["95%"]) == ms("p95")),
            ("99%", int(a["99%"]) == ms("p99")),
            ("100%", int(a["100%"]) == ms("max")),
            ("TTFT Median", near(a["TTFT Median"], overall["latency"]["ttft"]["p50"] * 1000, 0.002)),
            ("ITL 95%", near(a["ITL 95%"], overall["latency"]["itl"]["p95"] * 1000, 0.002)),
            ("Output Tokens/s", near(a["Output Tokens/s"], overall["output_tokens_per_second"], 1e-4)),
        ]
        problems += [f"stats.csv Aggregated {name}: {a[name]}" for name, ok in checks if not ok]
        ladder = [int(a[p]) for p in PCTS]
        if ladder != sorted(ladder):
            problems.append(f"stats.csv percentiles not ascending: {ladder}")
    entries = stats[:-1]
    stages = run["stages"]
    if len(stages) > 1:
        if [r["Name"] for r in entries] != [s["label"] for s in stages]:
            problems.append(f"stats.csv rows {[r['Name'] for r in entries]} are not the stages")
        for row, stage in zip(entries, stages):
            if int(row["Request Count"]) != stage["summary"]["requests_finished"] or row["Type"] != "POST":
                problems.append(f"stats.csv stage row {row['Name']}: {row['Request Count']}")
    elif len(entries) != 1 or not entries[0]["Name"].startswith("/"):
        problems.append("stats.csv: one endpoint row expected")

    history, header = read(prefix + "_stats_history.csv")
    if header[:len(HISTORY)] != HISTORY:
        problems.append(f"stats_history.csv columns {header[:len(HISTORY)]}")
    series = run["time_series"]
    if len(history) != len(series):
        problems.append(f"stats_history.csv has {len(history)} rows for {len(series)} seconds")
    total = 0
    for row, point in zip(history, series):
        total += point["finished"]
        p50 = point["latency"].get("e2e_p50")
        ok = (int(row["User Count"]) == point["users"] and near(row["Requests/s"], point["finished"], 1e-6)
              and int(row["Total Request Count"]) == total and row["Name"] == "Aggregated"
              and (row["50%"] == "N/A" if p50 is None else int(row["50%"]) == round(p50 * 1000)))
        if not ok:
            problems.append(f"stats_history.csv row {row} against {point}")
            break
    times = [int(r["Timestamp"]) for r in history]
    if times != sorted(times) or (len(times) > 1 and times[-1] - times[0] != len(times) - 1):
        problems.append(f"stats_history.csv: not one row per second: {times[:5]}…")
    if history and int(history[-1]["Total Failure Count"]) != overall["requests_failed"]:
        problems.append("stats_history.csv: last Total Failure Count is not the run's")

    failures, header = read(prefix + "_failures.csv")
    if header != FAILURES:
        problems.append(f"failures.csv columns {header}")
    if sum(int(r["Occurrences"]) for r in failures) != overall["requests_failed"]:
        problems.append("failures.csv occurrences do not add up to the failed requests")
    for row in failures:
        cls = row["Error"].split(":")[0]
        if cls not in overall["errors_by_class"] or not row["First Seen"].endswith("Z"):
            problems.append(f"failures.csv row {row}")
    exceptions, header = read(prefix + "_exceptions.csv")
    if header != EXCEPTIONS:
        problems.append(f"exceptions.csv columns {header}")

    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"csv-ok {len(stats)} stats rows, {len(history)} history rows, {len(failures)} failure rows")


if __name__ == "__main__":
    main()
