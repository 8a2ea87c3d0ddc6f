"""`paceline heldout`: how robust is a submission to held-out workload variants?

    paceline heldout --submission my_algo/submission.py --workloads ogbg imagenet_resnet
    paceline heldout --submission nadamw --variants both --random-per-base 2 --draws 2000
    paceline heldout --submission nadamw --reference momentum,nesterov --json heldout.json
    paceline heldout draw [--seed S] [--json OUT]       # the benchmark's draw (or a new one)
    paceline heldout catalog                            # the 24 official variants
    paceline heldout variants --workloads ogbg --count 3 --seed 0   # random variants

The default action trains the submission on the base workloads and every candidate variant
(once per study), compares with the reference timings, and replays the v0.5 held-out rule
over draws of the recorded timings: per workload whether it reached the target, its time
ratio to the fastest competitor, the chance that the held-out rule zeroes it, the expected
score with and without the rule, and a verdict. See docs/heldout.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sdk.cli.command import Command
from sdk.errors import PacelineError
from sdk.rulesets import HELD_OUT_CANDIDATES, OFFICIAL_HELD_OUT_WORKLOADS

DEFAULT_DRAWS = 1000


def configure(p: argparse.ArgumentParser) -> None:
    from sdk.cli.run_cmd import add_common_run_flags
    from sdk.cli.validate import MAX_DRAWS, MAX_JOBS, MAX_STUDIES, MAX_TRIALS, positive_int

    add_common_run_flags(p)
    for action in p._actions:  # sub-actions need no submission; the simulation checks it
        if action.dest == "submission":
            action.required = False
        if action.dest == "seed":
            action.help = "base seed of the trials, random variants and draws (default 0)"
    p.add_argument("--workloads", nargs="+", metavar="NAME", dest="workloads_list",
                   help="base workloads to simulate (default: suite = every scored base)")
    p.add_argument("--variants", choices=["official", "random", "both"], default="official",
                   help="candidate variants: the official ones, seeded random ones, or both")
    p.add_argument("--random-per-base", type=positive_int(MAX_TRIALS), default=2, metavar="K",
                   help="random variants per base workload (default 2)")
    p.add_argument("--random-changes", default="1,2", metavar="LIST",
                   help="how many knobs a random variant changes, drawn from LIST "
                        "(default 1,2)")
    p.add_argument("--random-targets", choices=["quick", "procedure"], default="quick",
                   help="how random variants get targets (default quick: one reference "
                        "run; procedure: the target-setting miniature)")
    p.add_argument("--target-trials", type=positive_int(MAX_TRIALS), default=2, metavar="N",
                   help="--random-targets procedure: search points per algorithm")
    p.add_argument("--target-seeds", type=positive_int(MAX_TRIALS), default=2, metavar="K",
                   help="--random-targets procedure: reruns of the best point")
    p.add_argument("--draws", type=positive_int(MAX_DRAWS), default=DEFAULT_DRAWS, metavar="N",
                   help=f"held-out draws sampled over the recorded timings (default "
                        f"{DEFAULT_DRAWS}; no extra training)")
    p.add_argument("--reference", default="baselines", metavar="DIR_OR_BASELINES",
                   help="'baselines' (the kit's reference timings), a comma-separated list "
                        "of baselines, or a folder of competitor logs in AlgoPerf's layout")
    p.add_argument("--no-reference-runs", action="store_true",
                   help="never train reference baselines here; compare only with what ships")
    p.add_argument("--score-method", choices=["grid", "exact"], default="grid")
    p.add_argument("--studies", type=positive_int(MAX_STUDIES), default=1, metavar="N")
    p.add_argument("--trials", type=positive_int(MAX_TRIALS), default=1, metavar="M",
                   help="trials per study (external tuning; default 1)")
    p.add_argument("--resume", action="store_true", help="keep finished trials")
    p.add_argument("--overwrite", action="store_true", help="start existing trials again")
    p.add_argument("--jobs", type=positive_int(MAX_JOBS), default=None, metavar="N",
                   help="trials side by side (default: one per core under the dev clock)")

    sub = p.add_subparsers(dest="action", metavar="ACTION")
    d = sub.add_parser("draw", help="print the benchmark's held-out draw or a new one")
    d.add_argument("--seed", type=int, dest="draw_seed", metavar="S",
                   help="draw seed (default: the v0.5 competition's, 3438810845)")
    d.add_argument("--json", dest="draw_json", metavar="OUT")
    c = sub.add_parser("catalog", help="list the official variants and where they exist")
    c.add_argument("--json", dest="catalog_json", metavar="OUT")
    v = sub.add_parser("variants", help="draw random variants and print their changes")
    v.add_argument("--workloads", nargs="+", dest="variant_bases", metavar="NAME",
                   default=["suite"])
    v.add_argument("--count", type=positive_int(MAX_TRIALS), default=3, metavar="K")
    v.add_argument("--seed", type=int, dest="variant_seed", default=0, metavar="S")
    v.add_argument("--changes", dest="variant_changes", default="1,2", metavar="LIST")
    v.add_argument("--check", action="store_true",
                   help="build each variant and take two NAdamW steps on it")
    v.add_argument("--json", dest="variants_json", metavar="OUT")


def run(args: argparse.Namespace) -> int:
    from sdk.cli.validate import check_output_path

    for attr in ("draw_json", "catalog_json", "variants_json"):
        check_output_path(getattr(args, attr, None), "--json")
    if args.action == "draw":
        return _draw(args)
    if args.action == "catalog":
        return _catalog(args)
    if args.action == "variants":
        return _variants(args)
    return _simulate(args)


def _write_json(path: str | None, data: object) -> None:
    if not path:
        return
    from sdk.trial_logs import atomic_write_json

    try:
        atomic_write_json(Path(path), data)
    except OSError as exc:
        raise PacelineError(f"Cannot write {path}: {exc}.") from None
    print(f"wrote {path}", file=sys.stderr)


def _draw(args: argparse.Namespace) -> int:
    from heldout.catalog import official_catalog
    from heldout.draw import draw, official_seed
    from sdk.text_tables import format_table

    seed = official_seed("0.5") if args.draw_seed is None else args.draw_seed
    held_out = draw(seed)
    entries = {e.name: e for e in official_catalog()}
    rows = []
    for dataset, name in zip(HELD_OUT_CANDIDATES, held_out, strict=True):
        e = entries[name]
        rows.append([dataset, name, e.base, f"{e.validation_target:g}",
                     ", ".join(f"{s}" for s in sorted(e.frameworks)) or "-"])
    published = tuple(held_out) == OFFICIAL_HELD_OUT_WORKLOADS["0.5"]
    print(f"Held-out draw with seed {seed}"
          + (" (the published v0.5 competition draw)" if published else "") + ":")
    print(format_table(["dataset", "variant", "attached to", "val target", "scales"], rows))
    attached = {entries[n].base for n in held_out}
    free = [b for b in sorted({e.base for e in entries.values()}) if b not in attached]
    print(f"Base workloads without a held-out counterpart in this draw: {', '.join(free)}.")
    _write_json(args.draw_json, {"seed": seed, "held_out_workloads": held_out,
                                 "published_v05": published})
    return 0


def _catalog(args: argparse.Namespace) -> int:
    from heldout.catalog import official_catalog
    from sdk.text_tables import format_table

    entries = official_catalog()
    rows = [[e.name, e.dataset, e.candidate, f"{e.validation_target:g}", f"{e.test_target:g}",
             " ".join(f"{s}:{'+'.join(fws)}" for s, fws in sorted(e.frameworks.items()))
             or "-", e.description or "-"] for e in entries]
    print(format_table(["variant", "dataset", "drawn", "val target", "test target",
                        "available", "change"], rows))
    have = sum(bool(e.frameworks) for e in entries)
    print(f"{have} of {len(entries)} official variants are registered "
          "(official targets shown; dev-scale targets are each workload's own).")
    _write_json(args.catalog_json, [{
        "name": e.name, "base": e.base, "dataset": e.dataset, "candidate": e.candidate,
        "validation_target": e.validation_target, "test_target": e.test_target,
        "frameworks": {s: list(f) for s, f in e.frameworks.items()},
        "description": e.description} for e in entries])
    return 0


def _variants(args: argparse.Namespace) -> int:
    from heldout.catalog import base_workloads
    from heldout.perturb import generate, perturbation_space
    from heldout.simulate import parse_changes
    from sdk.text_tables import format_table

    changes = parse_changes(args.variant_changes)
    bases = base_workloads(args.variant_bases, args.scale, args.framework)
    rows, out, problems = [], [], []
    for base in bases:
        try:
            drawn = generate(base, args.count, args.variant_seed, args.scale, args.framework,
                             changes)
        except PacelineError as exc:
            problems.append(str(exc))
            continue
        space = perturbation_space(base)
        for v in drawn:
            row = [v.name, v.describe()]
            record = v.to_json() | {"space": {k: space[k].describe() for k in v.overrides}}
            if args.check:
                row.append(_check(v))
                record["check"] = row[-1]
            rows.append(row)
            out.append(record)
    if rows:
        print(format_table(["random variant", "changes", *(["check"] if args.check else [])],
                           rows))
    for problem in problems:
        print(f"note: {problem}")
    if not rows:
        raise PacelineError("No random variants could be drawn: " + " ".join(problems))
    _write_json(args.variants_json, out)
    return 0


def _check(variant) -> str:  # noqa: ANN001
    """'ok (loss a -> b)' after two update steps, or what went wrong."""
    from heldout.random_variants import register
    from heldout.smoke import train_steps

    register(variant)
    try:
        r = train_steps(variant.name, steps=2)
    except Exception as exc:  # noqa: BLE001 - report any failure of the model as a row
        return f"FAILED: {type(exc).__name__}: {exc}"
    if not r.ok:
        return f"FAILED: loss {r.loss_before:.4g} -> {r.loss_after:.4g}, moved {r.params_changed}"
    return f"ok (loss {r.loss_before:.4g} -> {r.loss_after:.4g})"


def _simulate(args: argparse.Namespace) -> int:
    from heldout.analysis import to_json
    from heldout.report import format_report
    from heldout.simulate import run_simulation
    from sdk.cli.validate import check_run_flags

    check_run_flags(args)  # before random variants get their targets (which trains)
    if args.workloads_list:
        args.workload = (args.workload or []) + args.workloads_list
    analysis, context = run_simulation(args)
    print(format_report(analysis, context))
    if args.json:
        _write_json(args.json, {**context, **to_json(analysis)})
    return 0


COMMAND = Command(
    name="heldout",
    help="simulate the benchmark's held-out variants: robustness and the v0.5 held-out rule",
    description=__doc__,
    configure=configure,
    run=run,
)
