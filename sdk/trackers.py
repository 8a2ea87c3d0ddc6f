"""What a trial shows in TensorBoard and Weights & Biases besides its raw scalars.

:class:`sdk.trial_logs.TrialLogger` feeds a :class:`TrialTrackers` the files it writes
(``hparams.json``, ``meta_data_<n>.json``, ``flags_<n>.json``) and every eval row. From them:

TensorBoard (``tensorboard --logdir experiments``)
    * every eval scalar once more under ``by_time/<tag>`` whose step is the submission time
      in milliseconds, so curves of trials can be compared on AlgoPerf's time axis;
    * the target as ``target/validation_<metric>`` (also ``by_time/``), and a Custom Scalars
      chart that draws the validation metric and its target together;
    * the trial in the HParams dashboard: its hyperparameters (with workload, framework,
      submission, study, trial, seed) against ``hparams/best_validation_<metric>``,
      ``hparams/last_validation_<metric>``, ``hparams/time_to_target_sec`` (written only once
      reached) and ``hparams/submission_time_sec``.

Weights & Biases (``paceline run --wandb``, as AlgoPerf's ``--use_wandb``)
    one W&B run per trial with the same scalars, the hyperparameters and run facts as its
    config and the best/last metric and time to target in its summary. ``wandb`` is not a
    dependency: :func:`require_wandb` says how to install it.

    paceline run --workload mnist --submission my_algo/submission.py --wandb
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError

BY_TIME = "by_time/"
TIME_COLUMN = "accumulated_submission_time"
WANDB_PROJECT_ENV = "WANDB_PROJECT"  # read by wandb itself; paceline's default below
DEFAULT_WANDB_PROJECT = "paceline"


def require_wandb() -> None:
    """Raise one sentence when ``--wandb`` is asked for but ``wandb`` is not installed."""
    try:
        import wandb  # noqa: F401
    except ImportError:
        pass
    else:
        return
    raise PacelineError("--wandb needs the wandb package, which is not installed; install it "
                        "with `.venv/bin/pip install wandb` (and `wandb login`) or drop --wandb.")


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _hparam_value(value: Any) -> bool | float | str:
    """HParams values are numbers, strings or booleans; anything else becomes its text."""
    if isinstance(value, bool | str):
        return value
    number = _number(value)
    return number if number is not None else str(value)


class TrialTrackers:
    """TensorBoard extras and an optional W&B run for one trial (see the module docstring).

    Args:
        trial_dir: the trial folder (names the HParams session and the W&B run).
        tb: the trial's :class:`sdk.trial_logs.ScalarWriter`, or ``None`` without TensorBoard.
    """

    def __init__(self, trial_dir: Path, tb: Any | None) -> None:
        self.trial_dir = Path(trial_dir)
        self._tb = tb
        self.hparams: dict[str, Any] = {}
        self.meta: dict[str, Any] = {}
        self._session_written = False
        self._wandb_run: Any | None = None
        self._best: float | None = None
        self._last: float | None = None
        self._time_to_target: float | None = None
        self._time: float | None = None

    # -- what the logger writes ------------------------------------------------------------
    def on_json(self, name: str, data: Any) -> None:
        if not isinstance(data, dict):
            return
        if name == "hparams.json":
            self.hparams = dict(data)
        elif name.startswith("meta_data_"):
            self.meta = dict(data)
            self._start_session()
        elif name.startswith("flags_") and data.get("wandb") and self._wandb_run is None:
            self._start_wandb(data)

    @property
    def metric(self) -> str | None:
        name = self.meta.get("workload.target_metric_name")
        return name if isinstance(name, str) and name else None

    @property
    def target(self) -> float | None:
        return _number(self.meta.get("workload.validation_target_value"))

    @property
    def minimized(self) -> bool:
        flag = self.meta.get("paceline.metric_minimized",
                             self.meta.get("workload.metric_minimized"))
        if isinstance(flag, bool):
            return flag
        from sdk.target_reach import is_minimized

        try:
            return is_minimized(self.metric or "")
        except ValueError:
            return False

    def _facts(self) -> dict[str, Any]:
        """The trial's own hyperparameters and what tells trials apart."""
        parts = self.trial_dir.parts
        facts = {
            "workload": self.meta.get("workload.workload_name"),
            "framework": self.meta.get("paceline.framework"),
            "submission": self.meta.get("paceline.submission"),
            "study": parts[-3] if len(parts) >= 3 else None,
            "trial": self.trial_dir.name,
            "rng_seed": self.meta.get("rng_seed"),
        }
        out = {k: _hparam_value(v) for k, v in self.hparams.items()}
        out.update({k: _hparam_value(v) for k, v in facts.items() if v is not None})
        return out

    # -- eval rows ---------------------------------------------------------------------------
    def on_eval(self, metrics: dict[str, Any], step: int) -> None:
        """One eval row: by_time scalars, the target, and the HParams metrics so far."""
        seconds = _number(metrics.get(TIME_COLUMN, metrics.get("score")))
        metric, target = self.metric, self.target
        value = _number(metrics.get(f"validation/{metric}")) if metric else None
        if seconds is not None:
            self._time = seconds
        if value is not None:
            self._last = value
            better = min if self.minimized else max
            self._best = value if self._best is None else better(self._best, value)
            reached = target is not None and (value <= target if self.minimized
                                              else value >= target)
            if reached and self._time_to_target is None and seconds is not None:
                self._time_to_target = seconds
        extra: dict[str, Any] = {}
        if metric and target is not None:
            extra[f"target/validation_{metric}"] = target
        summary = self._summary_values()
        if self._tb is not None:
            self._tb.scalars({**extra, **summary}, step)
            if seconds is not None:
                timed = {BY_TIME + k: v for k, v in {**metrics, **extra}.items()
                         if _number(v) is not None and k not in (TIME_COLUMN, "score")}
                self._tb.scalars(timed, int(round(seconds * 1000)))
        if self._wandb_run is not None:
            row = {k: v for k, v in {**metrics, **extra}.items() if _number(v) is not None}
            self._wandb_run.log({**row, **summary}, step=int(step))

    def _summary_values(self) -> dict[str, float]:
        metric = self.metric or "metric"
        out = {}
        for key, value in ((f"hparams/best_validation_{metric}", self._best),
                           (f"hparams/last_validation_{metric}", self._last),
                           ("hparams/time_to_target_sec", self._time_to_target),
                           ("hparams/submission_time_sec", self._time)):
            if value is not None:
                out[key] = value
        return out

    # -- TensorBoard: HParams session and the Custom Scalars chart ---------------------------
    def _start_session(self) -> None:
        if self._tb is None or self._session_written:
            return
        from tensorboard.plugins.hparams import summary_v2 as hp

        facts = self._facts()
        metric = self.metric or "metric"
        metrics = [hp.Metric(f"hparams/{k}", display_name=k) for k in (
            f"best_validation_{metric}", f"last_validation_{metric}", "time_to_target_sec",
            "submission_time_sec")]
        config = hp.hparams_config_pb([hp.HParam(k) for k in sorted(facts)], metrics)
        self._tb.summary(config, 0)
        self._tb.summary(hp.hparams_pb(facts, trial_id=str(self.trial_dir),
                                       start_time_secs=time.time()), 0)
        if self.metric:
            self._tb.summary(self._layout(self.metric), 0)
        self._session_written = True

    @staticmethod
    def _layout(metric: str) -> Any:
        """A Custom Scalars chart with the metric and its target, by step and by time."""
        from tensorboard.compat.proto import summary_pb2
        from tensorboard.plugins.custom_scalar import layout_pb2
        from tensorboard.plugins.custom_scalar import metadata as cs

        def chart(title: str, prefix: str) -> Any:
            tags = [f"^{prefix}validation/{metric}$", f"^{prefix}target/validation_{metric}$"]
            return layout_pb2.Chart(title=title, multiline=layout_pb2.MultilineChartContent(
                tag=tags))

        layout = layout_pb2.Layout(category=[layout_pb2.Category(
            title=f"validation {metric} and target",
            chart=[chart("by step", ""), chart("by submission time (ms)", BY_TIME)])])
        from tensorboard.util import tensor_util

        summary = summary_pb2.Summary()
        summary.value.add(tag=cs.CONFIG_SUMMARY_TAG, metadata=cs.create_summary_metadata(),
                          tensor=tensor_util.make_tensor_proto(layout.SerializeToString()))
        return summary

    # -- W&B ---------------------------------------------------------------------------------
    def _start_wandb(self, flags: dict[str, Any]) -> None:
        import os

        import wandb

        facts = self._facts()
        name = "/".join(str(facts[k]) for k in ("submission", "study", "workload", "trial")
                        if facts.get(k) is not None)
        self._wandb_run = wandb.init(
            project=os.environ.get(WANDB_PROJECT_ENV, DEFAULT_WANDB_PROJECT),
            name=name or self.trial_dir.name, dir=str(self.trial_dir),
            config={**facts, "target": self.target, "target_metric": self.metric,
                    "budget_sec": self.meta.get("paceline.budget_sec"),
                    "clock": self.meta.get("paceline.clock"),
                    "ruleset": flags.get("ruleset"),
                    "ruleset_version": flags.get("ruleset_version")},
            tags=[str(t) for t in (facts.get("workload"), facts.get("framework")) if t],
            reinit=True,
        )

    # -- the end -----------------------------------------------------------------------------
    def close(self) -> None:
        if self._wandb_run is not None:
            run, self._wandb_run = self._wandb_run, None
            run.summary.update(self._summary_values())
            run.finish()
