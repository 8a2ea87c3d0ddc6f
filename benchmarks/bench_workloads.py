"""The dev suite as a user runs it: NAdamW, one study, one trial per workload.

Runs one real command, ``paceline run --workload W1 --workload W2 ... --submission nadamw
--studies 1`` (the first point of NAdamW's search space, default logging, checkpoints and
TensorBoard), times it, and reads every trial's logs back. Per workload it prints the
time-to-target (submission time, what AlgoPerf scores), the budget, the step time (first step
left out: it includes compilation), the number of evals and their share of the trial's wall
time (goal: under 10%), and the trial's wall time; then the wall time of the whole command
(goal for the eight-workload suite: at most 10 minutes on a 2-core machine). Datasets are
prepared before the clock starts.

    .venv/bin/python benchmarks/bench_workloads.py                 # the dev suite + mnist
    .venv/bin/python benchmarks/bench_workloads.py --workloads mnist ogbg --framework jax

Timings on a shared machine are only indicative; pass ``--speed-factor`` (from
``paceline calibrate``) to run with budgets scaled for a slower machine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sdk.registry import workloads
from sdk.rulesets import VERSION_CHOICES, resolve_version
from sdk.text_tables import format_table
from workloads.target_setting import eval_rows, timing_from_rows

REPO = Path(__file__).resolve().parents[1]
SUITE_WALL_GOAL_SEC = 600  # the whole dev suite in at most 10 minutes (issue text)
EVAL_SHARE_GOAL = 0.10


def default_workloads() -> list[str]:
    names = workloads().names(scale="dev", scored=True, variants=False)
    return ["mnist", *names] if "mnist" in workloads() else names


def prepare_data(names: list[str]) -> None:
    done = set()
    for name in names:
        ref = workloads().entry(name).prepare
        if ref and ref not in done:
            done.add(ref)
            workloads().prepare_fn(name)(data_dir=None, force=False)


def run_suite(names: list[str], args: argparse.Namespace, folder: Path) -> tuple[float, dict]:
    """Run the suite as one `paceline run` command; (wall seconds, its --json summary)."""
    out = folder / "summary.json"
    cmd = [sys.executable, "-m", "sdk.cli.main", "run", "--submission", "nadamw",
           "--framework", args.framework, "--studies", "1", "--trials", "1", "--seed",
           str(args.seed), "--ruleset-version", args.ruleset_version, "--experiment-dir",
           str(folder), "--json", str(out), "--no-progress"]
    for name in names:
        cmd += ["--workload", name]
    if args.speed_factor:
        cmd += ["--speed-factor", str(args.speed_factor)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    print("running:", " ".join(cmd[2:]).replace("sdk.cli.main", "paceline"), file=sys.stderr)
    started = time.time()
    proc = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=sys.stderr,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"}, check=False)
    wall = time.time() - started
    if proc.returncode != 0 or not out.is_file():
        sys.exit(f"bench_workloads: `paceline run` failed with exit code {proc.returncode}.")
    return wall, json.loads(out.read_text())


def workload_row(trial: dict[str, Any]) -> dict[str, Any]:
    rows = eval_rows(Path(trial["trial_dir"]))
    step_time, _ = timing_from_rows(rows, trial["global_step"], trial["submission_time_sec"])
    wall = trial["total_duration_sec"]
    return {
        "workload": trial["workload"], "metric": trial["target_metric"],
        "target": trial["validation_target"], "best": trial["best_validation_metric"],
        "time_to_target_sec": trial["time_to_target_sec"], "budget_sec": trial["budget_sec"],
        "status": trial["status"], "steps": trial["global_step"],
        "step_time_sec": step_time, "evals": trial["num_evals"],
        "eval_time_sec": trial["eval_time_sec"],
        "eval_share": trial["eval_time_sec"] / wall if wall > 0 else None,
        "trial_wall_sec": wall,
    }


def print_report(rows: list[dict[str, Any]], wall: float, names: list[str]) -> None:
    table = format_table(
        ["workload", "metric", "target", "best", "time-to-target(s)", "budget(s)", "steps",
         "ms/step", "evals", "eval share", "trial wall(s)"],
        [(r["workload"], r["metric"], r["target"], r["best"], r["time_to_target_sec"],
          r["budget_sec"], r["steps"], 1000 * r["step_time_sec"], r["evals"],
          f"{100 * r['eval_share']:.1f}%" if r["eval_share"] is not None else None,
          r["trial_wall_sec"]) for r in rows])
    print(table)
    loops = sum(r["trial_wall_sec"] for r in rows)
    over = [r["workload"] for r in rows if (r["eval_share"] or 0) > EVAL_SHARE_GOAL]
    missed = [r["workload"] for r in rows if r["time_to_target_sec"] is None]
    print(f"\nwhole command: {wall:.0f}s wall for {len(names)} workloads (trials {loops:.0f}s, "
          f"imports/data/model setup {wall - loops:.0f}s); goal for the 8-workload suite: "
          f"<= {SUITE_WALL_GOAL_SEC}s")
    if over:
        print(f"evals above {EVAL_SHARE_GOAL:.0%} of wall time: {', '.join(over)}")
    if missed:
        print(f"missed the target: {', '.join(missed)}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", nargs="+", metavar="NAME",
                   help="default: mnist and every scored dev workload")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                   default="0.5")
    p.add_argument("--threads", type=int)
    p.add_argument("--speed-factor", type=float)
    p.add_argument("--keep", metavar="DIR", help="keep the run's logs in DIR")
    p.add_argument("--json", metavar="OUT", help="write the figures here")
    args = p.parse_args()
    names = args.workloads or default_workloads()
    for name in names:
        workloads().workload_class(name, "dev", args.framework)  # unknown names fail early
    prepare_data(names)
    with tempfile.TemporaryDirectory(prefix="bench-workloads-") as tmp:
        folder = Path(args.keep or tmp)
        wall, summary = run_suite(names, args, folder)
        rows = [workload_row(t) for t in summary["trials"]]
    print_report(rows, wall, names)
    if args.json:
        Path(args.json).write_text(json.dumps(
            {"framework": args.framework, "seed": args.seed, "wall_sec": wall,
             "workloads": rows, "cpu_count": os.cpu_count()}, indent=2) + "\n")


if __name__ == "__main__":
    main()
