"""The held-out simulation as text: per workload, per variant, the scores and a verdict.

    paceline heldout --submission my_algo/submission.py --workloads ogbg wmt
"""

from __future__ import annotations

import math

from heldout.analysis import Analysis, BaseResult
from sdk.text_tables import format_table

RISK_MARGIN = 0.75  # a variant above this share of the cap is "close to the 4x cap"


def _pct(p: float | None) -> str:
    return "-" if p is None else f"{100 * p:.0f}%"


def _ratio(r: float) -> str:
    return "miss" if math.isinf(r) else f"{r:.2f}x"


def _worst(b: BaseResult) -> str:
    if not b.variants:
        return "-"
    worst = max(b.variants, key=lambda v: v.ratio)
    return f"{worst.name} ({_ratio(worst.ratio)})"


def why(b: BaseResult) -> str:
    """Why ``b`` can be zeroed: its zeroing variants and their reasons, in short."""
    parts = []
    for v in b.zeroing:
        if not v.reached:
            parts.append(f"{v.name} missed its target")
        elif math.isfinite(v.ratio):
            parts.append(f"{v.name} took {v.ratio:.1f}x the fastest")
        else:
            parts.append(f"{v.name}: {v.reason}")
    return "; ".join(parts)


def verdict(a: Analysis) -> str:
    """One line: safe to freeze, or at risk on which workloads and why."""
    missed = [b.name for b in a.bases.values() if not b.reached]
    risky = sorted(a.at_risk, key=lambda b: -b.p_zeroed)
    close = [v.name for b in a.bases.values() for v in b.variants
             if v.reached and not v.zeroes_base and v.ratio > RISK_MARGIN * a.cap]
    if not risky:
        if missed and len(missed) == len(a.bases):
            return (f"no verdict on held-out robustness: it misses every base workload "
                    f"itself ({', '.join(missed)})")
        line = ("safe to freeze: the held-out rule zeroes none of its workloads (every "
                f"candidate of a base it reaches made its target within {a.cap:g}x of the "
                "fastest)")
        if close:
            line += f"; close to the cap: {', '.join(close)}"
        if missed:
            line += f"; but it misses {', '.join(missed)} itself"
        return line
    parts = [f"{b.name} (zeroed in {_pct(b.p_zeroed)} of draws: {why(b)})" for b in risky]
    line = "at risk on " + ", ".join(parts)
    if missed:
        line += f"; it also misses {', '.join(missed)} itself"
    return line


def format_report(a: Analysis, context: dict | None = None) -> str:
    context = context or {}
    lines = []
    who = ", ".join(a.competitors) or "nobody"
    lines.append(f"Held-out simulation of {a.submission} against {who}"
                 + (f" ({context.get('scale')} scale, {context.get('ruleset')} tuning)"
                    if context else "") + ".")
    lines.append("Candidates per dataset: " + "; ".join(
        f"{d}: {', '.join(v)}" for d, v in a.candidates.items()))
    lines.append("")
    rows = []
    for b in a.bases.values():
        reached = sum(v.reached for v in b.variants)
        versus = _ratio(b.ratio) if not (b.reached and math.isinf(b.fastest_competitor_sec)) \
            else "none reached"
        rows.append([b.name, b.reached, b.time_sec if b.reached else math.inf,
                     versus, f"{reached}/{len(b.variants)}", _worst(b),
                     _pct(b.p_zeroed), _pct(b.p_zeroed_sampled)])
    lines.append(format_table(
        ["workload", "reached", "time(s)", "vs fastest other", "variants reached",
         "worst variant (vs fastest)", "P(zeroed)", "sampled"], rows))
    vrows = []
    for b in a.bases.values():
        for v in b.variants:
            vrows.append([v.name, b.name, v.reached, v.time_sec,
                          v.fastest_competitor_sec, _ratio(v.ratio),
                          v.zeroes_base, _pct(v.draw_probability)])
    if vrows:
        lines.append("")
        lines.append(format_table(
            ["variant", "base", "reached", "time(s)", "fastest other(s)", "vs fastest",
             "zeroes base", "drawn"], vrows))
    lines.append("")
    n = len(a.draw_seeds)
    score_rows = []
    for s in [a.submission, *a.competitors]:
        lo_hi = a.sampled_range(s)
        score_rows.append([s, a.score_without_rule[s], a.expected_score[s],
                           a.sampled_mean(s),
                           None if lo_hi is None else f"{lo_hi[0]:.3f}-{lo_hi[1]:.3f}",
                           None if a.official is None else a.official[1].get(s)])
    lines.append(f"Benchmark score ({a.method}, r_max 4) without and with the held-out rule "
                 f"(exact expectation over equally likely draws; {n} sampled draws):")
    lines.append(format_table(["submission", "no rule", "expected", "sampled mean",
                               "sampled range", "benchmark seed"], score_rows))
    if a.official is not None:
        lines.append(f"(benchmark seed: the v0.5 seed drawn over these candidates: "
                     f"{', '.join(a.official[0])})")
    for note in a.notes:
        lines.append(f"note: {note}")
    lines.append("")
    lines.append(f"Verdict: {verdict(a)}.")
    return "\n".join(lines)
