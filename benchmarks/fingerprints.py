"""Behaviour fingerprints: record what the kit computes, to show a refactor changed nothing.

A fingerprint is what a fixed seed produces: every dev workload's evaluation metrics after one
and three NAdamW steps in each framework (covers init parameters, batches, model, loss and
metrics), every baseline's on mnist under both rulesets, the first quasi-random draws of every
baseline's search space, and the scores of the shared AlgoPerf logs. Timing columns are left out.

    .venv/bin/python benchmarks/fingerprints.py record docs/measurements/fingerprints/before.json
    .venv/bin/python benchmarks/fingerprints.py compare docs/measurements/fingerprints/before.json

``compare --only baseline/`` limits both sides to names with that prefix. ``compare`` records
afresh and prints one table row per fingerprint that differs (relative tolerance 1e-6), then a
summary line; exit 1 when anything differs. ``diff`` compares two recorded files instead
(``--only`` likewise), e.g. a "before" and an "after" each recorded in its own worktree:

    .venv/bin/python benchmarks/fingerprints.py diff before.json after.json --only baseline/
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIMING = {"accumulated_eval_time", "accumulated_logging_time", "accumulated_submission_time",
          "total_duration", "score", "preemption_count"}
STEPS = 3
TOLERANCE = 1e-6
LOGS = ROOT.parent / "shared" / "algoperf_reference_logs"


def _run_trial(workload: str, framework: str, submission: str, ruleset: str) -> dict:
    """Metrics of a 3-step run (eval at step 1 and at the end), timing columns dropped."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sdk.cli.main", "run", "--workload", workload,
               "--framework", framework, "--submission", submission, "--ruleset", ruleset,
               "--max-global-steps", str(STEPS), "--seed", "0", "--experiment-dir", tmp,
               "--no-tensorboard", "--no-checkpoints", "--no-progress", "--clock", "wall",
               "--threads", "1", "--jobs", "1"]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        files = sorted(Path(tmp).rglob("eval_measurements.csv"))
        if done.returncode not in (0, 1) or not files:
            return {"error": (done.stderr or done.stdout).strip().splitlines()[-1:]}
        with open(files[0], newline="") as f:
            rows = list(csv.DictReader(f))
        # Only the first and the last evaluation: when the ones between happen depends on time.
        return {r["global_step"]: {k: v for k, v in r.items() if k not in TIMING}
                for r in (rows[0], rows[-1])}


def _trial_jobs() -> dict[str, tuple[str, str, str, str]]:
    from sdk.registry import baselines, workloads

    jobs: dict[str, tuple[str, str, str, str]] = {}
    reg = workloads()
    for name in reg.names(scale="dev"):
        for fw in reg.entry(name).frameworks("dev"):
            jobs[f"workload/{name}/{fw}"] = (name, fw, "nadamw", "external")
    for base in baselines().names():
        for ruleset, by_fw in baselines().entry(base).modules.items():
            for fw in by_fw:
                jobs[f"baseline/{base}/{ruleset}/{fw}"] = ("mnist", fw, base, ruleset)
    return jobs


def _search_draws() -> dict[str, list]:
    from sdk.registry import baselines
    from sdk.search_space import SearchSpace, generate_search

    out = {}
    for base in baselines().names():
        path = baselines().entry(base).search_space
        if path is None:
            continue
        points = generate_search(SearchSpace.load(path), 8, seed=0)
        out[f"search/{base}"] = [dict(p._asdict()) for p in points]
    return out


def _scores() -> dict[str, dict]:
    if not (LOGS / "expected_scores.json").is_file():
        return {}
    from sdk.scoring import load_submissions_times, score_submissions, scoring_rules

    out = {}
    expected = json.loads((LOGS / "expected_scores.json").read_text())
    for dataset, spec in expected.items():
        if not isinstance(spec, dict) or "logs" not in spec:
            continue
        rules = scoring_rules("0.6", spec["self_tuning"], LOGS / spec["targets"])
        subs = load_submissions_times([LOGS / spec["logs"]], rules, trial_rule="earliest-eval")
        out[f"score/{dataset}"] = dict(score_submissions(subs, rules).scores.scores)
    return out


def record(jobs: int, only: tuple[str, ...] = ()) -> dict:
    """Every fingerprint of the current tree (those whose name starts with one of ``only``)."""
    trial_jobs = {k: v for k, v in _trial_jobs().items() if _wanted(k, only)}
    with ThreadPoolExecutor(jobs) as pool:
        results = dict(zip(trial_jobs, pool.map(lambda a: _run_trial(*a), trial_jobs.values()),
                           strict=True))
    if _wanted("search/", only):
        results.update(_search_draws())
    if _wanted("score/", only):
        results.update(_scores())
    return {k: v for k, v in sorted(results.items()) if _wanted(k, only)}


def _ends(value: object) -> object:
    """A trial fingerprint cut to its first and last evaluation (older files kept them all)."""
    if isinstance(value, dict) and value and all(k.isdigit() for k in value):
        steps = sorted(value, key=int)
        return {k: value[k] for k in (steps[0], steps[-1])}
    return value


def _wanted(name: str, only: tuple[str, ...]) -> bool:
    return not only or any(name.startswith(p) or p.startswith(name) for p in only)


def _differs(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() != b.keys() or any(_differs(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) != len(b) or any(_differs(x, y) for x, y in zip(a, b, strict=True))
    try:
        x, y = float(a), float(b)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return a != b
    if math.isnan(x) or math.isnan(y):
        return not (math.isnan(x) and math.isnan(y))
    return not math.isclose(x, y, rel_tol=TOLERANCE, abs_tol=1e-12)


def compare(before: dict, after: dict) -> list[str]:
    """Names of fingerprints that differ, appear or disappear."""
    return sorted(k for k in before.keys() | after.keys()
                  if k not in before or k not in after or _differs(before[k], after[k]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["record", "compare", "diff"])
    parser.add_argument("file", type=Path)
    parser.add_argument("other", type=Path, nargs="?",
                        help="diff only: the recorded file to compare FILE with")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", action="append", default=[], metavar="PREFIX",
                        help="compare only fingerprints whose name starts with PREFIX "
                             "(repeatable), e.g. baseline/ or workload/ogbg")
    args = parser.parse_args(argv)
    only = tuple(args.only)
    if (args.action == "diff") != (args.other is not None):
        parser.error("diff takes two recorded files; record and compare take one")
    now = _load(args.other, only) if args.action == "diff" else record(args.jobs, only)
    if args.action == "record":
        args.file.parent.mkdir(parents=True, exist_ok=True)
        args.file.write_text(json.dumps(now, indent=1, sort_keys=True) + "\n")
        print(f"{len(now)} fingerprints written to {args.file}")
        return 0
    return _report(_load(args.file, only), now)


def _load(path: Path, only: tuple[str, ...]) -> dict:
    """A recorded file's fingerprints (those wanted), each cut to its first and last eval."""
    return {k: _ends(v) for k, v in json.loads(path.read_text()).items() if _wanted(k, only)}


def _report(before: dict, now: dict) -> int:
    """Print a row per fingerprint that differs and a summary line; 1 when any differs."""
    diff = compare(before, now)
    print(f"{'fingerprint':60s} status")
    for name in diff:
        status = "missing now" if name not in now else "new" if name not in before else "differs"
        print(f"{name:60s} {status}")
    print(f"{len(before) - len([d for d in diff if d in before])} of {len(before)} match")
    return 1 if diff else 0


if __name__ == "__main__":
    raise SystemExit(main())
