"""Fidelity: how well dev results predict the official AlgoPerf results.

    paceline leaderboard fidelity experiments/leaderboard/self_v0.6 \\
        --official ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning

Inputs are two plain times tables, ``entry -> workload -> seconds`` (``inf`` = target not
reached), one measured at dev scale and one read from the official logs; entries are matched
by name (the submission folder's name). Everything here is a pure function over those numbers
(docs/fidelity.md describes each statistic):

* per workload: **hit/miss agreement** (does dev reach the target exactly where the official
  run does) and **Kendall tau** of time-to-target over the entries that reached it in both;
* overall: the hit/miss agreement over all (entry, workload) pairs, **Kendall tau** between the
  dev and official benchmark scores (each side scored as one group over the same workloads),
  **pairwise decision accuracy** (how often "A beats B" agrees) and each framework's hit counts
  (the JAX entries' hits dev against official).

    >>> dev = {"a": {"w": 1.0}, "b": {"w": 2.0}, "c": {"w": float("inf")}}
    >>> off = {"a": {"w": 10.0}, "b": {"w": 30.0}, "c": {"w": 50.0}}
    >>> report = fidelity(dev, off, ["w"])
    >>> report.workloads[0].agree, report.workloads[0].pairs, report.workloads[0].tau
    (2, 3, 1.0)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sdk.errors import PacelineError
from sdk.scoring.profiles import benchmark_scores

TimesTable = Mapping[str, Mapping[str, float]]

# Two scores closer than this are a tie: neither entry beats the other.
SCORE_TIE = 1e-9


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall's tau-b of two paired samples (``nan`` with fewer than two pairs or no
    variation on one side), via :func:`scipy.stats.kendalltau`.

    >>> kendall_tau([1, 2, 3], [10, 20, 30]), kendall_tau([1, 2, 3], [3, 2, 1])
    (1.0, -1.0)
    """
    if len(x) != len(y):
        raise ValueError(f"kendall_tau needs paired samples, got {len(x)} and {len(y)} values.")
    if len(x) < 2:
        return math.nan
    from scipy.stats import kendalltau

    tau = kendalltau(list(x), list(y)).statistic
    return float(tau)


def _beats(a: float, b: float) -> int:
    """1 if score ``a`` beats ``b``, -1 if ``b`` beats ``a``, 0 for a tie."""
    if abs(a - b) <= SCORE_TIE:
        return 0
    return 1 if a > b else -1


def pairwise_decisions(dev: Mapping[str, float], official: Mapping[str, float]
                       ) -> tuple[int, int, int]:
    """``(agree, pairs, dev_ties)`` over every pair of entries scored on both sides.

    A pair agrees when dev and official give the same verdict: A beats B, B beats A, or a tie
    (scores within :data:`SCORE_TIE`). ``dev_ties`` counts the pairs dev cannot tell apart.

    >>> pairwise_decisions({"a": 0.9, "b": 0.5, "c": 0.0}, {"a": 0.8, "b": 0.9, "c": 0.1})
    (2, 3, 0)
    """
    names = sorted(set(dev) & set(official))
    agree = ties = 0
    pairs = 0
    for a, b in itertools.combinations(names, 2):
        pairs += 1
        verdict = _beats(dev[a], dev[b])
        ties += verdict == 0
        agree += verdict == _beats(official[a], official[b])
    return agree, pairs, ties


@dataclass(frozen=True)
class WorkloadFidelity:
    """One workload: hit/miss agreement and the order of times where both reached."""

    workload: str
    pairs: int  # entries with a dev and an official time
    agree: int  # of which dev hit/miss equals official hit/miss
    dev_hits: int
    official_hits: int
    both_hit: int  # entries in the Kendall tau
    tau: float  # nan with fewer than two entries that both reached
    not_run: int = 0  # matched entries without a dev run of this workload (left out)

    @property
    def agreement(self) -> float:
        return self.agree / self.pairs if self.pairs else math.nan


