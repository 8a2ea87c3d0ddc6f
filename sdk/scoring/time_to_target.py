"""Time-to-target per trial, per study and per workload, the benchmark's way.

* Trial: the submission time (``score`` column) of the first eval whose validation metric is
  at or beyond the target (``<=`` when minimised, ``>=`` otherwise; NaN never reaches it, the
  rule of :mod:`sdk.target_reach`). Never reached: infinite.
  With ``enforce_budget`` (the default) an eval after the budget does not count; the reference
  scorer does not check the budget (it relies on runs stopping there), which changes no
  published score.
* Study: the reference scorer takes the trial that reached the target at the **earliest eval
  index**, not the trial with the smallest time; the two agree when evals are evenly spaced in
  time. This is the default (``rule="earliest-eval"``) because the published scores depend on
  it: with ``rule="fastest"`` (the smallest time, as the rules text reads) lawa_ema's v0.5
  score moves from 0.3384 to 0.3434. Trials tied at the same eval index: the reference takes
  the first in ``os.listdir`` order, which depends on the file system; paceline takes the
  faster of them, which reproduces every published and reference score.
* Workload: the median over studies (``numpy.median``: an even count averages the middle two;
  a miss is infinite and takes part). A study counts only if it has at least one readable
  trial of the workload, as in the reference scorer.

A paceline trial's eval rows are first checked against the runner's own record of them
(:func:`sdk.scoring.reader.verify_eval_rows`); a mismatch stops scoring with one sentence.

    paceline score runs/external_tuning/my_algo --trial-rule fastest
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError
from sdk.scoring.reader import (
    Curve,
    SubmissionTree,
    TrialDir,
    csv_state,
    find_submissions,
    group_trials,
    read_curve,
    read_meta,
    verify_eval_rows,
)
from sdk.scoring.targets import ScoringRules, Target, scoring_rules, target_from_meta
from sdk.trial_logs import EVAL_RECORD_FILE, STATUS_FILE

TRIAL_RULES = ("earliest-eval", "fastest")


@dataclass(frozen=True)
class TrialTime:
    """One trial's result against its target."""

    trial: str
    path: Path
    num_evals: int
    index: int | None  # first eval at or beyond the target
    time_sec: float  # math.inf when never reached
    best_value: float  # best validation value seen (NaN when none)
    last_time_sec: float  # submission time at the last eval


@dataclass(frozen=True)
class StudyTime:
    """One study of one workload: its trials and the one the trial rule picked."""

    study: str
    trials: tuple[TrialTime, ...]
    chosen: TrialTime | None

    @property
    def time_sec(self) -> float:
        return self.chosen.time_sec if self.chosen else math.inf


@dataclass(frozen=True)
class WorkloadTime:
    """One workload of one submission: the median over studies of the studies' times."""

    workload: str
    framework: str | None
    target: Target
    studies: tuple[StudyTime, ...]
    time_sec: float


@dataclass
class SubmissionTimes:
    """Per-workload times of one submission, and what the protocol checks found."""

    name: str
    workloads: dict[str, WorkloadTime] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # harmless skips
    problems: list[str] = field(default_factory=list)  # shortfalls against the protocol
    meta: dict[str, set[Any]] = field(default_factory=dict)  # paceline.* facts seen
    trial_rule: str = "earliest-eval"
    budget_enforced: bool = True

    @property
    def times(self) -> dict[str, float]:
        """Workload -> time-to-target in seconds (``inf``: missed)."""
        return {w: t.time_sec for w, t in self.workloads.items()}

    @property
    def scale(self) -> str | None:
        scales = self.meta.get("paceline.scale", set())
        return next(iter(scales)) if len(scales) == 1 else None


