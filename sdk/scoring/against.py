"""Runs scored against the shipped reference timings: a benchmark score and each spread.

    paceline run --workload mnist --submission nadamw          # prints this after the run
    paceline score experiments/dev/external_tuning/my_algo --against baselines

A dev run's score means little alone: AlgoPerf scores relative to the other submissions. The
kit ships its baselines' time-to-target per workload (``sdk/references.py``); this module
scores the given runs together with them over the workloads the runs trained, and shows each
reference's median and range over its studies, saying whether a run lies inside it.
"""

from __future__ import annotations

import math
from typing import Any

from sdk import references
from sdk.references import dev_eval_periods, load_reference, reference_spread, reference_times
from sdk.rulesets import version_label
from sdk.text_tables import format_table


def compare(runs: dict[str, Any], workloads: list[str], scale: str, ruleset: str,
            version: str, rules: Any) -> str:
    """The score table of ``runs`` (name -> SubmissionTimes) and the references, as text."""
    from sdk.scoring import score_times

    path = references.find_reference_file(scale, ruleset, version)  # looked up per call
    if path is None:
        return (f"No reference timings ship for {scale} scale, {ruleset} tuning, rules "
                f"{version_label(version)}, so no benchmark score: build them with "
                "`paceline reference build --baselines nadamw ...`.")
    data = load_reference(path)
    table = {name: {w: times.times.get(w, math.inf) for w in workloads}
             for name, times in runs.items()}
    skipped = []
    shown = {}  # the name a reference's row shows -> the baseline it times
    for baseline, times in reference_times(data, workloads).items():
        entries = data["baselines"][baseline]
        stale = sorted({w for t in runs.values() for w in workloads
                        if w in t.workloads and w in entries
                        and entries[w].get("target") != t.workloads[w].target.value})
        missing = [w for w in workloads if w not in times]
        if stale or missing:
            skipped.append(f"{baseline} ({'other targets' if stale else 'not timed'} on "
                           f"{', '.join(stale or missing)})")
            continue
        name = f"{baseline} (reference)" if baseline in runs else baseline
        shown[name] = baseline
        table[name] = times
    scores = score_times(table, rules)
    order = sorted(table, key=lambda s: -scores.scores[s])
    rows = [[s, scores.scores[s], *[table[s].get(w) for w in workloads]] for s in order]
    out = [f"Benchmark score over {len(workloads)} workload(s) against the reference "
           f"baselines ({path.name}; r_max {rules.r_max:g}; held-out rule not applied, see "
           "`paceline heldout`):",
           format_table(["submission", "score", *[f"{w}(s)" for w in workloads]], rows)]
    if skipped:
        out.append("Not compared: " + "; ".join(skipped) + ".")
    spread = spread_table(data, shown, workloads, runs, version)
    if spread:
        out.append(spread)
    return "\n".join(out)


def spread_table(data: dict[str, Any], baselines: dict[str, str], workloads: list[str],
                 runs: dict[str, Any], version: str) -> str:
    """Each reference's median [range] over its studies, and where each run lies in it
    (``baselines``: the name each reference shows -> the baseline it times)."""
    periods = dev_eval_periods(workloads, version, data.get("framework", "pytorch"))
    spreads = reference_spread(data, workloads, periods)
    rows = []
    for w in workloads:
        for name, times in runs.items():
            t = times.times.get(w, math.inf)
            for shown, b in baselines.items():
                spread = spreads.get(b, {}).get(w)
                if spread is not None:
                    rows.append([w, name, t if math.isfinite(t) else "miss", shown, spread.text(),
                                 spread.place(t)])
    if not rows:
        return ""
    return ("\nEach run against each reference's spread over its studies (seconds; 'inside' = "
            "not told apart by that reference's own seed-to-seed spread, read at the "
            "evaluations: within half an evaluation period of its range):\n"
            + format_table(["workload", "run", "time", "reference", "median [range]",
                            "run is"], rows))
