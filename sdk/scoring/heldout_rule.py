"""The 4x rule and the v0.5 held-out rule, applied to a times table before ratios are taken.

A base workload keeps its time only if (AlgoPerf's scoring/performance_profile.py, the reference scorer's order):

1. a held-out variant's time counts only where its base workload reached the target;
2. every time more than ``cap`` (4) times the fastest submission's on that workload (base or
   variant, the fastest taken after step 1) becomes a miss;
3. a base workload whose sampled held-out variant missed (step 1 or 2, or no logs) becomes a
   miss.

Only base workloads leave this function; variants never enter the profile themselves. Under
v0.6 there are no held-out workloads and only step 2 applies, which changes no score (a ratio
above r_max = 4 gets no credit anyway) but explains the ratio tables.

    >>> times = {"a": {"ogbg": 10.0, "ogbg_model_size": 50.0}, "b": {"ogbg": 12.0,
    ...          "ogbg_model_size": 11.0}}
    >>> kept, why = apply_heldout_rule(times, ["ogbg"], ["ogbg_model_size"])
    >>> kept["a"]["ogbg"], why[("a", "ogbg")]
    (inf, 'its held-out variant ogbg_model_size took more than 4x the fastest time')
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from sdk.scoring.profiles import RATIO_TOLERANCE, TimesTable, best_times, time_of


def _default_base_of(bases: Sequence[str]) -> Callable[[str], str]:
    def base_of(name: str) -> str:
        return next((b for b in bases if b in name), name)
    return base_of


def _fmt_cap(cap: float) -> str:
    return f"{cap:g}x"


def apply_heldout_rule(
    times: TimesTable,
    base_workloads: Sequence[str],
    held_out_workloads: Sequence[str] = (),
    cap: float = 4.0,
    base_of: Callable[[str], str] | None = None,
) -> tuple[dict[str, dict[str, float]], dict[tuple[str, str], str]]:
    """Base-workload times after the 4x and held-out rules, and why each lost time was lost.

    Returns ``(kept, reasons)``: ``kept[submission][base]`` is the time that enters the
    profile (``inf`` for a miss, NaN for no logs); ``reasons[(submission, base)]`` says why a
    finite time became ``inf``.
    """
    base_of = base_of or _default_base_of(base_workloads)
    columns = list(base_workloads) + list(held_out_workloads)
    table = {s: {w: time_of(times, s, w) for w in columns} for s in times}
    reasons: dict[tuple[str, str], str] = {}

    for v in held_out_workloads:  # 1. a variant counts only where its base reached the target
        b = base_of(v)
        for row in table.values():
            if not math.isfinite(row.get(b, math.nan)):
                row[v] = math.inf

    best = best_times(table, columns)  # 2. the cap against the fastest submission
    for s, row in table.items():
        for w in columns:
            if math.isfinite(row[w]) and math.isfinite(best[w]) and \
                    row[w] > cap * best[w] * (1 + RATIO_TOLERANCE):
                row[w] = math.inf
                if w in base_workloads:
                    reasons[(s, w)] = f"it took more than {_fmt_cap(cap)} the fastest time"
                else:
                    reasons[(s, base_of(w))] = (f"its held-out variant {w} took more than "
                                                f"{_fmt_cap(cap)} the fastest time")

    for v in held_out_workloads:  # 3. a base counts only if its variant reached its target
        b = base_of(v)
        for s, row in table.items():
            if not math.isfinite(row[v]) and math.isfinite(row.get(b, math.nan)):
                row[b] = math.inf
                if (s, b) not in reasons:
                    raw = time_of(times, s, v)
                    reasons[(s, b)] = (f"its held-out variant {v} has no logs" if math.isnan(raw)
                                       else f"its held-out variant {v} missed its target")
    return {s: {b: row[b] for b in base_workloads} for s, row in table.items()}, reasons


def sample_held_out_workloads(
    seed: int, candidates: Mapping[str, Sequence[str]] | None = None
) -> list[str]:
    """The v0.5 held-out draw: one variant per dataset, in the candidates' dataset order.

    >>> from sdk.rulesets import get_ruleset
    >>> sample_held_out_workloads(get_ruleset("0.5").held_out_seed)[:2]
    ['librispeech_conformer_layernorm', 'imagenet_resnet_large_bn_init']
    """
    if candidates is None:
        from sdk.rulesets import HELD_OUT_CANDIDATES as candidates
    rng = np.random.default_rng(seed)
    return [list(variants)[int(rng.integers(len(variants)))]
            for variants in candidates.values()]
