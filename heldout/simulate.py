"""Run a submission on base workloads and their candidate variants, then replay the rule.

1. *Candidates*: for every base workload, its official variants registered at this scale
   (``--variants official``), seeded random variants from its family's perturbation space
   (``random``), or both. Random variants get their targets first
   (:mod:`heldout.variant_targets`), recorded in
   ``<experiment-dir>/<scale>/heldout/random_variants.json`` and reused later.
2. *Training*: the submission trains every base and every candidate once per study, through
   the normal protocol (``sdk.experiment``): logs in AlgoPerf's layout under
   ``<experiment-dir>/<scale>/heldout/<ruleset>_tuning/<submission>/``; ``--resume`` keeps
   finished trials. (So ``--reference <experiment-dir>/<scale>/heldout/<ruleset>_tuning``
   compares with every other submission simulated there; the run itself is left out.)
3. *Competitors*: shipped or locally measured baseline timings, or a logs folder
   (:mod:`heldout.competitors`).
4. *Draws*: the rule is replayed over the recorded timings (:mod:`heldout.analysis`), so
   ``--draws`` costs no training.

    paceline heldout --submission nadamw --workloads ogbg --draws 1000
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heldout import catalog
from heldout.analysis import Analysis, analyse
from heldout.draw import draw_seeds, official_seed
from heldout.perturb import RandomVariant, generate
from sdk.errors import PacelineError
from sdk.trial_logs import atomic_write_json

VARIANT_MODES = ("official", "random", "both")
RANDOM_RECORD = "random_variants.json"


@dataclass
class Candidates:
    """The held-out candidates of a simulation, by dataset, and the random ones' records."""

    by_dataset: dict[str, tuple[str, ...]]
    random: list[RandomVariant] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [v for names in self.by_dataset.values() for v in names]


def heldout_root(experiment_dir: str | Path, scale: str) -> Path:
    return Path(experiment_dir) / scale / "heldout"


