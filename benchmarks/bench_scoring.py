"""How long `paceline score` takes on each shared AlgoPerf dataset, and how fast it starts.

    .venv/bin/python benchmarks/bench_scoring.py            # 3 repeats, median
    .venv/bin/python benchmarks/bench_scoring.py --repeats 5
    PACELINE_ALGOPERF_V05_LOGS=<...>/algoperf_v05/logs .venv/bin/python benchmarks/bench_scoring.py

For each dataset of ``../shared/algoperf_reference_logs/expected_scores.json`` (and the v0.5
leaderboards when ``PACELINE_ALGOPERF_V05_LOGS`` points at their logs) it reports the trials
and eval rows read, the time to read the logs into per-workload times, the time to score them,
and the largest difference from the reference scores. It also times ``paceline score --help``
(start-up) and a whole ``paceline score`` process on the v0.6 external-tuning logs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sdk.scoring import load_submissions_times, score_submissions, scoring_rules  # noqa: E402
from sdk.text_tables import format_table  # noqa: E402

LOGS = Path(os.environ.get("PACELINE_REFERENCE_LOGS",
                           REPO.parent / "shared" / "algoperf_reference_logs"))
V05_PUBLISHED = {
    "external_tuning": {"shampoo_submission": 0.7784, "schedule_free_adamw": 0.7077,
                        "generalized_adam": 0.6383, "cyclic_lr": 0.6301, "nadamp": 0.5909,
                        "baseline": 0.5707, "amos": 0.4918, "caspr_adaptive": 0.4722,
                        "lawa_queue": 0.3699, "lawa_ema": 0.3384,
                        "schedule_free_prodigy": 0.0},
    "self_tuning": {"schedule_free_adamw": 0.8542, "baseline": 0.8194,
                    "nadamw_sequential": 0.3308, "sinv6_75": 0.1420, "sinv6": 0.0903,
                    "adamg": 0.0},
}


def datasets() -> list[dict]:
    out = []
    expected = json.loads((LOGS / "expected_scores.json").read_text())
    for name, spec in expected.items():
        if isinstance(spec, dict) and "logs" in spec:
            out.append({"name": name, "version": "0.6", "path": LOGS / spec["logs"],
                        "targets": LOGS / spec["targets"], "self": spec["self_tuning"],
                        "expected": spec["reference_unrounded"]})
    v05 = os.environ.get("PACELINE_ALGOPERF_V05_LOGS")
    if v05:
        for ruleset, published in V05_PUBLISHED.items():
            out.append({"name": f"v05_{ruleset} (published)", "version": "0.5",
                        "path": Path(v05, ruleset), "targets": None,
                        "self": ruleset == "self_tuning", "expected": published})
    return out


def count_rows(path: Path) -> tuple[int, int]:
    files = list(path.rglob("eval_measurements.csv"))
    rows = 0
    for f in files:
        with open(f, "rb") as fh:
            rows += max(0, sum(1 for _ in fh) - 1)
    return len(files), rows


def bench_dataset(d: dict, repeats: int) -> list:
    rules = scoring_rules(d["version"], d["self"], d["targets"])
    reads, scores = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subs = load_submissions_times([d["path"]], rules)
        t1 = time.perf_counter()
        board = score_submissions(subs, rules)
        t2 = time.perf_counter()
        reads.append(t1 - t0)
        scores.append(t2 - t1)
    worst = max(abs(board.scores.scores[s] - v) for s, v in d["expected"].items())
    files, rows = count_rows(d["path"])
    return [d["name"], len(subs), files, rows, f"{statistics.median(reads):.2f}",
            f"{1000 * statistics.median(scores):.1f}", f"{worst:.1e}"]


def bench_cli(repeats: int) -> list[list]:
    paceline = [sys.executable, "-m", "sdk.cli.main"]
    spec = json.loads((LOGS / "expected_scores.json").read_text())["v06_external_tuning"]
    commands = {
        "paceline score --help": [*paceline, "score", "--help"],
        "paceline score <v0.6 external logs>": [
            *paceline, "score", str(LOGS / spec["logs"]), "--ruleset-version", "0.6",
            "--targets", str(LOGS / spec["targets"])],
    }
    rows = []
    for label, cmd in commands.items():
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
            times.append(time.perf_counter() - t0)
        rows.append([label, f"{statistics.median(times):.2f}"])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not LOGS.is_dir():
        print(f"AlgoPerf reference logs not found at {LOGS}; set PACELINE_REFERENCE_LOGS.")
        return 1
    rows = [bench_dataset(d, args.repeats) for d in datasets()]
    print(f"Scoring the shared datasets (median of {args.repeats}; os.cpu_count()="
          f"{os.cpu_count()}):")
    print(format_table(["dataset", "submissions", "trials", "eval rows", "read (s)",
                        "score (ms)", "max |diff| vs reference"], rows))
    print()
    print(format_table(["command (whole process)", "wall (s)"], bench_cli(args.repeats)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
