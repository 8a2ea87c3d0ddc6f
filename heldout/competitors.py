"""Who the submission is compared with: the kit's baselines, or a directory of logs.

``--reference baselines`` (default) or ``--reference nadamw,momentum``: the shipped reference
timings (``baselines/reference_timings/<scale>_<ruleset>_v<version>.json`` for the base
workloads, ``..._variants.json`` for the official variants, both from
``paceline reference build``), used only where they were timed against the same targets as
this run. Whatever they lack (random variants never ship; a stale or missing file) is measured
here by running those baselines through the same protocol, once: the logs under
``<experiment-dir>/<scale>/heldout/reference/<ruleset>_tuning/<baseline>/`` are reused by
every later simulation.

``--reference DIR``: an AlgoPerf-layout tree of competitor logs (one submission folder or a
folder of them, e.g. the published results). Their times are compared only at the scale they
were run at: paceline dev logs record ``paceline.scale``; logs without it (the official
results) are official scale, which a dev simulation cannot be compared with.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.scoring import ScoringRules, load_submission_times

TimesTable = dict[str, dict[str, float]]
DEFAULT_BASELINES = ("nadamw",)  # run locally when nothing ships and --reference baselines


@dataclass
class Competitors:
    times: TimesTable = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # competitor -> where from
    notes: list[str] = field(default_factory=list)


def reference_kind(spec: str) -> str:
    """'baselines' (the keyword or a comma-separated list of baselines) or 'logs' (a folder).

    The keyword and baseline names win over a folder of the same name (the repository has a
    ``baselines/`` folder).
    """
    from sdk.registry import baselines

    names = [n.strip() for n in spec.split(",") if n.strip()]
    if spec == "baselines" or (names and all(n in baselines() for n in names)):
        return "baselines"
    if Path(spec).is_dir():
        return "logs"
    known = ", ".join(baselines().names())
    raise PacelineError(f"--reference {spec!r} is neither a folder of logs nor a list of "
                        f"baselines (known: {known}).")


def from_logs(path: str, rules: ScoringRules, scale: str, targets: dict[str, float],
              exclude: Path | None = None) -> Competitors:
    """Competitor times from an AlgoPerf-layout tree, checked to be at ``scale``.

    ``targets`` maps each workload of this run to its validation target; a competitor's
    workload timed against another target (dev logs record theirs) is left out with a note.
    """
    workloads = list(targets)
    folder = Path(path)
    if not folder.is_dir():
        raise PacelineError(f"Reference logs folder {path} does not exist.")
    out = Competitors()
    from sdk.scoring.reader import find_submissions
    from sdk.scoring.time_to_target import submission_times

    skip = Path(exclude).resolve() if exclude is not None else None
    trees = [t for t in find_submissions([folder])
             if skip is None or all(Path(r).resolve() != skip for r in t.roots)]
    for sub in (submission_times(t, rules) for t in trees):
        their_scale = sub.scale or "official"
        if their_scale != scale:
            raise PacelineError(
                f"The logs of {sub.name} under {path} are {their_scale}-scale and this "
                f"simulation runs at {scale} scale; times compare only at the same scale (the "
                "published AlgoPerf results are official scale).")
        times = {}
        for w, t in sub.times.items():
            if w not in targets:
                continue
            theirs = sub.workloads[w].target.value
            if not math.isclose(theirs, targets[w], rel_tol=1e-9, abs_tol=1e-12):
                out.notes.append(f"{sub.name} ran {w} against target {theirs:g}, this run "
                                 f"against {targets[w]:g}; not compared there.")
                continue
            times[w] = t
        out.times[sub.name] = times
        out.sources[sub.name] = str(folder)
        missing = [w for w in workloads if w not in sub.times]
        if missing:
            out.notes.append(f"{sub.name} has no logs for {', '.join(missing)} (counted as "
                             "not reaching the target).")
    if not out.times:
        raise PacelineError(f"No competitor logs were found under {path}.")
    return out


def shipped(scale: str, ruleset: str, version: str) -> list[tuple[Path, dict[str, Any]]]:
    """The shipped reference files (base suite, then variants) that exist."""
    from sdk.references import find_reference_file, load_reference

    out = []
    for kind in ("", "variants"):
        path = find_reference_file(scale, ruleset, version, kind=kind)
        if path is not None:
            out.append((path, load_reference(path)))
    return out


def from_baselines(
    names: Sequence[str] | None,
    scale: str,
    ruleset: str,
    version: str,
    targets: dict[str, float],
    run_missing: Callable[[str, list[str]], dict[str, float]] | None,
) -> Competitors:
    """Baseline times: shipped where the targets match, else measured by ``run_missing``.

    ``targets`` maps each needed workload to the validation target of this run; ``names``
    ``None`` means every baseline in the shipped files (or :data:`DEFAULT_BASELINES`).
    """
    from sdk.references import reference_times

    out = Competitors()
    files = shipped(scale, ruleset, version)
    available: dict[str, dict[str, float]] = {}
    for path, data in files:
        for baseline, times in reference_times(data).items():
            entries = data["baselines"][baseline]
            for w, t in times.items():
                if w not in targets:
                    continue
                if entries[w].get("target") != targets[w]:
                    out.notes.append(f"The shipped {baseline} time on {w} ({path.name}) was "
                                     f"measured against another target; not used.")
                    continue
                available.setdefault(baseline, {})[w] = t
    wanted = list(names) if names else (sorted(available) or list(DEFAULT_BASELINES))
    for baseline in wanted:
        have = available.get(baseline, {})
        missing = [w for w in targets if w not in have]
        times = dict(have)
        if missing and run_missing is not None:
            print(f"paceline heldout: measuring reference {baseline} on {', '.join(missing)}",
                  file=sys.stderr)
            times.update(run_missing(baseline, missing))
        elif missing:
            out.notes.append(f"{baseline} has no reference time for {', '.join(missing)} "
                             "(not compared there).")
        out.times[baseline] = times
        out.sources[baseline] = "shipped" if not missing else (
            "measured here" if not have else "shipped + measured here")
    return out


def read_times(root: Path, rules: ScoringRules, workloads: Sequence[str],
               framework: str | None = None) -> dict[str, float]:
    """A local run's times for ``workloads`` (``inf`` where it missed or left no logs)."""
    times = load_submission_times(root, rules, framework=framework).times
    return {w: times.get(w, math.inf) for w in workloads}
