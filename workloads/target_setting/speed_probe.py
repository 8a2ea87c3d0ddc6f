"""The speed probe: how long the NAdamW baseline's step takes on this machine.

``paceline targets`` probes before planning (the target-setting step count is the runtime
over the step time), and the dev clock (:mod:`workloads.dev_clock`) probes once per machine,
workload and framework to normalise CPU seconds to the calibration machine's.

    paceline calibrate --framework jax --workloads fastmri
"""

from __future__ import annotations

import copy
import functools
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.registry import baselines
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search
from sdk.spec import TrainingCompleteError
from sdk.submission import load_submission
from workloads.target_setting.procedure import (
    PROCEDURE,
    Procedure,
    Subject,
    charged_per_step,
    eval_rows,
    make_workload,
    remove_trial,
    timing_from_rows,
)

# The baseline whose step the dev-clock probe times (its first search-space point), and the
# hyperparameters that set how much work a step does (the others change only its numbers).
PROBED_SUBMISSION = "nadamw"
WORK_HYPERPARAMETERS = ("dropout_rate", "aux_dropout_rate")


def probed_point() -> Any:
    """The hyperparameters the probe trains with: the first point of NAdamW's space."""
    space = SearchSpace.load(baselines().entry(PROBED_SUBMISSION).search_space)
    return generate_search(space, 1)[0]


@functools.cache
def probed_work() -> tuple[tuple[str, Any], ...]:
    """The probe's values of the hyperparameters that set a step's work, as pairs."""
    point = probed_point()._asdict()
    return tuple((k, point[k]) for k in WORK_HYPERPARAMETERS if k in point)


def stopping_after(submission: Any, seconds: float, min_steps: int, steady: int = 0,
                   workload: Any = None) -> Any:
    """A copy of ``submission`` that ends training (``TrainingCompleteError``, as a submission
    may) once ``seconds`` passed since its first step ended and ``min_steps`` more ran.

    With ``steady``, the time is not looked at: ``steady`` steps warm up (the first, which
    compiles, among them), then training goes on until ``steady`` more steps compiled nothing
    (JAX compiles a program per new batch shape, and its first run with it costs more), at
    most ``4 * steady`` steps. Each such step is timed on the trial's own clock from the end
    of the step before it to its own end (data selection included) and on the wall clock:
    ``steady_sec`` over ``steady_wall`` is the share of a core the probe got. Given the
    ``workload``, its evaluations are counted (``evals_after``: those after the warm-up), a
    step that followed one is not timed, and training goes on until two evaluations followed
    the warm-up: :func:`measure_speed` reads the step cost from the trial's own rows, not from
    the per-step times (JAX's steps there hold only their dispatch).
    """
    clock: dict[str, Any] = {"start": None, "steps": 0, "steady": 0, "steady_sec": 0.0}
    if steady:
        return steady_probe(submission, steady, clock, workload)
    inner = submission.update_params

    def update_params(**kwargs: Any) -> Any:
        now = time.time()
        if clock["start"] is None:
            out = inner(**kwargs)
            clock["start"] = time.time()
            return out
        if clock["steps"] >= min_steps and now - clock["start"] >= seconds:
            raise TrainingCompleteError("speed probe finished")
        clock["steps"] += 1
        return inner(**kwargs)

    probe = copy.copy(submission)
    probe.update_params = update_params
    probe.probe_clock = clock
    return probe


def steady_probe(submission: Any, steady: int, clock: dict[str, Any],
                 workload: Any = None) -> Any:
    """``stopping_after(..., steady=N)``: N warm-up steps, then N steps that compiled nothing
    and followed no evaluation of ``workload``, each timed on the active clock
    (``sdk.clock``; wall time without one) and on the wall clock (``steady_wall``: the timed
    steps' clock over their wall time is the share of a core the probe got)."""
    from sdk.clock import active_clock

    inner = submission.update_params
    last: dict[str, Any] = {"time": None, "wall": None, "compiles": 0, "evals": 0}
    clock["steady_wall"] = 0.0
    clock["evals"] = clock["evals_after"] = 0
    evals_needed = 0 if workload is None else 2
    if workload is not None:
        _count_evals(workload, clock, after=steady)

    def compiles(read: Any) -> int:
        spans = getattr(read, "spans", None)
        return int(spans.count) if spans is not None else 0

    def update_params(**kwargs: Any) -> Any:
        done = clock["steady"] >= steady and clock["evals_after"] >= evals_needed
        if done or clock["steps"] >= 4 * steady:
            raise TrainingCompleteError("speed probe finished")
        out = inner(**kwargs)
        clock["steps"] += 1
        read = active_clock() or time.time
        now, wall, seen = read(), time.monotonic(), compiles(read)
        quiet = seen == last["compiles"] and clock["evals"] == last["evals"]
        if clock["steps"] > steady and last["time"] is not None and quiet:
            clock["steady"] += 1
            clock["steady_sec"] += now - last["time"]
            clock["steady_wall"] += wall - last["wall"]
        last.update(time=now, wall=wall, compiles=seen, evals=clock["evals"])
        return out

    probe = copy.copy(submission)
    probe.update_params = update_params
    probe.probe_clock = clock
    return probe


