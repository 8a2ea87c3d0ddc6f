"""Reference timings: how fast the kit's baselines reach each target, shipped as data.

A benchmark score is relative to the other submissions, so a lone run means little. Paceline
ships the time-to-target of its baselines per workload (dev scale, per ruleset and ruleset
version) and scores a new run against them. The files are produced by a command anyone can
rerun (it is recorded in each file), e.g.:

    paceline reference build --baselines nadamw adamw momentum nesterov --workload suite
    paceline reference build --baselines nadamw adamw momentum nesterov --variants

File format (``<scale>_<ruleset>_v<version>.json``)::

    {"scale": "dev", "ruleset": "external", "ruleset_version": "0.5",
     "command": "paceline reference build ...", "created": "2026-11-21T...",
     "machine": {...}, "framework": "pytorch",
     "baselines": {"nadamw": {"mnist": {"time_to_target_sec": 5.6, "study_times": [5.6],
                                        "budget_sec": 20.0, "metric": "accuracy",
                                        "target": 0.915, "clock": "dev",
                                        "command": "paceline reference build ..."}}}}

``time_to_target_sec`` is ``null`` for a miss; it is the median over ``study_times`` (one per
study, each with its own seeds), whose range `paceline run` shows as the reference's spread.
Each entry also names the ``command`` that timed it and its ``clock`` (``dev`` or ``wall``).
Builds add up, so one file can hold entries of several builds: the top-level ``command`` and
``clock`` are the latest build's; an entry without its own was made by the top level's, or,
in a file without ``clock``, before the dev clock (the calibration machine's wall seconds).
Folders holding such files are found through the ``paceline.reference_timings`` entry-point
group (each entry is a directory path).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError


def reference_dirs() -> list[Path]:
    """Every registered folder of reference-timing files."""
    out = []
    for ep in metadata.entry_points(group="paceline.reference_timings"):
        out.append(Path(ep.load()))
    return out


def file_name(scale: str, ruleset: str, version: str, kind: str = "") -> str:
    """``<scale>_<ruleset>_v<version>.json``; ``kind="variants"`` (the official held-out
    variants, ``paceline reference build --variants``) adds ``_variants``."""
    return f"{scale}_{ruleset}_v{version}{'_' + kind if kind else ''}.json"


def find_reference_file(scale: str, ruleset: str, version: str, kind: str = "") -> Path | None:
    name = file_name(scale, ruleset, version, kind)
    for folder in reference_dirs():
        if (folder / name).is_file():
            return folder / name
    return None


def load_reference(path: Path) -> dict[str, Any]:
    from sdk.input_files import read_json

    data = read_json(path, "reference-timings file")
    if not isinstance(data, dict) or not isinstance(data.get("baselines"), dict):
        raise PacelineError(f"{path} is not a paceline reference-timings file.")
    return data


def made_by(data: dict[str, Any], entry: dict[str, Any]) -> tuple[str | None, str]:
    """The command that timed a reference ``entry`` of file ``data`` (``None``: not recorded)
    and its clock: the entry's own, else the file's (see the module docstring); ``wall`` in a
    file made before the dev clock."""
    return (entry.get("command") or data.get("command"),
            entry.get("clock", data.get("clock", "wall")))


def reference_times(data: dict[str, Any], workloads: list[str] | None = None
                    ) -> dict[str, dict[str, float]]:
    """``{baseline: {workload: seconds (inf for a miss)}}``, optionally restricted."""
    out: dict[str, dict[str, float]] = {}
    for baseline, per_workload in data["baselines"].items():
        times = {}
        for workload, entry in per_workload.items():
            if workloads is not None and workload not in workloads:
                continue
            t = entry.get("time_to_target_sec")
            times[workload] = math.inf if t is None else float(t)
        out[baseline] = times
    return out


@dataclass(frozen=True)
class Spread:
    """A reference's time-to-target over its studies (seeds): median, range, misses.

    ``eval_period`` is the workload's evaluation period in seconds (0: unknown). A time to
    target is read at an evaluation, so it says only that the target was crossed during the
    period before it; two times less than half a period apart come from the same evaluation
    and are not told apart (under the dev clock one lands a step's cost later than another).
    """

    median: float
    low: float
    high: float
    studies: int
    misses: int
    eval_period: float = 0.0

    def place(self, seconds: float) -> str:
        """Where ``seconds`` lies: 'inside', 'faster' or 'slower' than the spread, at the
        resolution of the evaluations (``eval_period``)."""
        if not math.isfinite(seconds):
            return "inside" if self.misses else "slower"
        if self.studies - self.misses == 0:
            return "faster"
        if seconds < self.low - self.eval_period / 2:
            return "faster"
        if seconds > self.high + self.eval_period / 2 and self.misses == 0:
            return "slower"
        return "inside"

    def text(self) -> str:
        if self.studies - self.misses == 0:
            return f"miss (n={self.studies})"
        reached = f"{self.low:.1f}-{self.high:.1f}" if self.high > self.low else f"{self.low:.1f}"
        missed = f", {self.misses} missed" if self.misses else ""
        median = f"{self.median:.1f}" if math.isfinite(self.median) else "miss"
        return f"{median} [{reached}] (n={self.studies}{missed})"


def dev_eval_periods(workloads: list[str], version: str, framework: str) -> dict[str, float]:
    """Each registered dev workload's evaluation period (seconds) under rules ``version`` in
    ``framework`` (a reference file's ``framework``): dev periods differ by framework."""
    from sdk.registry import workloads as registry

    numbers = {name: registry().dev_numbers(name, version, framework) for name in workloads}
    return {name: float(n.eval_period_time_sec) for name, n in numbers.items() if n is not None}


def reference_spread(data: dict[str, Any], workloads: list[str] | None = None,
                     eval_periods: dict[str, float] | None = None
                     ) -> dict[str, dict[str, Spread]]:
    """``{baseline: {workload: Spread}}`` from each entry's ``study_times``, placing runs at
    the resolution of ``eval_periods`` (:func:`dev_eval_periods`) where given."""
    out: dict[str, dict[str, Spread]] = {}
    for baseline, per_workload in data["baselines"].items():
        for workload, entry in per_workload.items():
            if workloads is not None and workload not in workloads:
                continue
            times = [math.inf if t is None else float(t)
                     for t in entry.get("study_times") or [entry.get("time_to_target_sec")]]
            finite = [t for t in times if math.isfinite(t)]
            median = entry.get("time_to_target_sec")
            out.setdefault(baseline, {})[workload] = Spread(
                median=math.inf if median is None else float(median),
                low=min(finite) if finite else math.inf,
                high=max(finite) if finite else math.inf,
                studies=len(times), misses=len(times) - len(finite),
                eval_period=(eval_periods or {}).get(workload, 0.0))
    return out


@dataclass(frozen=True)
class SeedNoise:
    """How much a workload's time to target varies from seed to seed at one configuration:
    the pooled standard deviation of ``log(time)`` over repeated runs that reached the target,
    with its degrees of freedom (runs minus configurations) and where the runs came from."""

    std: float
    dof: int
    source: str


def pooled_log_spread(groups: list[list[float]]) -> tuple[float, int]:
    """The pooled sum of squares of ``log(t)`` within each group of finite times, and its
    degrees of freedom (groups with fewer than two finite times add nothing)."""
    total, dof = 0.0, 0
    for times in groups:
        logs = [math.log(t) for t in times if math.isfinite(t) and t > 0]
        if len(logs) < 2:
            continue
        mean = sum(logs) / len(logs)
        total += sum((x - mean) ** 2 for x in logs)
        dof += len(logs) - 1
    return total, dof


def reference_study_times(workload: str, scale: str = "dev") -> list[list[float]]:
    """Every shipped reference entry's times over its studies for ``workload`` (all rulesets,
    versions and baselines of ``scale``): each entry is one configuration on several seeds."""
    groups = []
    for folder in reference_dirs():
        for path in sorted(folder.glob(f"{scale}_*.json")):
            try:
                data = load_reference(path)
            except PacelineError:
                continue  # another kind of file (a dev leaderboard) or not readable
            for per_workload in data["baselines"].values():
                entry = per_workload.get(workload) if isinstance(per_workload, dict) else None
                times = entry.get("study_times") if isinstance(entry, dict) else None
                if isinstance(times, list):
                    groups.append([_seconds(t) for t in times])
    return groups


def _seconds(value: Any) -> float:
    """A time in a reference file: a number, else a miss (``null``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return math.inf


def seed_noise(workload: str, extra: list[list[float]] | None = None,
               scale: str = "dev") -> SeedNoise | None:
    """The seed-to-seed spread of ``workload``'s time to target, pooled over the shipped
    reference timings (one configuration per entry, one seed per study) and ``extra``
    groups of repeated runs of one configuration each (``None``: nothing was repeated)."""
    ref_ss, ref_dof = pooled_log_spread(reference_study_times(workload, scale))
    own_ss, own_dof = pooled_log_spread(extra or [])
    dof = ref_dof + own_dof
    if dof == 0:
        return None
    parts = [f"{what} ({n})" for n, what in ((ref_dof, "the shipped reference timings"),
                                               (own_dof, "configurations run more than once"))
             if n]
    return SeedNoise(math.sqrt((ref_ss + own_ss) / dof), dof, " and ".join(parts))
