"""Dev targets anchored on the reference algorithm's published official runs.

    paceline targets suite --anchor $OFF/nadamw_baselinev05 --ruleset-version a100-2026 \
        --seeds 3 --jobs 2 --write

AlgoPerf defines a workload's difficulty by what its reference algorithms reach within the
budget: the budget is a fixed multiple of the target-setting runtime, so the reference NAdamW
reaches the target at a known share of it. A dev target set by tuning at dev scale keeps the
*value* procedure but not that *relation*, and whether an entry tuned at official scale reaches
it then depends on how its hyperparameters transfer to dev. Anchoring keeps the relation:
the reference algorithm (AlgoPerf's self-tuning NAdamW baseline, whose official runs are
published) runs the dev workload for its whole dev budget, and

- where its official runs reach the official target (the median over studies, a miss counting
  as later than any hit) at share ``s`` of their budget, the dev target is the value its dev
  runs' best-so-far curves pass at share ``s`` of the dev budget, read between the two evals
  around that time (median over seeds): rule ``"share"``. A dev budget may hold ten evals,
  so the last eval before ``s`` can lie a tenth of the budget earlier: taken alone, it set
  finewebedu_lm's target at perplexity 54 in one derivation and 83 in the next, when its
  evals came 12.9 s apart instead of 12.3 and the share point fell just before an eval
  instead of just after it;
- where they do not, the official target lies beyond the reference's reach by a ratio of
  errors, ``error(target) / error(median best)``; the dev target lies as far beyond the dev
  runs' median best: rule ``"gap"``.

An error is how far a value is from perfect: the value itself for minimised metrics (loss,
WER, perplexity), ``1 - value`` for accuracy, mAP and SSIM, ``100 - value`` for BLEU. The test
target keeps the ratio of test to validation error of the workload's current targets. Budgets,
eval periods and step hints stay. docs/targets.md#anchored-targets has the measured effect.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.input_files import read_json_object
from sdk.scoring.reader import split_framework
from sdk.target_reach import (
    best_so_far,
    error_of,
    first_reaching_index,
    is_minimized,
    value_of,
)
from workloads.target_setting.procedure import eval_rows, round_easier

META_FILE = "meta_data_0.json"


@dataclass(frozen=True)
class Run:
    """One run's validation curve: (submission seconds, value) per eval, and its budget."""

    budget_sec: float
    curve: tuple[tuple[float, float], ...]

    def best_by(self, seconds: float, minimized: bool) -> float | None:
        """The best validation value of the evals at or before ``seconds``."""
        values = [v for t, v in self.curve if t <= seconds and math.isfinite(v)]
        if not values:
            return None
        return min(values) if minimized else max(values)

    def best_at(self, seconds: float, minimized: bool) -> float | None:
        """The best-so-far validation value at ``seconds``, read between the evals around it.

        Evals are seconds apart (a dev budget may hold only ten), so the last eval before
        ``seconds`` can lie a tenth of the budget earlier; the best-so-far curve is taken
        as a straight line between that eval and the next one. Past the last eval: the best.
        """
        envelope = best_so_far(self.curve, minimized)
        before = next((p for p in reversed(envelope) if p[0] <= seconds), None)
        after = next((p for p in envelope if p[0] > seconds), None)
        sign = -1.0 if minimized else 1.0
        if before is None:
            return None
        if after is None or after[0] <= before[0]:
            return sign * before[1]
        weight = (seconds - before[0]) / (after[0] - before[0])
        return sign * (before[1] + weight * (after[1] - before[1]))

    def first_reaching(self, target: float, minimized: bool) -> float | None:
        """Submission seconds of the first eval within budget reaching ``target`` (the
        scorer's rule, :func:`sdk.target_reach.first_reaching_index`; ``None`` for a miss)."""
        within = [(t, v) for t, v in self.curve if t <= self.budget_sec]
        i = first_reaching_index([v for _, v in within], target, minimized)
        return None if i is None else within[i][0]


def read_run(trial_dir: Path, metric: str, budget_sec: float | None = None) -> Run:
    """The validation curve of one trial folder in AlgoPerf's layout; the budget from its
    ``meta_data_0.json`` unless given."""
    if budget_sec is None:
        meta = _read_meta(trial_dir)
        budget_sec = float(meta.get("paceline.budget_sec")
                           or meta["workload.max_allowed_runtime_sec"])
    rows = eval_rows(trial_dir)
    column = f"validation/{metric}"
    return Run(budget_sec,
               tuple((r["accumulated_submission_time"], r[column]) for r in rows if column in r))


def _read_meta(trial_dir: Path) -> dict[str, Any]:
    """The trial's metadata (the shared reader's one-sentence errors, with what it is for)."""
    try:
        return read_json_object(Path(trial_dir) / META_FILE, "trial metadata file")
    except PacelineError as exc:
        raise PacelineError(f"{str(exc).rstrip('.')}; anchoring needs each trial's "
                            "meta_data_0.json with the workload's budget and target.") from None


