"""Does the dev clock hold? Busy machine against quiet, PyTorch against JAX, the suite's wall time.

Four measurements, each a table (the first three are real `paceline run` invocations):

* ``contention``: the same trial (workload, NAdamW, seed) run alone and beside ``--busy``
  single-thread busy loops (a browser and an editor on a laptop). Steps completed and
  time-to-target should agree within 10%, and both runs reach the target.
* ``frameworks``: NAdamW in PyTorch and in JAX on every dev workload that has both: the steps
  that fit in the budget (budget / charged seconds per step, both with the PyTorch trial's
  budget, as rules such as a100-2026 give each framework its own) should agree within 15%.
* ``suite``: the eight-workload dev suite, one trial each, ``--jobs N``: its wall time (goal:
  at most 5 minutes on 2 cores) and the sum of its trials' wall times (what one core would
  take), so the per-core scaling shows.
* ``evals``: one dev evaluation (every split, the untrained model) per workload and
  framework, in this process held to one thread: CPU seconds per evaluation with the whole
  eval batch in one forward pass and with the workload's ``dev_eval_forward_rows``, and the
  largest relative difference between the two evaluations' metrics.

    .venv/bin/python benchmarks/bench_dev_clock.py contention --workloads mnist fastmri
    .venv/bin/python benchmarks/bench_dev_clock.py frameworks --max-steps 400
    .venv/bin/python benchmarks/bench_dev_clock.py suite --jobs 2
    nice -n 19 .venv/bin/python benchmarks/bench_dev_clock.py evals \
        --workloads criteo1tb imagenet_resnet --frameworks pytorch jax

Every run gets its own fresh experiment folder; the dev-clock cache (``paceline
calibrate``) is probed first, so its probes are not timed. ``--out FILE`` keeps the rows.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sdk.registry import workloads
from sdk.text_tables import format_table

CONTENTION_TOLERANCE = 0.10
FRAMEWORK_TOLERANCE = 0.15
SUITE_GOAL_SEC = 300.0
BUSY_LOOP = "while True:\n    pass\n"


def paceline(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "sdk.cli.main", *args]


def rules(args: argparse.Namespace) -> list[str]:
    """The ``paceline run`` flags of the rules the bench runs under."""
    return ["--ruleset-version", args.ruleset_version]


def run_trial(args: argparse.Namespace, workload: str, framework: str, folder: Path,
              extra: list[str] = ()) -> tuple[dict[str, Any], float]:
    """One `paceline run` trial; (its --json trial record, wall seconds)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "summary.json"
    cmd = paceline(["run", "--workload", workload, "--framework", framework, "--submission",
                    "nadamw", "--seed", str(args.seed), "--experiment-dir", str(folder),
                    "--json", str(out), "--no-progress", "--no-tensorboard",
                    "--no-checkpoints", "--jobs", "1", *rules(args), *extra])
    t0 = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    if done.returncode != 0 or not out.is_file():
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return json.loads(out.read_text())["trials"][0], wall


class Busy:
    """``n`` single-thread busy loops, for as long as the ``with`` block runs."""

    def __init__(self, n: int) -> None:
        self.n, self.procs = n, []

    def __enter__(self) -> Busy:
        self.procs = [subprocess.Popen([sys.executable, "-c", BUSY_LOOP]) for _ in range(self.n)]
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.kill()
            p.wait()


def agree(a: float | None, b: float | None, tolerance: float) -> str:
    if a is None or b is None:
        return "-"
    return "yes" if abs(a - b) <= tolerance * max(abs(a), abs(b)) else "NO"


def contention(args: argparse.Namespace, tmp: Path) -> list[list[Any]]:
    rows = []
    for framework in args.frameworks:
        for name in args.workloads:
            if not has_framework(name, framework):
                continue
            quiet, wall_q = run_trial(args, name, framework, tmp / f"q-{name}-{framework}")
            with Busy(args.busy):
                busy, wall_b = run_trial(args, name, framework, tmp / f"b-{name}-{framework}")
            rows.append([
                name, framework, quiet["global_step"], busy["global_step"],
                agree(quiet["global_step"], busy["global_step"], CONTENTION_TOLERANCE),
                quiet["time_to_target_sec"], busy["time_to_target_sec"],
                agree(quiet["time_to_target_sec"], busy["time_to_target_sec"],
                      CONTENTION_TOLERANCE),
                f"{quiet['cpu_share']:.2f}/{busy['cpu_share']:.2f}",
                f"{wall_q:.0f}/{wall_b:.0f}",
                "ok" if quiet["measurement_trusted"] and busy["measurement_trusted"] else "CHECK",
            ])
            print_progress(rows[-1])
    print(format_table(
        ["workload", "framework", "steps quiet", f"steps busy x{args.busy}", "±10%",
         "ttt quiet(s)", "ttt busy(s)", "±10%", "cpu share q/b", "wall q/b(s)", "timing"],
        rows))
    return rows


