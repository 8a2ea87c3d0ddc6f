"""The held-out rule replayed over draws of recorded timings: a pure function of the times.

Input: a times table (competitor -> workload -> seconds to target, ``inf`` for a miss) holding
the submission, its competitors (reference baselines or published logs), the base workloads
and every candidate variant; the candidates grouped by dataset as the draw groups them.

For each base workload ``b`` of the submission it reports whether ``b`` and each of its
variants reached the target, the ratios to the fastest competitor, and the chance that
``b`` is zeroed by the held-out rule, i.e. that the drawn variant of ``b``'s dataset is one of
``b``'s variants that missed its target or took more than 4x the fastest time (the rule
itself is :func:`sdk.scoring.apply_heldout_rule`, in the reference scorer's order).

Two estimates of the chance and of the expected score with the rule:

* exact: every draw is equally likely within a dataset, a drawn variant only affects the base
  workloads of its own dataset, and the benchmark score is a sum over base workloads, so the
  expectation is an average over each dataset's candidates, added up;
* sampled: ``--draws N`` draws of the v0.5 protocol with seeds derived from ``--seed``, each
  scored with :func:`sdk.scoring.score_times` as the benchmark would; it converges to the
  exact value and shows the spread a single (unknown) draw gives.

No training happens here: every candidate was trained once per study, and the draws only
choose which recorded timings the rule looks at.

    >>> times = {"me": {"ogbg": 10.0, "ogbg_gelu": 12.0, "ogbg_silu": float("inf")},
    ...          "ref": {"ogbg": 11.0, "ogbg_gelu": 11.0, "ogbg_silu": 13.0}}
    >>> from sdk.scoring import scoring_rules
    >>> rules = scoring_rules("0.5", base_workloads=("ogbg",), held_out_workloads=())
    >>> a = analyse("me", times, {"ogbg": ("ogbg_gelu", "ogbg_silu")}, rules, draws=[1, 2])
    >>> a.bases["ogbg"].p_zeroed
    0.5
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from heldout.draw import draw
from sdk.errors import PacelineError
from sdk.scoring import ScoringRules, apply_heldout_rule, benchmark_scores, score_times
from sdk.scoring.profiles import ratio

TimesTable = Mapping[str, Mapping[str, float]]


@dataclass(frozen=True)
class VariantResult:
    """The submission on one candidate variant."""

    name: str
    time_sec: float  # inf: missed; nan: no logs
    fastest_competitor_sec: float  # among competitors that reached the base target
    ratio: float  # time / fastest of everyone who reached the base target; inf: missed
    zeroes_base: bool  # drawing it zeroes the base workload
    reason: str  # why, when it does
    draw_probability: float

    @property
    def reached(self) -> bool:
        return math.isfinite(self.time_sec)


@dataclass(frozen=True)
class BaseResult:
    """The submission on one base workload and what the held-out rule does to it."""

    name: str
    dataset: str
    time_sec: float
    fastest_competitor_sec: float
    ratio: float  # time / fastest competitor (inf: missed or no competitor reached)
    variants: tuple[VariantResult, ...]
    p_zeroed: float  # exact, over equally likely draws
    p_zeroed_sampled: float | None  # over the sampled draws
    score_share: float  # this workload's part of the score without the rule
    expected_share: float  # ... and its expected part with the rule

    @property
    def reached(self) -> bool:
        return math.isfinite(self.time_sec)

    @property
    def zeroing(self) -> list[VariantResult]:
        return [v for v in self.variants if v.zeroes_base]


@dataclass
class Analysis:
    """Everything the report shows, for the submission and (scores) every competitor."""

    submission: str
    competitors: list[str]
    bases: dict[str, BaseResult]
    candidates: dict[str, tuple[str, ...]]
    score_without_rule: dict[str, float]
    expected_score: dict[str, float]  # exact expectation with the rule
    sampled_scores: dict[str, list[float]]  # one score per sampled draw
    draw_seeds: list[int]
    draws: list[list[str]]
    zeroed_in_draw: list[list[str]]  # per sampled draw, the submission's zeroed bases
    method: str
    cap: float
    notes: list[str] = field(default_factory=list)
    official: tuple[list[str], dict[str, float]] | None = None  # the benchmark seed's draw

    def sampled_mean(self, who: str) -> float | None:
        values = self.sampled_scores.get(who) or []
        return statistics.fmean(values) if values else None

    def sampled_range(self, who: str) -> tuple[float, float] | None:
        values = self.sampled_scores.get(who) or []
        return (min(values), max(values)) if values else None

    @property
    def at_risk(self) -> list[BaseResult]:
        return [b for b in self.bases.values() if b.p_zeroed > 0]


def _t(times: TimesTable, who: str, workload: str) -> float:
    value = times.get(who, {}).get(workload)
    return math.nan if value is None else float(value)


def _fastest(times: TimesTable, who: Sequence[str], workload: str,
             needs: str | None = None) -> float:
    """Smallest finite time among ``who`` (only those that reached ``needs``, if given)."""
    values = [_t(times, w, workload) for w in who
              if needs is None or math.isfinite(_t(times, w, needs))]
    finite = [v for v in values if math.isfinite(v)]
    return min(finite) if finite else math.inf


def _shares(times: TimesTable, rules: ScoringRules, bases: Sequence[str],
            held_out: Sequence[str], method: str) -> dict[str, dict[str, float]]:
    """Each competitor's score contribution from each of ``bases`` with ``held_out`` drawn."""
    kept, _ = apply_heldout_rule(times, list(bases), list(held_out), rules.held_out_ratio_cap,
                                 rules.base_of)
    n = len(rules.base_workloads)
    out: dict[str, dict[str, float]] = {s: {} for s in times}
    for b in bases:
        column = {s: {b: kept[s][b]} for s in kept}
        part = benchmark_scores(column, [b], rules.r_max, rules.tau_grid_points,
                                num_workloads=n, method=method)
        for s, value in part.items():
            out[s][b] = value
    return out


