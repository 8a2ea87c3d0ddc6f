"""Does freezing pay? The benchmark score of a 5-point space frozen from a 20-trial Bayesian
study, against the baseline's own shipped 5-point space, on fresh seeds and studies.

    python benchmarks/bench_freeze.py --tuned experiments/bench_external_tuning/nadamw
    python benchmarks/bench_freeze.py --tuned DIR --workload fastmri --studies 3 --seed 1000
    python benchmarks/bench_freeze.py --tuned DIR --study 0 --study 1 --study 2 --study 3 --study 4

``--tuned`` is a ``bench_external_tuning.py`` output folder (``bayesian/<workload>/`` per
workload, each with one study per seed). Then:

1. **Freeze**: the Bayesian study ``--study`` (default 0: 20 trials) of every workload is
   gathered into one folder in AlgoPerf's layout (the trials' logs copied, not their
   checkpoints) and ``paceline freeze --points 5`` chooses the space to ship from it.
   Repeat ``--study`` to freeze from several studies (``--study 0 ... --study 4``: every
   seed's study, in which the warm start's points ran once per seed, so the freeze sees
   how often a configuration's hit repeats).
2. **Fresh runs**: ``paceline run --studies S --trials 5 --seed SEED`` with the frozen list
   and with the baseline's shipped ``tuning_search_space.json`` (NAdamW's five points), on the
   same workloads, with seeds neither search used (``--seed``, default 1000).
3. **Score**: the two experiments together, as ``paceline score`` scores (per study the trial
   that reached the target at the earliest eval, median over studies, a miss infinite; the
   performance profile) over the workloads run, without the held-out rule: no variant is
   run, and under v0.5 the rule would zero every workload whose variant has no logs.

It prints per workload the median time-to-target of each space with its per-study range, and
each space's benchmark score (the goal: the frozen space scores higher). Every step resumes:
rerun the command and finished trials are kept.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import shutil
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPO = Path(__file__).resolve().parents[1]
WORKLOADS = ("fastmri", "ogbg", "criteo1tb")
LOG_FILES = ("hparams.json", "eval_measurements.csv", "paceline_trial.json")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--tuned", required=True, help="a bench_external_tuning.py space folder")
    p.add_argument("--workload", action="append", help="default: every tuned workload")
    p.add_argument("--study", type=int, action="append",
                   help="a Bayesian study to freeze from (repeat for several; default 0)")
    p.add_argument("--submission", default="nadamw")
    p.add_argument("--shipped", default=str(REPO / "baselines" / "nadamw" /
                                            "tuning_search_space.json"))
    p.add_argument("--studies", type=int, default=3)
    p.add_argument("--seed", type=int, default=1000)
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", help="default: <tuned>/freeze_<study>")
    p.add_argument("--json", help="write the table's numbers here")
    args = p.parse_args(argv)
    tuned = Path(args.tuned) / "bayesian"
    if not tuned.is_dir():
        p.error(f"{tuned} is missing: --tuned is a bench_external_tuning.py space folder")
    args.workload = args.workload or sorted(d.name for d in tuned.iterdir() if d.is_dir())
    args.study = args.study or [0]
    args.out = Path(args.out or Path(args.tuned) / ("freeze_" + "_".join(map(str, args.study))))
    return args


def paceline(argv: list[str]) -> None:
    from sdk.cli.main import main

    print("== paceline " + " ".join(argv), file=sys.stderr, flush=True)
    with contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code != 0:
        raise SystemExit(f"paceline {argv[0]} failed (exit {code}).")


def copy_logs(trial: Path, dest: Path) -> None:
    """A trial's logs (hyperparameters, evals, status, metadata) into ``dest``; no checkpoint."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in (*LOG_FILES, *(p.name for p in trial.glob("meta_data_*.json"))):
        if (trial / name).is_file():
            shutil.copy2(trial / name, dest / name)


def gather(args: argparse.Namespace) -> Path:
    """The chosen Bayesian studies of every workload as one submission folder (logs only)."""
    source = args.out / "tuned"
    for w in args.workload:
        for k in args.study:
            study = Path(args.tuned) / "bayesian" / w / f"study_{k}"
            if not study.is_dir():
                raise SystemExit(f"{study} is missing: run bench_external_tuning.py on {w} "
                                 "first.")
            for trial in sorted(study.glob("*/trial_*")):
                copy_logs(trial, source / f"study_{k}" / trial.parent.name / trial.name)
        ledger = Path(args.tuned) / "bayesian" / w / "paceline_tune.json"
        if ledger.is_file() and not (source / "paceline_tune.json").is_file():
            shutil.copy2(ledger, source / "paceline_tune.json")  # the tuned space
    return source


def run_space(args: argparse.Namespace, space: Path, name: str) -> None:
    argv = ["run", "--submission", args.submission, "--tuning-search-space", str(space),
            "--studies", str(args.studies), "--trials", "5", "--seed", str(args.seed),
            "--experiment-dir", str(args.out), "--experiment-name", name, "--jobs",
            str(args.jobs), "--resume", "--no-tensorboard", "--no-progress"]
    for w in args.workload:
        argv += ["--workload", w]
    paceline(argv)


def score(args: argparse.Namespace) -> dict[str, Any]:
    """The two experiments scored together by ``paceline score --only-workloads-run``: over
    the workloads run, without the held-out rule (no variant is run; under v0.5 the rule
    would zero every workload whose variant has no logs)."""
    report = args.out / "scores.json"
    paceline(["score", str(args.out / "frozen"), str(args.out / "shipped"),
              "--only-workloads-run", "--json", str(report)])
    return json.loads(report.read_text())


def table_rows(report: dict[str, Any], workloads: list[str]) -> list[list[Any]]:
    rows = []
    for name in ("frozen", "shipped"):
        sub = report["submissions"][name]
        for w in workloads:
            entry = sub["workloads"].get(w, {})
            studies = [s["time_sec"] for s in entry.get("studies", [])]
            finite = [t for t in studies if t is not None and math.isfinite(t)]
            spread = f"{min(finite):.1f}-{max(finite):.1f}" if finite else "-"
            median = entry.get("time_to_target_sec")
            rows.append([w, name, "miss" if median is None or not math.isfinite(median)
                         else f"{median:.1f}", spread, f"{len(finite)}/{len(studies)}"])
        rows.append(["(score)", name, f"{sub['score']:.4f}", "", f"rank {sub['rank']}"])
    return rows


def main(argv: list[str] | None = None) -> int:
    from sdk.text_tables import format_table

    args = parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    frozen = args.out / "frozen_space.json"
    if not frozen.is_file():
        paceline(["freeze", str(gather(args)), "--points", "5", "--out", str(frozen),
                  "--json", str(args.out / "freeze_why.json")])
    run_space(args, frozen, "frozen")
    run_space(args, Path(args.shipped), "shipped")
    report = score(args)
    print(format_table(["workload", "space", "median time-to-target (s)", "study range (s)",
                        "studies that hit"], table_rows(report, args.workload)))
    studies = ", ".join(map(str, args.study))
    print(f"\n(frozen from Bayesian {'study' if len(args.study) == 1 else 'studies'} "
          f"{studies} of {', '.join(args.workload)}; "
          f"{args.studies} fresh studies of 5 trials per space, seed {args.seed}; scores "
          "are the two spaces' benchmark scores against each other over the workloads run, "
          "without the held-out rule; goal: the frozen space scores higher)")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": {k: str(v) for k, v in
                                                         vars(args).items()},
                                               "scores": report["submissions"]}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