def frameworks(args: argparse.Namespace, tmp: Path) -> list[list[Any]]:
    rows = []
    extra = ["--max-global-steps", str(args.max_steps)] if args.max_steps else []
    for name in args.workloads:
        if not (has_framework(name, "pytorch") and has_framework(name, "jax")):
            continue
        per, budget = {}, None
        for framework in ("pytorch", "jax"):
            trial, _ = run_trial(args, name, framework, tmp / f"f-{name}-{framework}", extra)
            step = trial["submission_time_sec"] / max(1, trial["global_step"])
            budget = budget or trial["budget_sec"]  # PyTorch's: the rules may differ by framework
            per[framework] = (trial, budget / step, trial["compile_sec"])
        (pt, pt_steps, pt_c), (jx, jx_steps, jx_c) = per["pytorch"], per["jax"]
        rows.append([name, round(pt_steps), round(jx_steps),
                     agree(pt_steps, jx_steps, FRAMEWORK_TOLERANCE), round(pt_c, 2),
                     round(jx_c, 2), pt["time_to_target_sec"], jx["time_to_target_sec"]])
        print_progress(rows[-1])
    print(format_table(["workload", "steps/budget pytorch", "steps/budget jax", "±15%",
                        "compile pytorch(s)", "compile jax(s)", "ttt pytorch(s)", "ttt jax(s)"],
                       rows))
    return rows


def suite(args: argparse.Namespace, tmp: Path) -> list[list[Any]]:
    names = args.workloads
    folder = tmp / "suite"
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "summary.json"
    cmd = paceline(["run", *sum((["--workload", w] for w in names), []), "--submission",
                    "nadamw", "--framework", args.frameworks[0], "--seed", str(args.seed),
                    "--experiment-dir", str(folder), "--json", str(out), "--no-progress",
                    "--jobs", str(args.jobs), *rules(args)])
    t0 = time.time()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    trials = json.loads(out.read_text())["trials"]
    spread = nadamw_spread(args.ruleset_version)
    rows = [[t["workload"], t["status"], t["global_step"], t["submission_time_sec"],
             t["time_to_target_sec"], t["total_duration_sec"], t.get("step_vs_reference"),
             "ok" if t.get("measurement_trusted", True) else "CHECK",
             *placed(spread.get(t["workload"]), t["time_to_target_sec"])] for t in trials]
    serial = sum(t["total_duration_sec"] for t in trials)
    print(format_table(["workload", "status", "steps", "charged(s)", "ttt(s)", "trial wall(s)",
                        "step/probe", "measurement", "reference (nadamw)", "placed"], rows))
    print(f"\nsuite of {len(trials)} with --jobs {args.jobs}: {wall:.0f} s of wall time "
          f"(goal {SUITE_GOAL_SEC:.0f} s: {'met' if wall <= SUITE_GOAL_SEC else 'MISSED'}); "
          f"the trials' own wall times add up to {serial:.0f} s, so {args.jobs} jobs ran "
          f"{serial / wall:.2f}x as fast as one would")
    return rows + [["(suite)", f"jobs {args.jobs}", "", "", "", wall]]


def nadamw_spread(version: str) -> dict[str, Any]:
    """The shipped external reference spread of NAdamW per workload under rules ``version``."""
    from sdk.references import (
        dev_eval_periods,
        find_reference_file,
        load_reference,
        reference_spread,
    )

    path = find_reference_file("dev", "external", version)
    if path is None:
        return {}
    data = load_reference(path)
    timed = sorted(data["baselines"].get("nadamw", {}))
    periods = dev_eval_periods(timed, version, data.get("framework", "pytorch"))
    return reference_spread(data, timed, periods).get("nadamw", {})


def placed(spread: Any, seconds: float | None) -> list[str]:
    """The reference's spread and where ``seconds`` (``None``: a miss) lies in it."""
    if spread is None:
        return ["-", "-"]
    return [spread.text(), spread.place(float("inf") if seconds is None else seconds)]


