"""How far did dev-clock trials' steps drift from their probe, and does the canary see it?

    python benchmarks/bench_step_drift.py experiments/reference/dev ...   # any trial folders

Every dev-clock trial under the folders given (AlgoPerf's layout) is read back: the CPU it
paid a step between its second and last evaluation, over its clock scale
(:func:`sdk.clock.step_cpu_sec`), against the CPU its probe paid for the reference step (the
calibration machine's recorded step over the same scale), and its canary at start and end
against the one read at calibration. Per submission and workload it prints the step ratio and
the canary ratio (min, median, max) and their Pearson correlation in log; then, over every
group of three or more trials, the spread of log(step ratio) around its group's mean as it
is and divided by the canary ratio: what correcting each trial's charge by its canary would
leave. A ratio of 1.0 is a trial that paid what its probe did; another algorithm's step, or
another dropout, has its own cost, so compare within a group.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def read_trial(meta_path: Path) -> dict[str, Any] | None:
    """One trial's step ratio and canary ratio, or ``None`` when it cannot say."""
    from sdk.clock import step_cpu_sec
    from workloads.dev_clock import reference_step

    meta = json.loads(meta_path.read_text())
    m = meta.get("paceline.measurement") or {}
    workload = meta.get("workload.workload_name")
    found = reference_step(workload) if workload else None
    if m.get("clock") != "dev" or found is None or not m.get("canary_calibrated_sec"):
        return None
    with open(meta_path.with_name("eval_measurements.csv"), newline="") as f:
        evals = [(float(r["accumulated_submission_time"]), int(r["global_step"]))
                 for r in csv.DictReader(f)]
    scale = float(m.get("clock_scale") or 1.0)
    step = step_cpu_sec(evals, scale)
    canaries = [c for c in (m.get("canary_start_sec"), m.get("canary_end_sec")) if c]
    if step is None or not canaries:
        return None
    probe_step = found[1] / scale  # scale = recorded step / the probe's CPU step
    return {"group": (meta.get("paceline.submission", "?"), workload), "step": step / probe_step,
            "canary": statistics.mean(canaries) / m["canary_calibrated_sec"]}


def pearson(x: list[float], y: list[float]) -> float:
    mx, my = statistics.mean(x), statistics.mean(y)
    sx = math.sqrt(sum((a - mx) ** 2 for a in x))
    sy = math.sqrt(sum((b - my) ** 2 for b in y))
    return sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / (sx * sy) \
        if sx > 0 and sy > 0 else math.nan


def spread(groups: dict[Any, list[dict[str, float]]], corrected: bool) -> float:
    """Root mean square of log(step ratio) around its group's mean (groups of 3 or more)."""
    dev = []
    for trials in groups.values():
        if len(trials) < 3:
            continue
        logs = [math.log(t["step"] / (t["canary"] if corrected else 1.0)) for t in trials]
        mean = statistics.mean(logs)
        dev += [(v - mean) ** 2 for v in logs]
    return math.sqrt(statistics.mean(dev)) if dev else math.nan


def main() -> int:
    from sdk.text_tables import format_table

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folders", nargs="+")
    args = p.parse_args()
    groups: dict[Any, list[dict[str, float]]] = defaultdict(list)
    for folder in args.folders:
        for meta in sorted(Path(folder).rglob("meta_data_0.json")):
            trial = read_trial(meta)
            if trial is not None:
                groups[trial["group"]].append(trial)
    if not groups:
        print("no dev-clock trial with three evaluations and a canary under "
              f"{', '.join(args.folders)}", file=sys.stderr)
        return 2
    rows = []
    for (submission, workload), trials in sorted(groups.items()):
        s = sorted(t["step"] for t in trials)
        c = sorted(t["canary"] for t in trials)
        r = pearson([math.log(t["canary"]) for t in trials],
                    [math.log(t["step"]) for t in trials]) if len(trials) > 2 else math.nan
        rows.append([submission, workload, len(trials),
                     f"{s[0]:.2f} {statistics.median(s):.2f} {s[-1]:.2f}",
                     f"{c[0]:.2f} {statistics.median(c):.2f} {c[-1]:.2f}",
                     "n/a" if math.isnan(r) else f"{r:+.2f}"])
    print(format_table(["submission", "workload", "trials", "step / probe's (min med max)",
                        "canary / calibration's", "Pearson r (log)"], rows))
    print(f"\nspread of log(step ratio) within groups of 3 or more: {spread(groups, False):.3f} "
          f"as charged, {spread(groups, True):.3f} divided by the canary ratio")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
