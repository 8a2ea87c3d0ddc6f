"""Targets for random variants, from the target-setting procedure (:mod:`workloads.target_setting`).

A random variant keeps its base workload's budget, eval period and step hint, as the
official variants do (AlgoPerf's algoperf/workloads/workloads.py); only its validation and test targets are new.
Two rules, both built from the target-setting procedure's own pieces:

* ``quick`` (default): the procedure in its smallest form. Probe the variant's step time,
  then train one run of the reference algorithm (NAdamW at its first registered point) for
  the procedure's step count, ``T = (base budget / budget factor) / step time``, ignoring
  targets. Validation target = that run's best validation value, test target = its test value
  at that eval, both rounded towards easier (6 significant digits). Cost: about 0.75 of the
  base's budget plus a few seconds, per variant. It has no search and one seed, so the target
  is what a well-configured baseline reaches in 3/4 of the budget: the same margin the
  official procedure leaves (budget = 4/3 x target-setting runtime), with less tuning behind
  it, so the targets are if anything easier than official ones.
* ``procedure``: the full miniature (``paceline targets``): ``--target-trials`` search points
  of two algorithms, ``--target-seeds`` reruns of the best, median target. Several budgets'
  worth of runs per variant.

Either way the runs are kept under ``<root>/<variant>_<framework>/`` and reused on
``--resume``; the provenance goes into the variant's record.

    paceline heldout --submission S --variants random --random-targets quick
"""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from heldout.perturb import RandomVariant
from heldout.random_variants import register
from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.registry import baselines, workloads
from sdk.rulesets import VERSIONS
from sdk.search_space import SearchSpace, generate_search

TARGET_RULES = ("quick", "procedure")


def _numbers_with_targets(variant: RandomVariant, framework: str, validation: float,
                          test: float) -> dict[str, Any]:
    base_cls = workloads().workload_class(variant.base, "dev", framework)
    return {v: replace(base_cls.numbers_for(v), validation_target_value=validation,
                       test_target_value=test) for v in VERSIONS}


def set_variant_targets(
    variant: RandomVariant,
    rule: str = "quick",
    framework: str = "pytorch",
    root: Path = Path("experiments/heldout/targets"),
    algorithm: str = "nadamw",
    trials: int = 2,
    seeds: int = 2,
    seed: int = 0,
    data_dir: str | None = None,
    threads: int | None = None,
    say: Any = None,
) -> RandomVariant:
    """Set (or reuse the recorded runs for) ``variant``'s targets; returns it, registered."""
    from workloads import target_setting as ts

    if rule not in TARGET_RULES:
        raise PacelineError(f"Unknown target rule {rule!r}; choose one of "
                            f"{', '.join(TARGET_RULES)}.")
    if algorithm not in baselines():
        raise PacelineError(f"Unknown reference algorithm {algorithm!r} for target setting.")
    register(variant)
    say = say or (lambda _msg: None)
    root = Path(root)
    if rule == "procedure":
        opts = ts.TargetOptions(framework=framework, trials=trials, seeds=seeds, seed=seed,
                                root=root, resume=True, data_dir=data_dir, threads=threads)
        record = ts.set_targets(variant.name, opts, say)
        numbers = record["numbers"]["0.5"]
        provenance = {"rule": "procedure", "command": record["command"],
                      "best": record["best"], "derivation": record["derivation"]}
    else:
        subject = ts.subject_for(variant.name, framework)
        opts = ts.TargetOptions(framework=framework, trials=1, seeds=1, seed=seed,
                                algorithms=(algorithm,), root=root, resume=True,
                                data_dir=data_dir, threads=threads)
        folder = root / f"{variant.name}_{framework}"
        plan = ts.load_or_make_plan(subject, opts, folder, say)
        space = SearchSpace.load(baselines().entry(algorithm).search_space)
        point = dict(generate_search(space, 1)[0]._asdict())
        say(f"{variant.name}: setting targets with one {algorithm} run of {plan.steps} steps")
        run = ts.run_one(subject, plan, "rerun", algorithm, 1, point,
                         prng.derive_seed(seed, variant.name, "quick"),
                         folder / "quick" / "trial_1", opts)
        v05, how = ts.derive_numbers(subject, plan, [run])
        numbers = asdict(v05)
        provenance = {"rule": "quick", "algorithm": algorithm, "hyperparameters": point,
                      "steps": plan.steps, "status": run.status, "trial_dir": run.trial_dir,
                      "best_validation": run.best_validation, "test_at_best": run.test_at_best,
                      "derivation": how}
    variant.numbers = _numbers_with_targets(variant, framework,
                                            numbers["validation_target_value"],
                                            numbers["test_target_value"])
    variant.targets_from = provenance
    register(variant)
    return variant