def eval_cpu_sec(workload: Any, params: Any, state: Any, rng: Any,
                 repeats: int) -> tuple[float, dict[str, float]]:
    """The median CPU seconds of ``repeats`` evaluations (after one that compiles) and the
    metrics."""
    import statistics

    def once() -> dict[str, float]:
        return workload.eval_model(workload.eval_batch_size, params, state, rng, None, None, 0)

    metrics, times = once(), []
    for _ in range(repeats):
        t0 = time.process_time()
        metrics = once()
        times.append(time.process_time() - t0)
    return statistics.median(times), metrics


def eval_one(name: str, framework: str, repeats: int) -> list[Any]:
    """One row of ``evals``: whole-batch passes against the workload's forward rows."""
    w = workloads().create(name, "dev", framework)
    if framework == "jax":
        import jax

        rng = jax.random.PRNGKey(0)
    else:
        import numpy as np

        rng = np.array([0, 0], dtype=np.uint32)
    params, state = w.init_model_fn(rng)
    rows = getattr(w, "dev_eval_forward_rows", None)
    w.dev_eval_forward_rows = None
    before, old = eval_cpu_sec(w, params, state, rng, repeats)
    w.dev_eval_forward_rows = rows
    after, new = eval_cpu_sec(w, params, state, rng, repeats)
    diff = max(abs(new[k] - v) / max(abs(v), 1e-12) for k, v in old.items())
    return [name, framework, w.eval_batch_size, rows or "-", round(before, 3), round(after, 3),
            f"{1 - after / before:+.0%}" if before else "-", f"{diff:.1e}"]


def evals(args: argparse.Namespace, tmp: Path) -> list[list[Any]]:
    from sdk.clock import hold_to_one_thread

    del tmp
    for framework in args.frameworks:
        hold_to_one_thread(framework)
    rows = []
    for framework in args.frameworks:
        for name in args.workloads:
            if has_framework(name, framework):
                rows.append(eval_one(name, framework, args.repeats))
                print_progress(rows[-1])
    print(format_table(["workload", "framework", "eval batch", "forward rows",
                        "whole batch (cpu s)", "forward rows (cpu s)", "saved",
                        "max rel. metric diff"], rows))
    return rows


def has_framework(name: str, framework: str) -> bool:
    return framework in workloads().entry(name).classes.get("dev", {})


def print_progress(row: list[Any]) -> None:
    print("  " + " | ".join(str(x) for x in row), file=sys.stderr, flush=True)


def calibrate(names: list[str], frameworks_: list[str]) -> None:
    """Probe the dev clock first, so no measured run pays for it."""
    for framework in frameworks_:
        chosen = [n for n in names if has_framework(n, framework)]
        if chosen:
            subprocess.run(paceline(["calibrate", "--framework", framework, "--workloads",
                                     *chosen, "--quiet"]), check=True, capture_output=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["contention", "frameworks", "suite", "evals"])
    p.add_argument("--workloads", nargs="+", default=None)
    p.add_argument("--frameworks", nargs="+", default=["pytorch"], choices=["pytorch", "jax"])
    p.add_argument("--busy", type=int, default=2, help="busy loops beside the trial")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--max-steps", type=int, default=None,
                   help="frameworks: stop each trial after N steps (its charged step cost "
                        "still gives the steps per budget)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--ruleset-version", default="0.5",
                   help="the rules the trials run under (default 0.5; finewebedu_lm needs "
                        "a100-2026); the default workloads are those of these rules")
    p.add_argument("--repeats", type=int, default=3, help="evals: timed evaluations of each")
    p.add_argument("--out", help="write the rows as JSON here")
    args = p.parse_args()
    if args.workloads is None:
        from sdk.rulesets import get_ruleset

        ruled = get_ruleset(args.ruleset_version).workloads
        args.workloads = [w for w in workloads().names(scale="dev", scored=True, variants=False)
                          if w in ruled]
        if args.what != "suite":
            args.workloads = ["mnist", *args.workloads]
    if (args.busy < 0 or args.jobs < 1 or args.repeats < 1
            or (args.max_steps is not None and args.max_steps < 1)):
        raise SystemExit("--busy must be >= 0, --jobs, --repeats and --max-steps >= 1.")
    if args.what != "evals":  # evals time no trial, so need no dev-clock scale
        calibrate(args.workloads, ["pytorch", "jax"] if args.what == "frameworks"
                  else args.frameworks)
    with tempfile.TemporaryDirectory(prefix="paceline-bench-clock-") as tmp:
        rows = {"contention": contention, "frameworks": frameworks,
                "suite": suite, "evals": evals}[args.what](args, Path(tmp))
    if args.out:
        Path(args.out).write_text(json.dumps({"what": args.what, "argv": sys.argv,
                                              "rows": rows}, indent=1, default=str))


if __name__ == "__main__":
    main()