def analyse(
    submission: str,
    times: TimesTable,
    candidates: Mapping[str, Sequence[str]],
    rules: ScoringRules,
    draws: Sequence[int] = (),
    method: str = "grid",
    official_seed: int | None = None,
) -> Analysis:
    """Replay the held-out rule for ``submission`` (see the module docstring).

    ``rules.base_workloads`` are the bases; ``candidates`` maps each dataset to its candidate
    variants (each must contain a base workload's name); ``draws`` are seeds of sampled draws.
    """
    if submission not in times:
        raise PacelineError(f"No timings for the submission {submission!r}.")
    bases = list(rules.base_workloads)
    rules = replace(rules, held_out_workloads=())
    competitors = [s for s in times if s != submission]
    cap = rules.held_out_ratio_cap
    candidates = {d: tuple(v) for d, v in candidates.items() if v}
    for dataset, names in candidates.items():
        stray = [v for v in names if rules.base_of(v) not in bases]
        if stray:
            raise PacelineError(f"Held-out candidates {', '.join(stray)} ({dataset}) belong to "
                                "no base workload being simulated.")
    dataset_of = {rules.base_of(v): d for d, names in candidates.items() for v in names}

    plain = _shares(times, rules, bases, (), method)
    plain_kept, _ = apply_heldout_rule(times, bases, [], cap, rules.base_of)
    expected = {s: 0.0 for s in times}
    base_expected: dict[str, float] = {}
    zeroes: dict[str, dict[str, str]] = {}  # variant -> {"": reason} when it zeroes its base
    for dataset, names in candidates.items():
        in_dataset = [b for b in bases if dataset_of.get(b) == dataset]
        for v in names:
            kept, reasons = apply_heldout_rule(times, in_dataset, [v], cap, rules.base_of)
            b = rules.base_of(v)
            if math.isfinite(plain_kept[submission][b]) and \
                    not math.isfinite(kept[submission][b]):
                zeroes[v] = {"reason": reasons.get((submission, b), "")}
            shares = _shares(times, rules, in_dataset, [v], method)
            for s in times:
                expected[s] += sum(shares[s].values()) / len(names)
            base_expected[v] = shares[submission][b]
    for s in times:
        expected[s] += sum(plain[s][b] for b in bases if b not in dataset_of)

    seeds = list(draws)
    sampled: dict[str, list[float]] = {s: [] for s in times}
    drawn: list[list[str]] = []
    zeroed: list[list[str]] = []
    for seed in seeds:
        held_out = draw(seed, candidates) if candidates else []
        scores = score_times(times, replace(rules, held_out_workloads=tuple(held_out)), method)
        for s in times:
            sampled[s].append(scores.scores[s])
        drawn.append(held_out)
        zeroed.append([b for b in bases if math.isfinite(plain_kept[submission][b])
                       and not math.isfinite(scores.kept_times[submission][b])])

    results: dict[str, BaseResult] = {}
    for b in bases:
        dataset = dataset_of.get(b, "")
        pool = candidates.get(dataset, ())
        own = [v for v in pool if rules.base_of(v) == b]
        variants = []
        for v in own:
            t = _t(times, submission, v)
            fastest = _fastest(times, competitors, v, needs=b)
            everyone = min(fastest, t) if math.isfinite(t) else fastest
            variants.append(VariantResult(
                v, t, fastest, ratio(t, everyone), v in zeroes,
                zeroes.get(v, {}).get("reason", ""), 1.0 / len(pool)))
        p = sum(1 for v in own if v in zeroes) / len(pool) if pool else 0.0
        hits = [b in z for z in zeroed]
        share = plain[submission][b]
        if pool:
            others = len(pool) - len(own)
            exp_share = (sum(base_expected[v] for v in own) + others * share) / len(pool)
        else:
            exp_share = share
        fastest_base = _fastest(times, competitors, b)
        t_b = _t(times, submission, b)
        results[b] = BaseResult(
            b, dataset, t_b, fastest_base, ratio(t_b, fastest_base), tuple(variants), p,
            statistics.fmean(hits) if hits else None, share, exp_share)

    official: tuple[list[str], dict[str, float]] | None = None
    if official_seed is not None and candidates:
        held_out = draw(official_seed, candidates)
        scores = score_times(times, replace(rules, held_out_workloads=tuple(held_out)), method)
        official = (held_out, dict(scores.scores))
    notes = []
    for b in bases:
        if b not in dataset_of:
            notes.append(f"{b} has no held-out candidates here, so the rule never zeroes it.")
    return Analysis(
        submission=submission, competitors=competitors, bases=results, candidates=candidates,
        score_without_rule={s: sum(plain[s].values()) for s in times},
        expected_score=expected, sampled_scores=sampled, draw_seeds=seeds, draws=drawn,
        zeroed_in_draw=zeroed, method=method, cap=cap, notes=notes, official=official,
    )