def _charged_per_step(rows: list[dict[str, float]], warm_up: int) -> float | None:
    """Submission time the runner charged per step between the first evaluation after
    ``warm_up`` steps and the last one, the waits for JAX's queued steps included (it
    dispatches asynchronously and the runner waits before each eval); ``None`` with fewer
    than two such evaluations."""
    return charged_per_step([r for r in rows if r.get("global_step", 0) > warm_up])


def _count_evals(workload: Any, clock: dict[str, Any], after: int) -> None:
    """Count ``workload``'s evaluations in ``clock["evals"]``, and those after step ``after``
    in ``clock["evals_after"]`` (its ``eval_model``, wrapped)."""
    inner = workload.eval_model

    def eval_model(*args: Any, **kwargs: Any) -> Any:
        clock["evals"] += 1
        clock["evals_after"] += clock["steps"] > after
        return inner(*args, **kwargs)

    workload.eval_model = eval_model


def measure_speed(subject: Subject, seconds: float, trial_dir: Path,
                  data_dir: str | None = None, threads: int | None = None,
                  proc: Procedure = PROCEDURE, clock: str = "wall",
                  steps: int | None = None) -> dict[str, Any]:
    """Time the NAdamW baseline (first point of its search space) on ``subject``.

    One run through the real runner: the first step (compilation, warm-up), then at least
    ``seconds`` and ``proc.probe_min_steps`` more steps; evals only after the first and the
    last step. With ``steps`` the time is not looked at: ``steps`` steps warm up, then the run
    goes on, evaluating as a trial does, until ``steps`` more compiled nothing and two evals
    followed the warm-up (the same batches in every framework; ``stopping_after``); the step
    time is the submission time charged per step between the first and the last of those
    evals (see ``workloads.dev_clock.PROBE_METHOD`` for why). Returns the step time and the
    time of the second eval, in ``clock``'s seconds (``"dev"``: CPU seconds less
    compilation, not normalised).
    """
    workload = make_workload(subject, max_allowed_runtime_sec=1e12)
    own = workload.numbers.eval_period_time_sec
    # evals as a trial has them, at least every seconds / 2 so that two follow the warm-up
    workload.numbers = replace(workload.numbers,
                               eval_period_time_sec=min(own, seconds / 2) if steps else 1e12)
    nadamw = load_submission(PROBED_SUBMISSION, subject.framework, "external")
    submission = stopping_after(nadamw, seconds, proc.probe_min_steps, steady=steps or 0,
                                workload=workload if steps else None)
    point = probed_point()
    remove_trial(trial_dir)
    options = RunOptions(ruleset="external", data_dir=data_dir, tensorboard=False,
                         save_checkpoints=False, threads=threads, ignore_targets=True,
                         clock=clock, clock_scale=1.0)
    result = train_once(workload, submission, point, 0, get_ruleset("0.5"), options, trial_dir)
    rows = eval_rows(trial_dir)
    step_time, eval_time = timing_from_rows(rows, result.global_step,
                                            result.submission_time_sec)
    probed = submission.probe_clock
    timed = probed["steps"]  # the last "step" only raised: not counted
    share = None
    if steps:
        if not probed["steady"]:
            raise PacelineError(f"The speed probe of {subject.name} ({subject.framework}) "
                                f"compiled in every one of its {timed} steps; no step cost "
                                "could be measured.")
        # too few evals after the warm-up (at most 4N steps ran): the charged time from the
        # first eval on, never the per-step one (JAX's steps there hold only their dispatch)
        step_time = _charged_per_step(rows, steps) or step_time
        share = probed["steady_sec"] / probed["steady_wall"] if probed["steady_wall"] else None
    elif len(rows) >= 2 and timed > 0:
        step_time = (rows[-1]["accumulated_submission_time"] -
                     rows[0]["accumulated_submission_time"]) / timed
    return {"submission": PROBED_SUBMISSION, "seconds": seconds,
            "steps": timed if steps else timed + 1, "steady_steps": probed["steady"],
            "cpu_share": share if steps else None,
            "step_time_sec": step_time, "eval_time_sec": eval_time,
            "hyperparameters": dict(point._asdict())}
