#!/usr/bin/env python3
"""Checks `stampede sweep --csv PREFIX` against `--json` of the same sweep, with Python's csv module.

Usage: check_sweep_csv.py PREFIX SWEEP.json   (prints sweep-csv-ok and exits 0, or names what differs and exits 1)
"""
import csv
import json
import sys

from check_csv import EXCEPTIONS, FAILURES, HISTORY, STATS


def rows(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        return header, [dict(zip(header, row)) for row in reader]


def main():
    prefix, json_path = sys.argv[1], sys.argv[2]
    sweep = json.load(open(json_path))
    problems = []
    header, stats = rows(prefix + "_stats.csv")
    if header[:len(STATS)] != STATS:
        problems.append(f"stats columns {header[:len(STATS)]}")
    steps = sweep["steps"]
    if len(stats) != len(steps) + 1:
        problems.append(f"{len(stats)} stats rows for {len(steps)} steps")
    for step, row in zip(steps, stats):
        load = f"{step['users']} user" if step.get("users") is not None else f"{step['rate']} req/s"
        if not row["Name"].startswith(f"step {step['number']}: {load}"):
            problems.append(f"row {row['Name']!r} for step {step['number']}")
        if int(row["Request Count"]) != step["requests"] or int(row["Failure Count"]) != step["errors"]:
            problems.append(f"step {step['number']}: {row['Request Count']}/{row['Failure Count']} vs {step['requests']}/{step['errors']}")
        if abs(float(row["Requests/s"]) - step["requests_per_second"]) > 1e-3 * max(1, step["requests_per_second"]):
            problems.append(f"step {step['number']}: req/s {row['Requests/s']} vs {step['requests_per_second']}")
    aggregated = stats[-1] if stats else {}
    if aggregated.get("Name") != "Aggregated" or int(aggregated.get("Request Count", -1)) != sum(s["requests"] for s in steps):
        problems.append(f"aggregated row {aggregated}")
    header, history = rows(prefix + "_stats_history.csv")
    if header[:len(HISTORY)] != HISTORY or not history:
        problems.append(f"history columns {header[:len(HISTORY)]} or no rows")
    total = [int(r["Total Request Count"]) for r in history]
    if total != sorted(total):
        problems.append("history totals go down")
    for path, columns in ((prefix + "_failures.csv", FAILURES), (prefix + "_exceptions.csv", EXCEPTIONS)):
        header, _ = rows(path)
        if header != columns:
            problems.append(f"{path} columns {header}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("sweep-csv-ok")


if __name__ == "__main__":
    main()