def first_reaching(
    values: np.ndarray,
    target: float,
    minimized: bool,
    times: np.ndarray | None = None,
    budget_sec: float | None = None,
) -> int | None:
    """Index of the first value at or beyond ``target`` (within ``budget_sec`` if given)."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):
        ok = values <= target if minimized else values >= target
        if budget_sec is not None and times is not None:
            ok &= np.asarray(times, dtype=float) <= budget_sec
    hits = np.flatnonzero(ok)
    return int(hits[0]) if hits.size else None


def trial_time(
    curve: Curve, target: Target, trial: str = "", path: Path | None = None,
    enforce_budget: bool = True,
) -> TrialTime:
    """A trial's time-to-target (``inf`` if missed) from its eval curve."""
    index = first_reaching(curve.values, target.value, target.minimized)
    if index is not None and math.isnan(curve.times[index]):
        raise PacelineError(f"{path or trial}: the eval at data row {index + 1} reaches the "
                            f"target but its {curve.time_column!r} time is empty.")
    if index is not None and enforce_budget and target.budget_sec is not None:
        index = first_reaching(curve.values, target.value, target.minimized, curve.times,
                               target.budget_sec)
    time = math.inf if index is None else float(curve.times[index])
    finite = curve.values[~np.isnan(curve.values)]
    best = float("nan") if finite.size == 0 else float(
        finite.min() if target.minimized else finite.max())
    last = float(curve.times[-1]) if len(curve) else float("nan")
    return TrialTime(trial, path or Path(trial), len(curve), index, time, best, last)


def pick_trial(trials: Sequence[TrialTime], rule: str = "earliest-eval") -> TrialTime | None:
    """The trial a study is scored by (``None`` if no trial reached the target)."""
    reached = [t for t in trials if t.index is not None]
    if not reached:
        return None
    if rule == "earliest-eval":
        return min(reached, key=lambda t: (t.index, t.time_sec))
    if rule == "fastest":
        return min(reached, key=lambda t: t.time_sec)
    raise PacelineError(f"Unknown trial rule {rule!r}; choose one of {', '.join(TRIAL_RULES)}.")


def median_time(study_times: Sequence[float]) -> float:
    """Median over studies with infinite misses taking part (NaN when there is no study)."""
    if not study_times:
        return math.nan
    return float(np.median(np.asarray(study_times, dtype=float)))


def load_submission_times(
    path: str | Path,
    rules: ScoringRules | None = None,
    trial_rule: str = "earliest-eval",
    enforce_budget: bool = True,
    framework: str | None = None,
) -> SubmissionTimes:
    """Per-workload times of the one submission at ``path`` (``framework``: only its logs).

    >>> times = load_submission_times("logs/external_tuning/shampoo",
    ...                               scoring_rules("0.6"))  # doctest: +SKIP
    >>> times.times["ogbg"]  # doctest: +SKIP
    2868.3276751041412
    """
    trees = find_submissions([path])
    if len(trees) != 1:
        raise PacelineError(f"{path} holds {len(trees)} submissions; pass one of them, or use "
                            "load_submissions_times for a folder of submissions.")
    return submission_times(trees[0], rules or scoring_rules(), trial_rule, enforce_budget,
                            framework)


def load_submissions_times(
    paths: Sequence[str | Path],
    rules: ScoringRules,
    trial_rule: str = "earliest-eval",
    enforce_budget: bool = True,
) -> list[SubmissionTimes]:
    """Per-workload times of every submission under ``paths``."""
    return [submission_times(t, rules, trial_rule, enforce_budget)
            for t in find_submissions(paths)]


def submission_times(
    tree: SubmissionTree,
    rules: ScoringRules,
    trial_rule: str = "earliest-eval",
    enforce_budget: bool = True,
    framework: str | None = None,
) -> SubmissionTimes:
    """Read every trial of ``tree`` and reduce it to per-workload times.

    ``framework`` keeps only that framework's logs (a submission folder may hold both).
    """
    if trial_rule not in TRIAL_RULES:
        raise PacelineError(f"Unknown trial rule {trial_rule!r}; choose one of "
                            f"{', '.join(TRIAL_RULES)}.")
    out = SubmissionTimes(name=tree.name, notes=list(tree.notes), trial_rule=trial_rule,
                          budget_enforced=enforce_budget)
    trials = [t for t in tree.trials if framework is None or t.framework == framework]
    unverified = 0  # paceline trials without the runner's eval record (an older paceline)
    for workload, studies in group_trials(trials).items():
        frameworks = sorted({t.framework or "?" for ts in studies.values() for t in ts})
        if len(frameworks) > 1:
            raise PacelineError(f"{tree.name} has {workload} logs for several frameworks "
                                f"({', '.join(frameworks)}); score one framework at a time.")
        target = _resolve_target(tree.name, workload, studies, rules, out)
        if target is None:
            continue
        study_times = []
        for study, trials in studies.items():
            results = []
            for trial in trials:
                state = csv_state(trial)
                if state != "ok":
                    if state == "empty":
                        out.notes.append(f"{trial.label}/eval_measurements.csv is empty "
                                         "(zero bytes); treated as missing.")
                    continue
                what = f" (the target metric of {workload})"
                curve = read_curve(trial.csv_path, target.column, what)
                if not verify_eval_rows(trial.path) and (trial.path / STATUS_FILE).is_file():
                    unverified += 1
                results.append(trial_time(curve, target, trial.trial, trial.csv_path,
                                          enforce_budget))
            if results:
                study_times.append(StudyTime(study, tuple(results),
                                             pick_trial(results, trial_rule)))
        if not study_times:
            out.notes.append(f"{tree.name}: no trial of {workload} has an "
                             "eval_measurements.csv; the workload counts as missing.")
            continue
        out.workloads[workload] = WorkloadTime(
            workload, None if frameworks == ["?"] else frameworks[0], target, tuple(study_times),
            median_time([s.time_sec for s in study_times]),
        )
    if unverified:
        out.notes.append(f"{tree.name}: {unverified} paceline "
                         f"{_plural(unverified, 'trial has', 'trials have')} no eval record "
                         f"({EVAL_RECORD_FILE}, kept since paceline checks eval rows), so "
                         f"{_plural(unverified, 'its', 'their')} eval rows are scored "
                         "unverified.")
    _check_protocol(tree, out, rules)
    return out


