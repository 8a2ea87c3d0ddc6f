"""Is the early-stopping rule right? It replays on trials that ran to their end.

    python benchmarks/bench_early_stopping.py experiments/leaderboard/self_va100-2026
    python benchmarks/bench_early_stopping.py DIR... --fraction 0.25 --fraction 0.5 \\
        --optimism 2 --optimism 4 --json out.json

Bayesian search stops a trial when :class:`external_tuning.early_stopping.TargetOutOfReach`
says it can no longer reach its target. A wrong stop turns a configuration that would have
hit into a miss, which the search then avoids; issue #21 asks for the rule to be "checked
against trials run to the end". This benchmark does that without training anything: it reads
every finished trial under the folders given (AlgoPerf's layout: ``paceline run``,
``tune``, ``leaderboard run``, ``reference build`` outputs), keeps those whose ending is known
(status ``targets_reached``: the curve runs up to the hit; ``budget_exhausted`` or
``training_complete``: the whole budget was trained), and asks the rule after each eval, as
the runner would, whether to stop. Each trial is judged against the target and budget in its
own ``meta_data`` (the ones it ran under).

Per workload and rule setting it prints the trials read, the hits, the **false stops** (hits
the rule would have stopped before their hit) and the misses it stops, and the share of the
misses' budget it saves (the point of stopping). A rule worth keeping has no false stops and
saves a good part of the misses' time.

Then the **censoring** check, for the default rule: a stopped trial enters the search as a
censored miss whose time is imputed from its curve so far
(:func:`external_tuning.observations.objective`). For every miss the rule stops, that value
is set against the one the same trial gets from its whole curve: their rank correlation
(Spearman) per workload and the median of (so far - whole) in ``log(t / budget)``. A search loses little by
stopping where the two rank the misses alike.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import statistics
import sys
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from external_tuning.early_stopping import TargetOutOfReach  # noqa: E402
from external_tuning.observations import Observation, objective  # noqa: E402
from sdk.errors import PacelineError  # noqa: E402
from sdk.input_files import read_json_object  # noqa: E402
from sdk.scoring.reader import find_submissions, read_curve, read_meta  # noqa: E402
from sdk.scoring.targets import target_from_meta  # noqa: E402
from sdk.text_tables import format_table  # noqa: E402

HIT = "targets_reached"
RAN_OUT = ("budget_exhausted", "training_complete")


@dataclass(frozen=True)
class Ended:
    """One trial whose ending is known: its curve up to the hit, or over its whole budget."""

    label: str
    workload: str
    curve: tuple[tuple[float, float], ...]  # (submission seconds, validation value)
    target: float
    minimized: bool
    budget: float
    hit_time: float | None  # None: a miss


@dataclass(frozen=True)
class Verdict:
    """What one rule did on one trial."""

    stopped_at: float | None
    false_stop: bool
    saved: float  # seconds of a miss's budget not spent


def read_trials(paths: Sequence[str]) -> tuple[list[Ended], int]:
    """Every trial under ``paths`` whose ending is known, and how many others were skipped."""
    out, skipped = [], 0
    for tree in find_submissions(paths):
        for trial in tree.trials:
            ended = _ended(trial)
            if ended is None:
                skipped += 1
            else:
                out.append(ended)
    return out, skipped


def _ended(trial) -> Ended | None:
    try:
        status = read_json_object(trial.path / "paceline_trial.json", "trial status")
        meta = read_meta(trial)
        if status.get("status") not in (HIT, *RAN_OUT) or not meta:
            return None
        target = target_from_meta(trial.workload, meta, str(trial.path))
        curve = read_curve(trial.csv_path, target.column)
    except PacelineError:
        return None
    if target.budget_sec is None:
        return None
    points = tuple((float(t), float(v)) for t, v in zip(curve.times, curve.values, strict=True)
                   if math.isfinite(t) and math.isfinite(v))
    sign = -1.0 if target.minimized else 1.0
    hits = [t for t, v in points if sign * v >= sign * target.value]
    if status.get("status") == HIT and not hits:
        return None  # stopped at another (earlier) target: the rest of its curve is unknown
    return Ended(trial.label, trial.workload, points, target.value, target.minimized,
                 target.budget_sec, hits[0] if hits else None)


def replay(rule: TargetOutOfReach, trial: Ended) -> Verdict:
    """Ask ``rule`` after every eval of ``trial``, as the runner's hook does."""
    for i in range(1, len(trial.curve) + 1):
        now = trial.curve[i - 1][0]
        if trial.hit_time is not None and now >= trial.hit_time:
            break
        if rule.check(trial.curve[:i], trial.target, trial.minimized, trial.budget):
            if trial.hit_time is not None:
                return Verdict(now, True, 0.0)
            return Verdict(now, False, max(trial.budget - now, 0.0))
    return Verdict(None, False, 0.0)