@dataclass(frozen=True)
class FidelityReport:
    """Every statistic of one dev-versus-official comparison."""

    entries: list[str]
    workloads: list[WorkloadFidelity]
    dev_scores: dict[str, float]
    official_scores: dict[str, float]
    score_tau: float
    pairs_agree: int
    pairs: int
    dev_ties: int
    hits_by_framework: dict[str, dict[str, int]] = field(default_factory=dict)
    unmatched_dev: list[str] = field(default_factory=list)
    unmatched_official: list[str] = field(default_factory=list)
    r_max: float = 4.0

    @property
    def agree(self) -> int:
        return sum(w.agree for w in self.workloads)

    @property
    def hit_pairs(self) -> int:
        return sum(w.pairs for w in self.workloads)

    @property
    def agreement(self) -> float:
        """Hit/miss agreement over all (entry, workload) pairs."""
        return self.agree / self.hit_pairs if self.hit_pairs else math.nan

    @property
    def pairwise_accuracy(self) -> float:
        return self.pairs_agree / self.pairs if self.pairs else math.nan

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (``nan`` written as ``null``)."""
        def clean(v: Any) -> Any:
            if isinstance(v, float) and not math.isfinite(v):
                return None
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, list):
                return [clean(x) for x in v]
            return v

        return clean({
            "entries": self.entries,
            "workloads": [{**asdict(w), "agreement": w.agreement} for w in self.workloads],
            "hit_agreement": self.agreement, "hit_pairs_agree": self.agree,
            "hit_pairs": self.hit_pairs,
            "dev_scores": self.dev_scores, "official_scores": self.official_scores,
            "score_kendall_tau": self.score_tau,
            "pairwise_accuracy": self.pairwise_accuracy, "pairs_agree": self.pairs_agree,
            "pairs": self.pairs, "dev_ties": self.dev_ties,
            "hits_by_framework": self.hits_by_framework,
            "unmatched_dev": self.unmatched_dev, "unmatched_official": self.unmatched_official,
            "r_max": self.r_max,
        })


def fidelity(
    dev: TimesTable,
    official: TimesTable,
    workloads: Sequence[str],
    frameworks: Mapping[str, str] | None = None,
    r_max: float = 4.0,
) -> FidelityReport:
    """Compare dev times with official times on ``workloads`` over the entries in both.

    A workload missing from an entry's official times is a miss (as in scoring). One missing
    from its dev times was not run at dev (e.g. no dev implementation in the entry's
    framework): it is left out of that workload's agreement and Kendall tau (counted as
    ``not_run``) but is a miss in the dev score, as the scorer would have it. Scores are the benchmark score over ``workloads`` with each side scored as one group of
    the matched entries (:func:`sdk.scoring.profiles.benchmark_scores`).
    """
    workloads = list(dict.fromkeys(workloads))
    if not workloads:
        raise PacelineError("No workloads to compare dev and official results on.")
    entries = sorted(set(dev) & set(official))
    if not entries:
        raise PacelineError(
            "No entry appears both in the dev results and in the official logs (entries are "
            f"matched by folder name; dev: {', '.join(sorted(dev)) or 'none'}; official: "
            f"{', '.join(sorted(official)) or 'none'}).")

    def t(table: TimesTable, entry: str, w: str) -> float:
        value = table[entry].get(w, math.inf)
        return math.inf if value is None or math.isnan(value) else float(value)

    rows = []
    for w in workloads:
        ran = [e for e in entries if w in dev[e]]
        dev_t = [t(dev, e, w) for e in ran]
        off_t = [t(official, e, w) for e in ran]
        hits = [(math.isfinite(d), math.isfinite(o)) for d, o in zip(dev_t, off_t, strict=True)]
        both = [(d, o) for d, o in zip(dev_t, off_t, strict=True)
                if math.isfinite(d) and math.isfinite(o)]
        tau = kendall_tau([d for d, _ in both], [o for _, o in both])
        rows.append(WorkloadFidelity(
            workload=w, pairs=len(ran), agree=sum(d == o for d, o in hits),
            dev_hits=sum(d for d, _ in hits), official_hits=sum(o for _, o in hits),
            both_hit=len(both), tau=tau, not_run=len(entries) - len(ran)))
    dev_table = {e: {w: t(dev, e, w) for w in workloads} for e in entries}
    off_table = {e: {w: t(official, e, w) for w in workloads} for e in entries}
    dev_scores = benchmark_scores(dev_table, workloads, r_max=r_max)
    off_scores = benchmark_scores(off_table, workloads, r_max=r_max)
    score_tau = kendall_tau([dev_scores[e] for e in entries], [off_scores[e] for e in entries])
    agree, pairs, ties = pairwise_decisions(dev_scores, off_scores)
    by_fw: dict[str, dict[str, int]] = {}
    for e in entries:
        fw = (frameworks or {}).get(e, "unknown")
        counts = by_fw.setdefault(fw, {"entries": 0, "pairs": 0, "dev_hits": 0,
                                       "official_hits": 0, "not_run": 0})
        ran = [w for w in workloads if w in dev[e]]
        counts["entries"] += 1
        counts["pairs"] += len(ran)
        counts["not_run"] += len(workloads) - len(ran)
        counts["dev_hits"] += sum(math.isfinite(dev_table[e][w]) for w in ran)
        counts["official_hits"] += sum(math.isfinite(off_table[e][w]) for w in ran)
    return FidelityReport(
        entries=entries, workloads=rows, dev_scores=dev_scores, official_scores=off_scores,
        score_tau=score_tau, pairs_agree=agree, pairs=pairs, dev_ties=ties,
        hits_by_framework=by_fw, unmatched_dev=sorted(set(dev) - set(official)),
        unmatched_official=sorted(set(official) - set(dev)), r_max=r_max)


def _fmt(value: float, digits: int = 2) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _time(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "miss"


def format_report(report: FidelityReport, dev: TimesTable | None = None,
                  official: TimesTable | None = None) -> str:
    """The fidelity tables as text (with the per-entry times when the tables are given)."""
    from sdk.text_tables import format_table

    out = []
    if dev is not None and official is not None:
        headers = ["entry", "dev score", "official score",
                   *[f"{w} dev/official(s)" for w in (r.workload for r in report.workloads)]]
        rows = [[e, _fmt(report.dev_scores[e], 3), _fmt(report.official_scores[e], 3),
                 *[f"{_time(dev[e].get(r.workload, math.inf))} / "
                   f"{_time(official[e].get(r.workload, math.inf))}" for r in report.workloads]]
                for e in sorted(report.entries, key=lambda e: -report.official_scores[e])]
        out += ["Time to target per entry (dev seconds / official seconds):",
                format_table(headers, rows), ""]
    rows = [[r.workload, f"{r.agree}/{r.pairs}", _fmt(r.agreement), r.dev_hits,
             r.official_hits, r.both_hit, _fmt(r.tau), r.not_run] for r in report.workloads]
    out += ["Per workload:",
            format_table(["workload", "hit/miss agree", "share", "dev hits", "official hits",
                          "both hit", "Kendall tau", "not run at dev"], rows), ""]
    out.append(f"Hit/miss agreement: {report.agree}/{report.hit_pairs} (entry, workload) pairs "
               f"({_fmt(report.agreement)}).")
    out.append("Scores: the benchmark score over the compared workloads only, each side "
               "scored as one group of the matched entries.")
    out.append(f"Kendall tau of dev vs official scores over {len(report.entries)} entries and "
               f"{len(report.workloads)} workload(s): {_fmt(report.score_tau)}.")
    out.append(f"Pairwise decision accuracy ('A beats B' agrees): {report.pairs_agree}/"
               f"{report.pairs} ({_fmt(report.pairwise_accuracy)}); dev ties "
               f"{report.dev_ties} pair(s).")
    for fw, c in sorted(report.hits_by_framework.items()):
        skipped = f" ({c['not_run']} not run at dev)" if c.get("not_run") else ""
        out.append(f"{fw} entries ({c['entries']}): {c['dev_hits']} hits dev, "
                   f"{c['official_hits']} official, of {c['pairs']}{skipped}.")
    if report.unmatched_dev:
        out.append("Dev entries without official logs (left out): "
                   + ", ".join(report.unmatched_dev) + ".")
    return "\n".join(out)