def _resolve_target(
    submission: str,
    workload: str,
    studies: dict[str, list[TrialDir]],
    rules: ScoringRules,
    out: SubmissionTimes,
) -> Target | None:
    """The target in force: a targets file beats a dev trial's meta_data beats the tables.

    A targets file that gives no budget leaves dev trials their own (the largest recorded).
    """
    dev_targets = set()
    for trials in studies.values():
        for trial in trials:
            meta = read_meta(trial)
            if not meta:
                continue
            for key in ("paceline.scale", "paceline.ruleset", "paceline.ruleset_version"):
                if key in meta:
                    out.meta.setdefault(key, set()).add(meta[key])
            if meta.get("paceline.scale") == "dev":
                dev_targets.add(target_from_meta(workload, meta, str(trial.path)))
    known = rules.targets.get(workload)
    if known is not None and known.source.startswith("targets"):
        budgets = [t.budget_sec for t in dev_targets if t.budget_sec is not None]
        if budgets and not known.budget_from_file:  # a dev run keeps its own budget
            return replace(known, budget_sec=max(budgets))
        return known
    if len(dev_targets) > 1:
        values = ", ".join(sorted(f"{t.metric} {t.value:g}" for t in dev_targets))
        raise PacelineError(f"{submission}: the dev-scale trials of {workload} were run "
                            f"against different targets ({values}); score them separately.")
    if dev_targets:
        return dev_targets.pop()
    if known is None:
        message = (f"{submission}: {workload} is not a workload of the {rules.version} rules "
                   "and no target is known for it; it is ignored (pass --targets JSON with its "
                   "target to score it).")
        out.problems.append(message)
        return None
    return known


def _check_protocol(tree: SubmissionTree, out: SubmissionTimes, rules: ScoringRules) -> None:
    """Missing workloads, studies and trials, as sentences (errors under ``--strict``)."""
    for workload in out.workloads:
        if workload not in rules.scored_workloads:
            out.notes.append(f"{tree.name}: {workload} is not scored under the "
                             f"{rules.version} rules; its time is shown but does not count.")
    for workload in rules.scored_workloads:
        w = out.workloads.get(workload)
        if w is None:
            kind = "held-out workload" if workload in rules.held_out_workloads else "workload"
            out.problems.append(f"{tree.name} has no logs for the {kind} {workload}; it "
                                "counts as not reaching the target.")
            continue
        if len(w.studies) != rules.num_studies:
            n = len(w.studies)
            out.problems.append(f"{tree.name}: {workload} has {n} "
                                f"{_plural(n, 'study', 'studies')} with logs, not "
                                f"{rules.num_studies} (the median is over {n}).")
        if rules.self_tuning:
            continue
        for s in w.studies:
            if len(s.trials) != rules.num_trials:
                out.problems.append(f"{tree.name}: {s.study} of {workload} has "
                                    f"{len(s.trials)} {_plural(len(s.trials), 'trial', 'trials')}"
                                    f" with logs, not {rules.num_trials}.")
    for t in tree.trials:
        if t.workload in rules.scored_workloads and csv_state(t) == "missing":
            out.notes.append(f"{t.label} has no eval_measurements.csv; skipped.")


def _plural(n: int, one: str, many: str) -> str:
    return one if n == 1 else many