def summarise(rule: TargetOutOfReach, trials: Sequence[Ended]) -> list[dict]:
    """One row per workload (and one for all): counts and the misses' budget saved."""
    rows = []
    judged = [(t, replay(rule, t)) for t in trials]  # each trial replayed once
    workloads = sorted({t.workload for t in trials})
    for name in [*workloads, "all"]:
        group = [(t, v) for t, v in judged if name in ("all", t.workload)]
        misses = [(t, v) for t, v in group if t.hit_time is None]
        miss_budget = sum(t.budget for t, _ in misses)
        rows.append({
            "workload": name, "fraction": rule.min_budget_fraction,
            "optimism": rule.optimism, "trials": len(group),
            "hits": sum(t.hit_time is not None for t, _ in group),
            "false_stops": sum(v.false_stop for _, v in group),
            "false_stopped": [t.label for t, v in group if v.false_stop],
            "misses_stopped": sum(v.stopped_at is not None for _, v in misses),
            "saved_share": (sum(v.saved for _, v in misses) / miss_budget
                            if miss_budget else 0.0),
        })
    return rows


def censoring(rule: TargetOutOfReach, trials: Sequence[Ended]) -> list[dict]:
    """Per workload: the stopped misses' objective from the curve so far against the whole."""
    from scipy.stats import spearmanr

    pairs: dict[str, list[tuple[float, float]]] = {}
    for t in trials:
        verdict = replay(rule, t)
        if t.hit_time is not None or verdict.stopped_at is None:
            continue
        cut = tuple(p for p in t.curve if p[0] <= verdict.stopped_at)
        seen = [objective(Observation(t.workload, status, None, t.budget, t.target,
                                      t.minimized, curve))
                for status, curve in (("stopped_early", cut), ("budget_exhausted", t.curve))]
        pairs.setdefault(t.workload, []).append((seen[0], seen[1]))
    rows = []
    for name in sorted(pairs):
        got = pairs[name]
        with warnings.catch_warnings():  # every value equal on one side: no correlation
            warnings.simplefilter("ignore")
            rho = spearmanr([a for a, _ in got], [b for _, b in got]).statistic \
                if len(got) > 2 else math.nan
        gaps = sorted(a - b for a, b in got)
        rows.append({"workload": name, "stopped_misses": len(got), "spearman": float(rho),
                     "median_gap": statistics.median(gaps)})
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("paths", nargs="+", help="experiment folders in AlgoPerf's layout")
    p.add_argument("--fraction", type=float, action="append",
                   help="min_budget_fraction values to try (default: the rule's)")
    p.add_argument("--optimism", type=float, action="append",
                   help="optimism values to try (default: the rule's)")
    p.add_argument("--json", help="write every row here")
    args = p.parse_args(argv)
    try:
        trials, skipped = read_trials(args.paths)
    except PacelineError as exc:
        print(f"bench_early_stopping: {exc}", file=sys.stderr)
        return 2
    if not trials:
        print("bench_early_stopping: no finished trial with a known ending was found under "
              f"{', '.join(args.paths)}.", file=sys.stderr)
        return 2
    default = TargetOutOfReach()
    rows = []
    for fraction, optimism in itertools.product(args.fraction or [default.min_budget_fraction],
                                                args.optimism or [default.optimism]):
        rule = TargetOutOfReach(min_budget_fraction=fraction, optimism=optimism)
        rows.extend(summarise(rule, trials))
    print(f"{len(trials)} trials with a known ending ({skipped} others skipped: stopped "
          "early, failed, or stopped at another target)")
    print(format_table(["workload", "min fraction", "optimism", "trials", "hits",
                        "false stops", "misses stopped", "misses' budget saved"],
                       [[r["workload"], f"{r['fraction']:g}", f"{r['optimism']:g}",
                         r["trials"], r["hits"], r["false_stops"], r["misses_stopped"],
                         f"{100 * r['saved_share']:.0f}%"] for r in rows]))
    for r in rows:
        if r["workload"] == "all" and r["false_stopped"]:
            print(f"false stops at fraction {r['fraction']:g}, optimism {r['optimism']:g}: "
                  + ", ".join(r["false_stopped"]))
    censored = censoring(default, trials)
    print("\nstopped misses: log(t / budget) imputed from the curve so far vs the whole curve")
    print(format_table(["workload", "stopped misses", "rank correlation",
                        "median (so far - whole)"],
                       [[r["workload"], r["stopped_misses"],
                         "n/a" if math.isnan(r["spearman"]) else f"{r['spearman']:.2f}",
                         f"{r['median_gap']:.2f}"] for r in censored]))
    if args.json:
        Path(args.json).write_text(json.dumps({"trials": [asdict(t) for t in trials],
                                               "rows": rows, "censoring": censored},
                                              indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
