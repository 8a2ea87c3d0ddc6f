"""Held-out simulator benchmarks: the cost of replaying draws, and a robustness ranking.

    .venv/bin/python benchmarks/bench_heldout.py speed
    .venv/bin/python benchmarks/bench_heldout.py robustness --workloads ogbg \\
        --baselines nadamw momentum nesterov --trials 2
    .venv/bin/python benchmarks/bench_heldout.py robustness --workloads ogbg --mini-steps 240

``speed`` times :func:`heldout.analysis.analyse` on synthetic timings shaped like the full
benchmark (8 base workloads, the 23 official candidates, 3 competitors) for several draw
counts: the draws cost no training, and this shows what they cost instead.

``robustness`` is the validation of docs/heldout.md: every baseline goes through
``paceline heldout`` (external tuning, the same protocol on base workloads and their official
variants), then each is re-analysed against the others (``--resume``: no training) and the
table ranks them by how much the held-out rule is expected to cost them. The benchmark paper
found the momentum methods less robust to workload changes than the adaptive ones.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def speed(repeats: int = 3) -> None:
    import numpy as np

    from heldout.analysis import analyse
    from heldout.draw import draw_seeds
    from sdk.rulesets import BASE_WORKLOADS, HELD_OUT_CANDIDATES
    from sdk.scoring import rules_over
    from sdk.text_tables import format_table

    rng = np.random.default_rng(0)
    names = list(BASE_WORKLOADS) + [v for vs in HELD_OUT_CANDIDATES.values() for v in vs]
    times = {s: {w: (math.inf if rng.random() < 0.1 else float(rng.uniform(50, 400)))
                 for w in names} for s in ("me", "a", "b", "c")}
    rules = rules_over("0.5", BASE_WORKLOADS)
    rows = []
    for n in (0, 100, 1000, 10000):
        seeds = draw_seeds(0, n) if n else []
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            a = analyse("me", times, HELD_OUT_CANDIDATES, rules, seeds)
            runs.append(time.perf_counter() - t)
        gap = (abs(a.sampled_mean("me") - a.expected_score["me"]) if n else None)
        rows.append([n, statistics.median(runs), gap])
    print("analyse(): 8 bases, 23 candidates, 4 submissions (median of "
          f"{repeats}; seconds)")
    print(format_table(["draws", "seconds", "|sampled - exact| score"], rows))


def _heldout(baseline: str, args: argparse.Namespace, reference: str, extra: list[str],
             out: Path) -> int:
    cmd = [sys.executable, "-m", "sdk.cli.main", "heldout", "--submission", baseline,
           "--workloads", *args.workloads, "--trials", str(args.trials),
           "--studies", str(args.studies), "--seed", str(args.seed),
           "--experiment-dir", str(args.experiment_dir), "--speed-factor",
           str(args.speed_factor), "--draws", str(args.draws), "--reference", reference,
           "--no-reference-runs", "--no-checkpoints", "--no-tensorboard", "--json", str(out),
           *extra]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.call(cmd, cwd=REPO)


class StepClock:
    """A clock that advances a fixed ``dt`` per update step and stands still otherwise.

    Submission time then counts steps at the calibration machine's speed (``dt`` = the base
    workload's dev budget / its step hint, the NAdamW steps that fit the budget there), so
    the outcome does not depend on how busy this machine is. Evals cost no clock time, as
    the rules exclude them anyway.
    """

    def __init__(self, dt: float) -> None:
        self.t, self.dt = 0.0, dt

    def __call__(self) -> float:
        return self.t


def _train_on_step_clock(baseline: str, args: argparse.Namespace,
                         only: str | None = None) -> None:
    """Train ``baseline`` on the bases and their official variants (or just ``only``), with
    ``paceline heldout``'s trial plan and folders and a :class:`StepClock` (finished trials
    are kept)."""
    import copy

    from heldout.catalog import official_variants_of
    from sdk.experiment import finished_result, plan_trials
    from sdk.registry import baselines, workloads
    from sdk.rulesets import get_ruleset
    from sdk.runner import RunOptions, TrialFailed, train_once
    from sdk.search_space import SearchSpace, make_hyperparameters
    from sdk.submission import load_submission

    names = [w for b in args.workloads for w in [b, *official_variants_of(b, "dev")]]
    submission = load_submission(baseline, "pytorch", "external")
    space = SearchSpace.load(baselines().entry(baseline).search_space)
    root = Path(args.experiment_dir) / "dev" / "heldout" / "external_tuning" / baseline
    specs = plan_trials(names, "pytorch", "dev", "external", space, args.studies, args.trials,
                        args.seed, root)
    table = get_ruleset("0.5")
    for spec in specs:
        if (only is not None and spec.workload != only) or finished_result(spec) is not None:
            continue
        workload = workloads().create(spec.workload, "dev", "pytorch")
        base = workloads().create(workloads().entry(spec.workload).base or spec.workload,
                                  "dev", "pytorch")
        clock = StepClock(base.max_allowed_runtime_sec / base.step_hint)
        stepping = copy.copy(submission)

        def update_params(_fn=submission.update_params, _clock=clock, **kwargs):
            out = _fn(**kwargs)
            _clock.t += _clock.dt
            return out

        stepping.update_params = update_params
        options = RunOptions(ruleset="external", overwrite=True, save_checkpoints=False,
                             tensorboard=False, threads=args.threads,
                             flags={"clock": "steps", "dt": clock.dt})
        started = time.time()
        try:
            result = train_once(workload, stepping, make_hyperparameters(spec.hyperparameters),
                                spec.rng_seed, table, options, spec.trial_dir,
                                study=spec.study, trial=spec.trial, clock=clock)
            said = (f"{result.status}, {result.global_step} steps, time to target "
                    f"{result.time_to_target_sec}")
        except TrialFailed as exc:
            said = f"failed: {exc}"
        print(f"  {baseline} {spec.workload} trial {spec.trial}: {said} "
              f"({time.time() - started:.0f}s wall)", file=sys.stderr, flush=True)


def _mini(args: argparse.Namespace) -> None:
    """A miniature of the whole benchmark that fits a busy 2-core machine (``--mini-steps``).

    Every baseline trains every base and official variant for exactly ``N`` steps on the step
    clock (``--trials`` points of its search space, the schedule spanning the N steps as in
    the target-setting runs), evaluating 6 times. Targets follow the
    target-setting rule in miniature: per workload, the best validation value any of the
    baselines reached within 3/4 of the ``N`` steps (rounded towards easier), so the budget is
    4/3 of the target-setting length, as in AlgoPerf. Times to target then go through the
    simulator's analysis exactly as in ``paceline heldout``.
    """
    import copy
    from dataclasses import replace

    from heldout.analysis import analyse
    from heldout.catalog import group_by_dataset, official_variants_of
    from heldout.draw import draw_seeds
    from heldout.report import format_report
    from sdk.experiment import plan_trials
    from sdk.registry import baselines, workloads
    from sdk.rulesets import get_ruleset
    from sdk.runner import RunOptions, TrialFailed, read_status, train_once
    from sdk.scoring import rules_over
    from sdk.search_space import SearchSpace, make_hyperparameters
    from sdk.submission import load_submission
    from sdk.text_tables import format_table
    from workloads.target_setting import eval_rows, round_easier

    steps = args.mini_steps
    variants = [v for b in args.workloads for v in official_variants_of(b, "dev")]
    names = [*args.workloads, *variants]
    root = Path(args.experiment_dir) / "mini"
    started = time.time()
    specs = {b: plan_trials(names, "pytorch", "dev", "external",
                            SearchSpace.load(baselines().entry(b).search_space), 1,
                            args.trials, args.seed, root / b) for b in args.baselines}
    for w in names:
        for b, spec in [(n, s) for n in args.baselines for s in specs[n] if s.workload == w]:
            trial_dir = spec.trial_dir
            status = read_status(trial_dir) or {}
            if status.get("finished"):
                continue
            submission = load_submission(b, "pytorch", "external")
            workload = workloads().create(w, "dev", "pytorch")
            base = workloads().create(workloads().entry(w).base or w, "dev", "pytorch")
            clock = StepClock(base.max_allowed_runtime_sec / base.step_hint)
            # as the target-setting runs: the schedule spans the run (step_hint = N)
            workload.numbers = replace(workload.numbers, step_hint=steps,
                                       eval_period_time_sec=clock.dt * steps / 6 - 1e-9)
            stepping = copy.copy(submission)

            def update_params(_fn=submission.update_params, _clock=clock, **kwargs):
                out = _fn(**kwargs)
                _clock.t += _clock.dt
                return out

            stepping.update_params = update_params
            options = RunOptions(ruleset="external", overwrite=True, save_checkpoints=False,
                                 tensorboard=False, threads=args.threads, ignore_targets=True,
                                 max_global_steps=steps, flags={"clock": "steps"})
            t0 = time.time()
            try:
                r = train_once(workload, stepping, make_hyperparameters(spec.hyperparameters),
                               spec.rng_seed, get_ruleset("0.5"), options, trial_dir,
                               clock=clock)
                said = f"{r.status}, best {r.best_validation_metric}"
            except TrialFailed as exc:
                said = f"failed: {exc}"
            print(f"  {b} {w} trial {spec.trial}: {said} ({time.time() - t0:.0f}s wall)",
                  file=sys.stderr, flush=True)
    trained = time.time() - started

    times: dict[str, dict[str, float]] = {b: {} for b in args.baselines}
    best: dict[str, dict[str, float]] = {b: {} for b in args.baselines}  # best value, any trial
    targets = {}
    for w in names:
        numbers = workloads().create(w, "dev", "pytorch").numbers
        metric, minimized = numbers.target_metric_name, numbers.metric_minimized
        curves = {b: [[(r["global_step"], r["score"], r.get(f"validation/{metric}"))
                       for r in eval_rows(s.trial_dir)] for s in specs[b] if s.workload == w]
                  for b in args.baselines}
        early = [v for trials in curves.values() for c in trials for step, _, v in c
                 if v is not None and math.isfinite(v) and step <= 0.75 * steps]
        if not early:
            continue
        target = round_easier(min(early) if minimized else max(early), minimized)
        targets[w] = target
        for b, trials in curves.items():  # the fastest trial (same eval cadence for all)
            hits = [t for c in trials for _, t, v in c if v is not None and math.isfinite(v)
                    and (v <= target if minimized else v >= target)]
            times[b][w] = min(hits) if hits else math.inf
            values = [v for c in trials for _, _, v in c if v is not None and math.isfinite(v)]
            if values:
                # quality relative to "higher is better": loss-like metrics are inverted
                best[b][w] = 1 / min(values) if minimized else max(values)
    rules = rules_over("0.5", args.workloads)
    candidates = group_by_dataset([v for v in variants if v in targets])
    print(f"Miniature on {', '.join(names)}: {steps} steps per run on the step clock, "
          f"{args.trials} trial(s) per baseline, targets = best of the baselines within "
          f"{int(0.75 * steps)} "
          f"steps (training {trained / 60:.1f} min wall).")
    print("targets: " + ", ".join(f"{w} {t:g}" for w, t in targets.items()))
    rows = []
    for b in args.baselines:
        a = analyse(b, times, candidates, rules, draw_seeds(args.seed, args.draws))
        print()
        print(format_report(a))
        variants_b = [v for base in a.bases.values() for v in base.variants]
        kept = [best[b][v.name] / best[b][base.name] for base in a.bases.values()
                for v in base.variants if v.name in best[b] and best[b].get(base.name)]
        rows.append([b, f"{sum(base.reached for base in a.bases.values())}/{len(a.bases)}",
                     sum(v.reached for v in variants_b), len(variants_b),
                     statistics.fmean(kept) if kept else None,
                     statistics.fmean(x.p_zeroed for x in a.bases.values()),
                     a.score_without_rule[b], a.expected_score[b],
                     round(a.score_without_rule[b] - a.expected_score[b], 12)])
    rows.sort(key=lambda r: (r[8], -r[7]))
    print()
    print(format_table(["baseline", "bases reached", "variants reached", "of",
                        "variant/base quality", "mean P(zeroed)", "score no rule",
                        "expected with rule", "cost of the rule"], rows))
    print("variant/base quality: the best validation value on each variant over the best on "
          "its base (losses inverted), averaged; 1 = the change costs nothing.")


def robustness(args: argparse.Namespace) -> None:
    from sdk.text_tables import format_table

    if args.mini_steps:
        return _mini(args)

    group = Path(args.experiment_dir) / "dev" / "heldout" / "external_tuning"
    out_dir = Path(args.experiment_dir) / "bench_heldout"
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.time()
    if args.clock == "steps":  # workload by workload, so a partial run compares all
        from heldout.catalog import official_variants_of

        for w in [w for b in args.workloads for w in [b, *official_variants_of(b, "dev")]]:
            for b in args.baselines:
                _train_on_step_clock(b, args, only=w)
    else:
        for b in args.baselines:  # each baseline once, on bases and variants
            if _heldout(b, args, "baselines", ["--resume"], out_dir / f"{b}_train.json"):
                sys.exit(f"paceline heldout failed for {b}")
    trained = time.time() - started
    results = {}
    for b in args.baselines:  # analysis: each against the others, no training
        if _heldout(b, args, str(group), ["--resume"], out_dir / f"{b}.json"):
            sys.exit(f"paceline heldout analysis failed for {b}")
        results[b] = json.loads((out_dir / f"{b}.json").read_text())
    rows = []
    for b, data in results.items():
        me = f"{b} (this run)"
        variants = [v for w in data["workloads"].values() for v in w["variants"]]
        reached = sum(v["reached_target"] for v in variants)
        bases = data["workloads"].values()
        ratios = [v["ratio_to_fastest"] for v in variants
                  if isinstance(v["ratio_to_fastest"], float)]
        no_rule = data["score_without_rule"][me]
        expected = data["expected_score_with_rule"][me]
        rows.append([b, f"{sum(w['reached_target'] for w in bases)}/{len(bases)}",
                     f"{reached}/{len(variants)}",
                     statistics.fmean(ratios) if ratios else None,
                     statistics.fmean(w["p_zeroed"] for w in bases), no_rule, expected,
                     no_rule - expected])
    rows.sort(key=lambda r: (r[7], -r[6]))
    print(f"Robustness on {', '.join(args.workloads)} (dev scale, external tuning, "
          f"{args.studies} study x {args.trials} trials, {args.clock} clock, speed factor "
          f"{args.speed_factor}; "
          f"training {trained / 60:.1f} min):")
    print(format_table(["baseline", "bases reached", "variants reached",
                        "mean variant ratio", "mean P(zeroed)", "score no rule",
                        "expected with rule", "cost of the rule"], rows))
    print("Most robust first (smallest expected cost of the held-out rule).")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    sub.add_parser("speed")
    r = sub.add_parser("robustness")
    r.add_argument("--workloads", nargs="+", default=["ogbg"])
    r.add_argument("--baselines", nargs="+", default=["nadamw", "momentum", "nesterov"])
    r.add_argument("--trials", type=int, default=2)
    r.add_argument("--studies", type=int, default=1)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--speed-factor", type=float, default=1.0)
    r.add_argument("--draws", type=int, default=1000)
    r.add_argument("--threads", type=int)
    r.add_argument("--experiment-dir", default="experiments/bench_heldout")
    r.add_argument("--mini-steps", type=int, metavar="N",
                   help="the miniature: N steps per run, targets from the runs themselves")
    r.add_argument("--clock", choices=["steps", "wall"], default="steps",
                   help="steps: submission time = steps x the calibration step time (immune "
                        "to a busy machine); wall: plain `paceline heldout` timing")
    args = p.parse_args()
    if args.what == "speed":
        speed()
    else:
        robustness(args)


if __name__ == "__main__":
    main()