def to_json(analysis: Analysis) -> dict[str, Any]:
    """The analysis as JSON-able data (``inf`` as the string "inf", NaN as null)."""
    def num(x: float | None) -> Any:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return None
        return "inf" if isinstance(x, float) and math.isinf(x) else x

    return {
        "submission": analysis.submission,
        "competitors": analysis.competitors,
        "score_method": analysis.method,
        "ratio_cap": analysis.cap,
        "candidates": {d: list(v) for d, v in analysis.candidates.items()},
        "score_without_rule": analysis.score_without_rule,
        "expected_score_with_rule": analysis.expected_score,
        "sampled": {"seeds": analysis.draw_seeds, "draws": analysis.draws,
                    "scores": analysis.sampled_scores,
                    "submission_zeroed": analysis.zeroed_in_draw},
        "workloads": {
            b.name: {
                "dataset": b.dataset, "reached_target": b.reached,
                "time_to_target_sec": num(b.time_sec),
                "fastest_competitor_sec": num(b.fastest_competitor_sec),
                "ratio_to_fastest_competitor": num(b.ratio),
                "p_zeroed": b.p_zeroed, "p_zeroed_sampled": b.p_zeroed_sampled,
                "score_share_without_rule": b.score_share,
                "expected_score_share_with_rule": b.expected_share,
                "variants": [{
                    "name": v.name, "reached_target": v.reached,
                    "time_to_target_sec": num(v.time_sec),
                    "fastest_competitor_sec": num(v.fastest_competitor_sec),
                    "ratio_to_fastest": num(v.ratio), "zeroes_base": v.zeroes_base,
                    "reason": v.reason, "draw_probability": v.draw_probability,
                } for v in b.variants],
            } for b in analysis.bases.values()},
        "official_seed_draw": None if analysis.official is None else {
            "held_out": analysis.official[0], "scores": analysis.official[1]},
        "notes": analysis.notes,
    }