def load_random_records(path: Path) -> dict[str, RandomVariant]:
    if not path.is_file():
        return {}
    from sdk.input_files import read_json_object

    raw = read_json_object(path, "random-variants record")
    try:
        return {name: RandomVariant.from_json(rec) for name, rec in raw.get("variants",
                                                                             {}).items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PacelineError(f"{path} is not a paceline random-variants record ({exc}); move "
                            "it away to draw the variants again.") from None


def save_random_records(path: Path, variants: dict[str, RandomVariant]) -> None:
    atomic_write_json(path, {"variants": {n: v.to_json() for n, v in sorted(variants.items())}})


def choose_candidates(
    bases: list[str], scale: str, framework: str, mode: str, per_base: int, seed: int,
    changes: tuple[int, ...], record_path: Path | None = None,
) -> Candidates:
    """Official and/or random candidates of ``bases`` (random ones registered, targets kept
    from ``record_path`` when it already holds them)."""
    from heldout.random_variants import register

    if mode not in VARIANT_MODES:
        raise PacelineError(f"Unknown --variants {mode!r}; choose one of "
                            f"{', '.join(VARIANT_MODES)}.")
    names: list[str] = []
    randoms: list[RandomVariant] = []
    notes: list[str] = []
    recorded = load_random_records(record_path) if record_path else {}
    for base in bases:
        if mode in ("official", "both"):
            official = catalog.official_variants_of(base, scale, framework)
            if not official:
                notes.append(f"{base} has no official variants registered at {scale} scale.")
            names.extend(official)
        if mode in ("random", "both") and per_base > 0:
            try:
                drawn = generate(base, per_base, seed, scale, framework, changes)
            except PacelineError as exc:
                notes.append(f"No random variants of {base}: {exc}")
                continue
            for v in drawn:
                old = recorded.get(v.name)
                if old is not None and old.overrides == v.overrides:
                    v.numbers, v.targets_from = old.numbers, old.targets_from
                register(v)
                randoms.append(v)
                names.append(v.name)
    if not names:
        raise PacelineError("None of the base workloads has held-out candidates here: "
                            + " ".join(notes))
    return Candidates(catalog.group_by_dataset(names), randoms, notes)


def _mark_required(parser_flags: argparse.Namespace) -> None:
    if not getattr(parser_flags, "submission", None):
        raise PacelineError("Pass --submission (a submission file or a baseline name) to "
                            "simulate, or use `paceline heldout draw|catalog|variants`.")


def run_simulation(args: argparse.Namespace) -> tuple[Analysis, dict[str, Any]]:
    """Everything `paceline heldout` does by default; returns the analysis and its context."""
    from heldout import competitors as comp
    from heldout.variant_targets import set_variant_targets
    from sdk.experiment import plan_trials
    from sdk.run_context import prepare
    from sdk.scoring import rules_over
    from sdk.scoring.targets import apply_targets

    _mark_required(args)
    if args.ruleset_version != "0.5":
        print("paceline heldout: the held-out rule is v0.5's; v0.6 dropped it, so this "
              "simulates v0.5 scoring on v" + args.ruleset_version + " runs.", file=sys.stderr)
    if args.studies < 1 or args.trials < 1:
        raise PacelineError("--studies and --trials must be at least 1.")
    comp.reference_kind(args.reference)  # bad --reference fails before any training
    seed = args.seed if args.seed is not None else 0
    args.seed = seed
    bases = catalog.base_workloads(args.workload, args.scale, args.framework)
    home = heldout_root(args.experiment_dir, args.scale)
    record_path = home / RANDOM_RECORD
    changes = parse_changes(args.random_changes)
    cands = choose_candidates(bases, args.scale, args.framework, args.variants,
                              args.random_per_base, seed, changes, record_path)
    recorded = load_random_records(record_path)
    for v in cands.random:
        if not v.numbers:
            set_variant_targets(v, args.random_targets, args.framework, home / "targets",
                                trials=args.target_trials, seeds=args.target_seeds, seed=seed,
                                data_dir=args.data_dir, threads=args.threads,
                                say=lambda m: print(m, file=sys.stderr))
        recorded[v.name] = v
        save_random_records(record_path, recorded)

    args.workload = bases + cands.names
    ctx = prepare(args)
    if not args.experiment_name:
        ctx.root = home / f"{args.ruleset}_tuning" / ctx.submission.name
    specs = plan_trials(args.workload, args.framework, args.scale, args.ruleset,
                        ctx.search_space, args.studies, args.trials, seed, ctx.root)
    print(f"paceline heldout: {ctx.submission.name} on {len(bases)} base workload(s) and "
          f"{len(cands.names)} candidate variant(s), {len(specs)} trial(s); logs in {ctx.root}",
          file=sys.stderr)
    from sdk.parallel import jobs_for, run_specs, submission_ref

    run_specs(specs, ctx.submission, submission_ref(args), ctx.table, ctx.options,
              jobs_for(getattr(args, "jobs", None), ctx.options, len(specs)), ctx.workload_kwargs,
              on_result=_say_result)

    rules = rules_over("0.5", bases, self_tuning=args.ruleset == "self")
    random_targets = {v.name: {
        "target_metric_name": v.numbers["0.5"].target_metric_name,
        "validation_target_value": v.numbers[args.ruleset_version].validation_target_value,
        "metric_minimized": v.numbers["0.5"].metric_minimized,
    } for v in cands.random}
    if random_targets:
        rules = apply_targets(rules, {"workloads": random_targets}, source="random variants")
    workloads = bases + cands.names
    mine = comp.load_submission_times(ctx.root, rules, framework=args.framework)
    name = f"{ctx.submission.name} (this run)"
    table = {name: {w: mine.times.get(w, math.inf) for w in workloads}}
    targets = {w: mine.workloads[w].target.value for w in workloads if w in mine.workloads}

    if comp.reference_kind(args.reference) == "logs":
        others = comp.from_logs(args.reference, rules, args.scale, targets,
                                exclude=ctx.root)
    else:
        names = None if args.reference == "baselines" else \
            [n.strip() for n in args.reference.split(",") if n.strip()]

        def run_missing(baseline: str, missing: list[str]) -> dict[str, float]:
            return _run_reference(baseline, missing, args, home, rules, seed)

        others = comp.from_baselines(names, args.scale, args.ruleset, args.ruleset_version,
                                     targets,
                                     None if args.no_reference_runs else run_missing)
    for other, times in others.times.items():
        key = other if other != name else f"{other} (reference)"
        table[key] = times
    analysis = analyse(name, table, cands.by_dataset, rules,
                       draw_seeds(seed, args.draws), args.score_method, official_seed("0.5"))
    analysis.notes = cands.notes + others.notes + analysis.notes
    context = {"submission": ctx.submission.name, "scale": args.scale,
               "ruleset": args.ruleset, "ruleset_version": args.ruleset_version,
               "framework": args.framework, "seed": seed, "experiment": str(ctx.root),
               "competitor_sources": others.sources,
               "random_variants": [v.to_json() for v in cands.random]}
    return analysis, context


def _say_result(result: Any) -> None:
    hit = (f"reached {result.target_metric} {result.validation_target:g} at "
           f"{result.time_to_target_sec:.1f}s" if result.time_to_target_sec is not None
           else f"missed the target (best {result.best_validation_metric})")
    print(f"  {result.workload} study {result.study} trial {result.trial}: {result.status}, "
          f"{hit}", file=sys.stderr)


def _run_reference(baseline: str, workloads: list[str], args: argparse.Namespace,
                   home: Path, rules: Any, seed: int) -> dict[str, float]:
    """Train ``baseline`` on ``workloads`` (finished trials are reused) and read its times."""
    from heldout.competitors import read_times
    from sdk.experiment import plan_trials
    from sdk.run_context import default_search_space
    from sdk.runner import RunOptions
    from sdk.submission import load_submission

    submission = load_submission(baseline, args.framework, args.ruleset)
    ns = argparse.Namespace(ruleset=args.ruleset, tuning_search_space=None)
    space = default_search_space(ns, submission)
    root = home / "reference" / f"{args.ruleset}_tuning" / baseline
    specs = plan_trials(workloads, args.framework, args.scale, args.ruleset, space,
                        args.studies, args.trials, seed, root)
    from sdk.rulesets import get_ruleset
    from sdk.run_context import clock_options

    options = RunOptions(ruleset=args.ruleset, data_dir=args.data_dir, resume=True,
                         save_checkpoints=False, tensorboard=False,
                         max_global_steps=args.max_global_steps, **clock_options(args))
    from sdk.parallel import SubmissionRef, jobs_for, run_specs

    ref = SubmissionRef(baseline, args.framework, args.ruleset)
    run_specs(specs, submission, ref, get_ruleset(args.ruleset_version), options,
              jobs_for(getattr(args, "jobs", None), options, len(specs)), on_result=_say_result)
    return read_times(root, rules, workloads, args.framework)


def parse_changes(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(x) for x in str(text).split(",") if x.strip())
    except ValueError:
        values = ()
    if not values or min(values) < 1:
        raise PacelineError(f"--random-changes {text!r} must be a comma-separated list of "
                            "positive knob counts, e.g. 1,2.")
    return values