@dataclass(frozen=True)
class OfficialAnchor:
    """What the reference algorithm's official runs say about one workload's target."""

    workload: str
    framework: str
    metric: str
    target: float
    budget_sec: float
    shares: tuple[float | None, ...]  # per study: time to target / budget (None: missed)
    bests: tuple[float, ...]          # per study: best validation value within the budget

    @property
    def share(self) -> float | None:
        """Median share over studies, a miss counting as later than any hit (None: missed)."""
        middle = statistics.median(math.inf if s is None else s for s in self.shares)
        return middle if math.isfinite(middle) else None

    @property
    def error_ratio(self) -> float:
        """error(target) / error(median best): below 1 where the target is out of reach."""
        best = statistics.median(self.bests)
        return error_of(self.target, self.metric) / error_of(best, self.metric)


def official_anchor(folder: Path, workload: str, budget_multiplier: float) -> OfficialAnchor:
    """Read the reference's official trials of ``workload`` under ``folder`` (an AlgoPerf
    submission folder: ``study_<k>/<workload>_<framework>/trial_<n>/``, one trial per study).

    The logs record the workload's budget; a self-tuning run has ``budget_multiplier`` times
    it (AlgoPerf's ``submission_runner.py``: x1.5 under the 0.6 and 2026 rules), and shares
    and best values are taken over that whole budget, as the dev runs' are over theirs.
    """
    found: list[tuple[str, Path]] = []
    for study in sorted(Path(folder).glob("study_*")):
        for wl_dir in sorted(study.iterdir()):
            name, framework = split_framework(wl_dir.name)
            if name == workload and framework:
                trials = sorted(wl_dir.glob("trial_*"))
                if len(trials) > 1:
                    raise PacelineError(f"{wl_dir} holds {len(trials)} trials; anchor on a "
                                        "self-tuning run (one trial per study).")
                if trials:
                    found.append((framework, trials[0]))
    if not found:
        raise PacelineError(f"{folder} has no official trial of {workload} "
                            "(study_<k>/<workload>_<framework>/trial_<n>/).")
    shares, bests = [], []
    for _framework, trial in found:
        meta = _read_meta(trial)
        metric = meta["workload.target_metric_name"]
        target = float(meta["workload.validation_target_value"])
        run = read_run(trial, metric,
                       budget_multiplier * float(meta["workload.max_allowed_runtime_sec"]))
        best = run.best_by(run.budget_sec, is_minimized(metric))
        if best is None:
            raise PacelineError(f"{trial} has no evaluation of validation/{metric} within "
                                "its budget.")
        reached = run.first_reaching(target, is_minimized(metric))
        shares.append(None if reached is None else reached / run.budget_sec)
        bests.append(best)
    return OfficialAnchor(workload, found[0][0], metric, target, run.budget_sec,
                          tuple(shares), tuple(bests))


@dataclass
class AnchoredTarget:
    """The dev target the anchor gives, with how it was derived."""

    rule: str                      # "share" or "gap"
    validation_target: float
    test_target: float | None
    per_run: list[float | None] = field(default_factory=list)
    # per dev run: the share of its budget at which it reached the new target (None: missed),
    # beside the official shares, so that the two sides' seed-to-seed spread can be compared
    dev_shares: list[float | None] = field(default_factory=list)

    def as_record(self, anchor: OfficialAnchor) -> dict[str, Any]:
        return {"rule": self.rule, "official_target": anchor.target,
                "official_budget_sec": anchor.budget_sec, "official_framework": anchor.framework,
                "official_shares": list(anchor.shares), "official_bests": list(anchor.bests),
                "official_share": anchor.share, "official_error_ratio": anchor.error_ratio,
                "dev_per_run": self.per_run, "dev_shares": self.dev_shares,
                "validation_target": self.validation_target, "test_target": self.test_target}


def anchored_target(anchor: OfficialAnchor, runs: list[Run], metric: str,
                    current: tuple[float, float | None]) -> AnchoredTarget:
    """The dev target of ``metric`` from the reference's dev ``runs`` (whole budgets) and
    ``anchor``; ``current`` = the workload's (validation, test) targets now."""
    minimized = is_minimized(metric)
    if not runs:
        raise PacelineError(f"No dev run of the reference on {anchor.workload} to anchor on.")
    share = anchor.share
    if share is not None:
        per_run = [r.best_at(share * r.budget_sec, minimized) for r in runs]
        reached = [v for v in per_run if v is not None]
        if not reached:
            raise PacelineError(f"The reference's dev runs on {anchor.workload} have no eval "
                                f"before {share:.0%} of their budget; shorten the eval period.")
        value, rule = statistics.median(reached), "share"
    else:
        per_run = [r.best_by(r.budget_sec, minimized) for r in runs]
        best = statistics.median([v for v in per_run if v is not None])
        value = value_of(error_of(best, metric) * anchor.error_ratio, metric)
        rule = "gap"
    validation = round_easier(value, minimized)
    shares = [None if (t := r.first_reaching(validation, minimized)) is None
              else t / r.budget_sec for r in runs]
    return AnchoredTarget(rule, validation, _test_target(validation, current, metric), per_run,
                          shares)


def _test_target(validation: float, current: tuple[float, float | None],
                 metric: str) -> float | None:
    """The test target keeping the current test/validation error ratio."""
    old_val, old_test = current
    if old_test is None or error_of(old_val, metric) == 0:
        return old_test
    ratio = error_of(old_test, metric) / error_of(old_val, metric)
    return round_easier(value_of(error_of(validation, metric) * ratio, metric),
                        is_minimized(metric))
