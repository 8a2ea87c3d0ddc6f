"""The benchmark's target-setting procedure in miniature: what ``paceline targets`` runs.

AlgoPerf set every workload's numbers this way (``docs/DOCUMENTATION.md`` and ``algorithms/target_setting_algorithms/``):
tune four target-setting algorithms (AdamW, NAdamW, Nesterov, heavy-ball momentum) with
quasi-random search on a fixed runtime; rerun the best (algorithm, point) with several seeds;
validation target = median of the reruns' best validation values; test target = worst test
value among the reruns that reached the validation target; budget = 4/3 x the target-setting
runtime; the target-setting schedules spanned that runtime (0.75 x the step hint). Held-out
variants used two algorithms and their base workload's budget.

Paceline's version, for one dev workload:

1. *Probe*: a few seconds of the NAdamW baseline measure the step time and the eval time.
2. *Plan*: the target-setting step count ``T = runtime / step time``. Every run trains
   exactly ``T`` steps with ``step_hint = T`` (so each schedule spans the run) and the
   workload's targets ignored. Fixing steps rather than seconds makes the outcome
   independent of how busy the machine is while the procedure runs.
3. *Search*: ``--trials`` Halton points of each algorithm's search space (the archived paper
   baselines' spaces, :data:`TARGET_SETTING_SPACES`), one seed each.
4. *Reruns*: the best point by best validation metric, ``--seeds`` more times.
5. *Numbers*: targets as above (test value of a run = its test metric at its best-validation
   eval); budget = ``budget_factor x runtime``; step hint = the NAdamW steps that fit in the
   budget (``budget_factor x T``); eval period = the shortest that keeps evals at or under
   10% of wall time and at most 100 evals per budget. v0.6 numbers follow from the official
   v0.5 -> v0.6 ratios (:mod:`workloads.common.numbers`).

    paceline targets mnist --scale dev --runtime 15 --trials 5 --seeds 5 --write
"""

from __future__ import annotations

import csv
import math
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.registry import baselines, workloads
from sdk.rulesets import VERSIONS, WorkloadNumbers, get_ruleset
from sdk.runner import RunOptions, TrialFailed, read_status, train_once
from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
from sdk.submission import load_submission
from sdk.trial_logs import EVAL_FILE, atomic_write_json, is_trial_dir, system_metadata
from sdk.trial_status import FAILURES, TrialStatus
from workloads.common.numbers import MIN_EVALS_PER_BUDGET


@dataclass(frozen=True)
class Procedure:
    """The procedure's fixed numbers; the official ones are noted where they exist."""

    algorithms: tuple[str, ...] = ("adamw", "nadamw", "nesterov", "momentum")  # official four
    variant_algorithms: int = 2  # v0.5 held-out variants used two of them
    # Without a base calibration record, variants use the two algorithms AlgoPerf picked
    # most often for base workloads (NAdamW 5 of 8, Nesterov 2 of 8).
    variant_fallback: tuple[str, ...] = ("nadamw", "nesterov")
    budget_factor: float = 4 / 3  # v0.5: max_runtime = 4/3 x the target-setting runtime
    max_eval_share: float = 0.10  # evals at most this share of a run's wall time
    max_evals_per_budget: int = 100  # official workloads: ~40-125 evals per budget
    probe_fraction: float = 0.1  # probe length as a share of the runtime ...
    probe_min_sec: float = 4.0  # ... within these bounds
    probe_max_sec: float = 15.0
    probe_min_steps: int = 20  # timed steps after the first, however long they take
    min_evals_per_budget: int = MIN_EVALS_PER_BUDGET  # fewer (evals too slow for the budget) earns a warning
    run_cap_factor: float = 10.0  # wall-time cap of a step-limited run, x the runtime
    significant_digits: int = 6  # targets are rounded (towards easier) to this many


PROCEDURE = Procedure()

# NAdamW's registered space is the baseline's five fixed points; target setting searches the
# archived paper baseline's space instead (AlgoPerf's algorithms/archived_paper_baselines/). The other algorithms'
# registered spaces are already theirs.
TARGET_SETTING_SPACES: dict[str, dict[str, Any]] = {
    "nadamw": {
        "learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
        "one_minus_beta1": {"min": 4e-3, "max": 0.1, "scaling": "log"},
        "beta2": {"feasible_points": [0.999]},
        "warmup_factor": {"feasible_points": [0.05]},
        "weight_decay": {"min": 5e-3, "max": 1.0, "scaling": "log"},
        "label_smoothing": {"feasible_points": [0.1, 0.2]},
        "dropout_rate": {"feasible_points": [0.0, 0.1]},
    },
}

PLAN_FILE = "plan.json"
RESULT_FILE = "calibration.json"


@dataclass
class TargetOptions:
    """What ``paceline targets`` was asked to do (the CLI flags)."""

    framework: str = "pytorch"
    runtime_sec: float | None = None  # default: the current dev budget / budget_factor
    steps: int | None = None  # fix the target-setting step count instead of measuring it
    trials: int = 5  # search points per algorithm (official: 200)
    seeds: int = 5  # reruns of the best point (official: 20)
    algorithms: tuple[str, ...] | None = None  # default: all four (variants: two)
    budget_factor: float = PROCEDURE.budget_factor
    seed: int = 0
    search_spaces: dict[str, str] = field(default_factory=dict)  # algorithm -> JSON path
    root: Path = Path("experiments/targets")
    resume: bool = False
    overwrite: bool = False
    data_dir: str | None = None
    threads: int | None = None
    probe_sec: float | None = None
    command: str = ""
    # The calibration machine defines the dev clock's unit: its runs are timed in its own CPU
    # seconds (scale 1, one thread), so the numbers it writes are what other machines' dev
    # clocks are normalised to. "wall" reproduces the records made before the dev clock.
    clock: str = "dev"
    jobs: int = 1  # runs side by side (one single-threaded run per worker process)
    # Only the targets are set: runs take the calibrated step count (step hint / budget
    # factor) and the budget, eval period and step hint stay as calibrated (the speed
    # calibration sets those; the algorithm setting the targets does not).
    keep_speed: bool = False

    @property
    def run_threads(self) -> int | None:
        return self.threads or (1 if self.clock == "dev" else None)


@dataclass
class TrialRecord:
    """One target-setting run, as recorded in the provenance record."""

    kind: str  # "search" or "rerun"
    algorithm: str
    trial: int
    rng_seed: int
    hyperparameters: dict[str, Any]
    status: str
    global_step: int
    best_validation: float | None
    test_at_best: float | None
    submission_time_sec: float
    eval_time_sec: float
    total_duration_sec: float
    trial_dir: str
    reason: str = ""


@dataclass
class Plan:
    """The fixed part of a calibration, stored as ``plan.json`` so ``--resume`` reuses it."""

    workload: str
    framework: str
    base: str | None
    algorithms: list[str]
    trials: int
    seeds: int
    seed: int
    budget_factor: float
    runtime_sec: float
    steps: int
    step_time_sec: float
    eval_time_sec: float
    eval_period_sec: float
    budget_sec: float
    step_hint: int
    probe: dict[str, Any]


# ---- reading evaluations ---------------------------------------------------------------------
def eval_rows(trial_dir: Path) -> list[dict[str, float]]:
    """The rows of a trial's ``eval_measurements.csv`` as numbers (blank cells dropped)."""
    path = Path(trial_dir) / EVAL_FILE
    if not path.is_file():
        return []
    rows = []
    with open(path, newline="") as f:
        for raw in csv.DictReader(f):
            row = {}
            for key, value in raw.items():
                try:
                    row[key] = float(value)
                except (TypeError, ValueError):
                    continue
            rows.append(row)
    return rows


def best_eval(rows: list[dict[str, float]], metric: str,
              minimized: bool) -> tuple[float | None, float | None]:
    """(best validation value, test value at that eval) over a run's evals."""
    best, test = None, None
    for row in rows:
        value = row.get(f"validation/{metric}")
        if value is None or not math.isfinite(value):
            continue
        if best is None or (value < best if minimized else value > best):
            best, test = value, row.get(f"test/{metric}")
    return best, test


def charged_per_step(rows: list[dict[str, float]]) -> float | None:
    """Submission time the runner charged per step between the first eval row and the last
    (``None`` without two rows steps apart)."""
    if len(rows) < 2 or rows[-1]["global_step"] <= rows[0]["global_step"]:
        return None
    return ((rows[-1]["accumulated_submission_time"] - rows[0]["accumulated_submission_time"])
            / (rows[-1]["global_step"] - rows[0]["global_step"]))


def timing_from_rows(rows: list[dict[str, float]], steps: int,
                     submission_time: float) -> tuple[float, float]:
    """(seconds per step, seconds per eval), leaving out the first step and eval (warm-up)."""
    step_time = charged_per_step(rows)
    if step_time is None:
        step_time = submission_time / max(steps, 1)
    acc = [r["accumulated_eval_time"] for r in rows if "accumulated_eval_time" in r]
    durations = [b - a for a, b in zip(acc, acc[1:], strict=False)] or acc[:1]
    eval_time = statistics.median(durations) if durations else 0.0
    return step_time, eval_time


def reaches(value: float | None, target: float, minimized: bool) -> bool:
    """The scorer's non-strict test of a value against a target."""
    if value is None or not math.isfinite(value):
        return False
    return value <= target if minimized else value >= target


def round_easier(value: float, minimized: bool, digits: int = PROCEDURE.significant_digits
                 ) -> float:
    """``value`` to ``digits`` significant digits, rounded in the direction easier to reach."""
    if value == 0 or not math.isfinite(value):
        return value
    d = Decimal(repr(value))
    quantum = Decimal(1).scaleb(d.adjusted() - digits + 1)
    return float(d.quantize(quantum, rounding=ROUND_CEILING if minimized else ROUND_FLOOR))


def round_up_2(value: float) -> float:
    """``value`` rounded up to two significant digits (eval periods)."""
    if value <= 0:
        return value
    d = Decimal(repr(value))
    return float(d.quantize(Decimal(1).scaleb(d.adjusted() - 1), rounding=ROUND_CEILING))


def eval_period_for(eval_time: float, budget: float, proc: Procedure = PROCEDURE) -> float:
    """The shortest eval period that keeps evals within the share and count limits."""
    share = proc.max_eval_share
    return round_up_2(max(eval_time * (1 - share) / share, budget / proc.max_evals_per_budget))


# ---- the workload being calibrated -------------------------------------------------------------
@dataclass(frozen=True)
class Subject:
    name: str
    framework: str
    base: str | None
    current: WorkloadNumbers  # the v0.5 dev numbers in code now
    base_numbers: WorkloadNumbers | None  # a variant's base workload's numbers


def subject_for(name: str, framework: str,
                known: dict[str, dict[str, Any]] | None = None) -> Subject:
    """The workload to calibrate; a variant's base numbers come from ``known`` (records made
    earlier in the same invocation, not yet in the imported code) or from the code."""
    registry = workloads()
    entry = registry.entry(name)
    if "dev" not in entry.classes:
        raise PacelineError(f"Workload {name!r} has no dev scale; target setting calibrates "
                            f"dev workloads (official numbers are fixed by the rules).")
    current = registry.workload_class(name, "dev", framework).numbers_for("0.5")
    base_numbers = None
    if entry.base is not None and known and entry.base in known:
        base_numbers = numbers_from_record(known[entry.base])
    elif entry.base is not None:
        base_numbers = registry.workload_class(entry.base, "dev", framework).numbers_for("0.5")
    return Subject(name, framework, entry.base, current, base_numbers)


def make_workload(subject: Subject, **numbers: Any) -> Any:
    """The registered dev workload with some of its numbers replaced for this run."""
    workload = workloads().create(subject.name, "dev", subject.framework, ruleset_version="0.5")
    workload.numbers = replace(workload.numbers, **numbers)
    return workload


def search_space(algorithm: str, overrides: dict[str, str] | None = None) -> SearchSpace:
    if overrides and algorithm in overrides:
        return SearchSpace.load(overrides[algorithm])
    if algorithm in TARGET_SETTING_SPACES:
        return SearchSpace.from_json(TARGET_SETTING_SPACES[algorithm],
                                     source=f"<{algorithm} target-setting space>")
    path = baselines().entry(algorithm).search_space
    if path is None:
        raise PacelineError(f"Baseline {algorithm!r} has no search space; pass "
                            f"--search-space {algorithm}=JSON.")
    return SearchSpace.load(path)


# ---- running -------------------------------------------------------------------------------------
_SUBMISSIONS: dict[tuple[str, str], Any] = {}


def _submission(algorithm: str, framework: str) -> Any:
    key = (algorithm, framework)
    if key not in _SUBMISSIONS:
        _SUBMISSIONS[key] = load_submission(algorithm, framework, "external")
    return _SUBMISSIONS[key]


def remove_trial(trial_dir: Path) -> None:
    """Delete a trial directory paceline made, to run it again; refuse any other folder."""
    if not trial_dir.exists():
        return
    if not is_trial_dir(trial_dir):
        raise PacelineError(f"{trial_dir} is not a trial directory paceline made, so it is "
                            "not deleted to run the trial again; move it away.")
    shutil.rmtree(trial_dir)


def run_one(subject: Subject, plan: Plan, kind: str, algorithm: str, trial: int,
            hyperparameters: dict[str, Any], rng_seed: int, trial_dir: Path,
            opts: TargetOptions) -> TrialRecord:
    """One target-setting run of ``plan.steps`` steps (or the recorded one, if finished)."""
    status = read_status(trial_dir) if opts.resume else None
    if not (status and status.get("finished") and status.get("result")):
        remove_trial(trial_dir)  # an interrupted run starts again (runs are short)
        workload = make_workload(
            subject, step_hint=plan.steps, eval_period_time_sec=plan.eval_period_sec,
            max_allowed_runtime_sec=plan.runtime_sec * PROCEDURE.run_cap_factor)
        options = RunOptions(ruleset="external", data_dir=opts.data_dir,
                             max_global_steps=plan.steps, tensorboard=False,
                             save_checkpoints=False, threads=opts.run_threads,
                             ignore_targets=True, clock=opts.clock, clock_scale=1.0)
        try:
            train_once(workload, _submission(algorithm, subject.framework),
                       make_hyperparameters(hyperparameters), rng_seed, get_ruleset("0.5"),
                       options, trial_dir, trial=trial)
        except TrialFailed:
            pass  # recorded in the trial's status file, read below
        status = read_status(trial_dir) or {}
    result = status.get("result") or {}
    metric, minimized = subject.current.target_metric_name, subject.current.metric_minimized
    best, test = best_eval(eval_rows(trial_dir), metric, minimized)
    return TrialRecord(
        kind=kind, algorithm=algorithm, trial=trial, rng_seed=rng_seed,
        hyperparameters=hyperparameters, status=status.get("status", "failed"),
        global_step=int(result.get("global_step", 0)), best_validation=best, test_at_best=test,
        submission_time_sec=float(result.get("submission_time_sec", 0.0)),
        eval_time_sec=float(result.get("eval_time_sec", 0.0)),
        total_duration_sec=float(result.get("total_duration_sec", 0.0)),
        trial_dir=str(trial_dir), reason=status.get("reason", ""),
    )


RunArgs = tuple[str, str, int, dict[str, Any], int, Path]  # kind, algorithm, trial, hp, seed, dir


def run_many(subject: Subject, plan: Plan, runs: list[RunArgs], opts: TargetOptions,
             report: Callable[[TrialRecord], None]) -> list[TrialRecord]:
    """:func:`run_one` for each of ``runs``, ``opts.jobs`` side by side; records in order."""
    if opts.jobs <= 1 or len(runs) <= 1:
        records = []
        for args in runs:
            records.append(run_one(subject, plan, *args, opts))
            report(records[-1])
        return records
    from concurrent.futures import as_completed

    from sdk.parallel import worker_pool

    found: dict[int, TrialRecord] = {}
    with worker_pool(min(opts.jobs, len(runs)), subject.framework, opts.run_threads) as pool:
        futures = {pool.submit(run_one, subject, plan, *args, opts): i
                   for i, args in enumerate(runs)}
        for future in as_completed(futures):
            found[futures[future]] = future.result()
            report(found[futures[future]])
    return [found[i] for i in range(len(runs))]


def _usable(record: TrialRecord) -> bool:
    return record.status not in FAILURES | {TrialStatus.RUNNING} and \
        record.best_validation is not None


def pick_best(records: list[TrialRecord], minimized: bool) -> TrialRecord:
    usable = [r for r in records if _usable(r)]
    if not usable:
        raise PacelineError("No target-setting run finished with a finite validation metric; "
                            "check the trial logs and the search spaces.")
    return (min if minimized else max)(usable, key=lambda r: r.best_validation)


def algorithm_ranking(records: list[TrialRecord], minimized: bool) -> list[dict[str, Any]]:
    """Each algorithm's best search result, best first."""
    best: dict[str, float] = {}
    for r in records:
        if r.kind != "search" or not _usable(r):
            continue
        old = best.get(r.algorithm)
        if old is None or (r.best_validation < old if minimized else r.best_validation > old):
            best[r.algorithm] = r.best_validation
    order = sorted(best.items(), key=lambda kv: kv[1], reverse=not minimized)
    return [{"algorithm": a, "best_validation": v} for a, v in order]


# ---- planning --------------------------------------------------------------------------------
def default_algorithms(subject: Subject,
                       known: dict[str, dict[str, Any]] | None = None) -> tuple[str, ...]:
    """All four; for a variant the two best on its base (this run's or the recorded)."""
    if subject.base is None:
        return PROCEDURE.algorithms
    from workloads.calibration_record import read_record

    record = (known or {}).get(subject.base) or read_record(subject.base)
    ranked = [r["algorithm"] for r in (record or {}).get("algorithm_ranking", [])]
    return tuple(ranked[: PROCEDURE.variant_algorithms]) or PROCEDURE.variant_fallback


def check_options(opts: TargetOptions) -> None:
    if opts.trials < 1 or opts.seeds < 1:
        raise PacelineError("--trials and --seeds must be at least 1.")
    if opts.runtime_sec is not None and not opts.runtime_sec > 0:
        raise PacelineError(f"--runtime must be positive, got {opts.runtime_sec}.")
    if opts.steps is not None and opts.steps < 1:
        raise PacelineError(f"--steps must be at least 1, got {opts.steps}.")
    if not opts.budget_factor >= 1:
        raise PacelineError(f"--budget-factor must be at least 1, got {opts.budget_factor}.")
    for algorithm in opts.algorithms or ():
        if algorithm not in baselines():
            known = ", ".join(baselines().names())
            raise PacelineError(f"Unknown algorithm {algorithm!r}; registered baselines: "
                                f"{known}.")
    for algorithm in opts.search_spaces:
        if opts.algorithms and algorithm not in opts.algorithms:
            raise PacelineError(f"--search-space names {algorithm!r}, which is not among "
                                f"--algorithms.")


def make_plan(subject: Subject, opts: TargetOptions, folder: Path,
              say: Callable[[str], None],
              known: dict[str, dict[str, Any]] | None = None) -> Plan:
    """Probe the speed and fix steps, eval period, budget and step hint."""
    factor = opts.budget_factor
    reference = subject.base_numbers or subject.current
    runtime = opts.runtime_sec or reference.max_allowed_runtime_sec / factor
    probe_sec = opts.probe_sec or min(max(runtime * PROCEDURE.probe_fraction,
                                          PROCEDURE.probe_min_sec), PROCEDURE.probe_max_sec)
    say(f"{subject.name}: measuring speed ({probe_sec:.0f}s of NAdamW) ...")
    from workloads.target_setting.speed_probe import measure_speed

    probe = measure_speed(subject, probe_sec, folder / "probe", opts.data_dir, opts.run_threads,
                          clock=opts.clock)
    step_time = probe["step_time_sec"]
    if opts.steps is not None:
        steps, runtime = opts.steps, opts.steps * step_time
    else:
        steps = max(1, int(runtime / step_time))
    if subject.base_numbers is not None:  # held-out variant: the base's budget and hints
        budget = subject.base_numbers.max_allowed_runtime_sec
        period = subject.base_numbers.eval_period_time_sec
        hint = subject.base_numbers.step_hint
    elif opts.keep_speed:  # targets only: the calibrated steps, budget, period and hint
        current = subject.current
        budget, period = current.max_allowed_runtime_sec, current.eval_period_time_sec
        hint = current.step_hint
        steps = max(1, round(hint / factor))
        runtime = steps * step_time
    else:
        budget = round(factor * runtime, 1)
        period = eval_period_for(probe["eval_time_sec"], budget)
        hint = int(factor * steps)
    if budget / period < PROCEDURE.min_evals_per_budget:
        say(f"warning: {subject.name}: one eval takes {probe['eval_time_sec']:.2f}s, so the "
            f"eval period is {period:g}s and a {budget:g}s budget has fewer than "
            f"{PROCEDURE.min_evals_per_budget} evals; make the eval cheaper (fewer eval "
            f"examples, a larger eval batch) or use a longer --runtime.")
    return Plan(
        workload=subject.name, framework=subject.framework, base=subject.base,
        algorithms=list(opts.algorithms or default_algorithms(subject, known)),
        trials=opts.trials,
        seeds=opts.seeds, seed=opts.seed, budget_factor=factor, runtime_sec=runtime,
        steps=steps, step_time_sec=step_time, eval_time_sec=probe["eval_time_sec"],
        eval_period_sec=period, budget_sec=budget, step_hint=hint, probe=probe,
    )


def load_or_make_plan(subject: Subject, opts: TargetOptions, folder: Path,
                      say: Callable[[str], None],
                      known: dict[str, dict[str, Any]] | None = None) -> Plan:
    path = folder / PLAN_FILE
    if folder.exists() and any(folder.iterdir()):
        if opts.overwrite:
            # never delete a folder paceline did not make: it holds the plan or the probe
            if not (path.is_file() or is_trial_dir(folder / "probe")):
                raise PacelineError(f"{folder} holds neither {PLAN_FILE} nor a probe run, so "
                                    "it is not paceline's target-setting folder and "
                                    "--overwrite does not delete it; move it away.")
            shutil.rmtree(folder)
        elif not opts.resume:
            raise PacelineError(f"{folder} already holds target-setting runs; pass --resume to "
                                f"continue them or --overwrite to start again.")
    if opts.resume and path.is_file():
        from sdk.input_files import read_json_object

        try:
            plan = Plan(**read_json_object(path, "target-setting plan"))
        except TypeError as exc:
            raise PacelineError(f"{path} is not a paceline target-setting plan ({exc}); "
                                "pass --overwrite to start again.") from None
        asked = {"trials": opts.trials, "seeds": opts.seeds, "seed": opts.seed,
                 "budget_factor": opts.budget_factor}
        if opts.algorithms:
            asked["algorithms"] = list(opts.algorithms)
        differing = [k for k, v in asked.items() if getattr(plan, k) != v]
        if differing:
            raise PacelineError(f"{path} was planned with different {', '.join(differing)}; "
                                f"rerun with the same options or pass --overwrite.")
        say(f"{subject.name}: resuming the plan in {path} ({plan.steps} steps per run).")
        return plan
    folder.mkdir(parents=True, exist_ok=True)
    plan = make_plan(subject, opts, folder, say, known)
    atomic_write_json(path, asdict(plan))
    return plan


# ---- the procedure ---------------------------------------------------------------------------------
def derive_numbers(subject: Subject, plan: Plan,
                   reruns: list[TrialRecord]) -> tuple[WorkloadNumbers, dict[str, Any]]:
    """The v0.5 dev numbers from the reruns of the best point, and how they were derived."""
    metric, minimized = subject.current.target_metric_name, subject.current.metric_minimized
    values = [r.best_validation for r in reruns
              if r.best_validation is not None and math.isfinite(r.best_validation)]
    if not values:
        raise PacelineError(f"No rerun of the best configuration on {subject.name} produced a "
                            f"finite validation {metric}; see the logs under "
                            f"{Path(reruns[0].trial_dir).parent}.")
    median = statistics.median(values)
    reaching = [r for r in reruns if reaches(r.best_validation, median, minimized)]
    tests = [r.test_at_best for r in reaching if r.test_at_best is not None]
    no_test = subject.current.test_target_value is None  # the rules set none (finewebedu_lm)
    if not tests and not no_test:
        raise PacelineError(f"The reruns on {subject.name} logged no test/{metric}; the "
                            f"workload must evaluate its test split.")
    worst_test = None if no_test else max(tests) if minimized else min(tests)
    numbers = WorkloadNumbers(
        target_metric_name=metric,
        validation_target_value=round_easier(median, minimized),
        test_target_value=None if no_test else round_easier(worst_test, minimized),
        max_allowed_runtime_sec=plan.budget_sec,
        eval_period_time_sec=plan.eval_period_sec,
        step_hint=plan.step_hint,
        metric_minimized=minimized,
    )
    how = {"rerun_best_validation": [r.best_validation for r in reruns],
           "rerun_test_at_best": [r.test_at_best for r in reruns],
           "reached_validation_target": [reaches(r.best_validation, median, minimized)
                                         for r in reruns],
           "median_best_validation": median, "worst_test_of_reaching_runs": worst_test}
    return numbers, how


def versions_of(name: str, v05: WorkloadNumbers, framework: str) -> dict[str, WorkloadNumbers]:
    """``v05`` under every rules version, with the budgets of ``framework`` (the step share
    of later rules is per framework: workloads/common/numbers.py)."""
    from workloads.common.numbers import dev_numbers_by_version

    try:
        return dev_numbers_by_version(name, v05, framework)
    except KeyError:  # not an AlgoPerf workload: no official ratios, numbers unchanged
        return dict.fromkeys(VERSIONS, v05)


def _framework_version(framework: str) -> str:
    module = "torch" if framework == "pytorch" else "jax"
    mod = sys.modules.get(module)
    return getattr(mod, "__version__", "unknown") if mod else "not imported"


def set_targets(name: str, opts: TargetOptions, say: Callable[[str], None] | None = None,
                known: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run the whole procedure for one dev workload; return its provenance record.

    Trial logs go to ``<opts.root>/<name>_<framework>/`` (``probe/``, ``<algorithm>/trial_<n>/``,
    ``reruns/trial_<k>/``) with the plan and the record beside them. ``known`` holds the
    records of workloads calibrated earlier in the same invocation (a variant's base).
    """
    say = say or (lambda msg: print(msg, file=sys.stderr))
    check_options(opts)
    subject = subject_for(name, opts.framework, known)
    folder = Path(opts.root) / f"{name}_{opts.framework}"
    plan = load_or_make_plan(subject, opts, folder, say, known)
    runs = len(plan.algorithms) * plan.trials + plan.seeds
    say(f"{name}: {runs} runs of {plan.steps} steps (~{plan.runtime_sec:.0f}s each at "
        f"{1000 * plan.step_time_sec:.1f} ms/step, at least {runs * plan.runtime_sec / 60:.0f} "
        f"min in all) with {', '.join(plan.algorithms)}; eval every {plan.eval_period_sec:g}s;"
        f" logs in {folder}")
    metric, minimized = subject.current.target_metric_name, subject.current.metric_minimized
    started = time.time()

    def report(r: TrialRecord, of: int) -> None:
        best = f"{r.best_validation:.6g}" if r.best_validation is not None else "-"
        test = f"{r.test_at_best:.6g}" if r.test_at_best is not None else "-"
        say(f"  {r.kind} {r.algorithm} {r.trial}/{of}: {r.status}, {r.global_step} steps, "
            f"best {metric} {best} (test {test})")

    runs_of_search = []
    for algorithm in plan.algorithms:
        space = search_space(algorithm, opts.search_spaces)
        points = generate_search(space, plan.trials,
                                 seed=prng.derive_seed(plan.seed, "targets", name, algorithm))
        runs_of_search += [
            ("search", algorithm, i, dict(point._asdict()),
             prng.derive_seed(plan.seed, name, algorithm, i), folder / algorithm / f"trial_{i}")
            for i, point in enumerate(points, start=1)]
    search = run_many(subject, plan, runs_of_search, opts, lambda r: report(r, plan.trials))
    best = pick_best(search, minimized)
    say(f"{name}: best is {best.algorithm} trial {best.trial} ({metric} "
        f"{best.best_validation:.6g}); rerunning it with {plan.seeds} seeds")
    reruns = run_many(subject, plan, [
        ("rerun", best.algorithm, k, best.hyperparameters,
         prng.derive_seed(plan.seed, name, "rerun", k), folder / "reruns" / f"trial_{k}")
        for k in range(1, plan.seeds + 1)], opts, lambda r: report(r, plan.seeds))
    v05, how = derive_numbers(subject, plan, reruns)
    by_version = versions_of(name, v05, subject.framework)
    record = {
        "workload": name, "base": subject.base, "framework": subject.framework,
        "scale": "dev", "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": opts.command or canonical_command(plan, opts),
        "wall_time_sec": round(time.time() - started, 1),
        "machine": {**system_metadata(),
                    f"{subject.framework}.version": _framework_version(subject.framework),
                    "threads": opts.run_threads, "clock": opts.clock},
        "procedure": {"algorithms": plan.algorithms, "trials": plan.trials,
                      "seeds": plan.seeds, "seed": plan.seed,
                      "budget_factor": plan.budget_factor, "runtime_sec": plan.runtime_sec,
                      "steps": plan.steps, "eval_period_rule": asdict(PROCEDURE)},
        "speed": {"framework": subject.framework, "submission": "nadamw",
                  "step_time_sec": plan.step_time_sec, "eval_time_sec": plan.eval_time_sec},
        "numbers": {v: asdict(n) for v, n in by_version.items()},
        "best": {"algorithm": best.algorithm, "trial": best.trial,
                 "hyperparameters": best.hyperparameters,
                 "best_validation": best.best_validation},
        "derivation": how,
        "algorithm_ranking": algorithm_ranking(search, minimized),
        "trials": [asdict(r) for r in search + reruns],
    }
    atomic_write_json(folder / RESULT_FILE, record)
    return record


def format_factor(value: float) -> str:
    """``4/3`` rather than ``1.3333333333333333`` where a small fraction is exact."""
    fraction = Fraction(value).limit_denominator(12)
    return str(fraction) if abs(float(fraction) - value) < 1e-12 else repr(value)


def parse_factor(text: str) -> float:
    """A budget factor from ``1.5`` or ``4/3``."""
    try:
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise PacelineError(f"--budget-factor {text!r} is not a number or fraction.") from None


def canonical_command(plan: Plan, opts: TargetOptions) -> str:
    """The command that reruns this calibration with every choice spelled out."""
    parts = ["paceline", "targets", plan.workload, "--scale", "dev",
             "--framework", plan.framework]
    if opts.keep_speed:  # the published point, the calibrated steps
        return " ".join([*parts, "--official-configuration", "--seeds", str(plan.seeds),
                         "--seed", str(plan.seed), "--clock", opts.clock])
    parts += ["--steps", str(plan.steps)] if opts.steps is not None else \
        ["--runtime", f"{plan.runtime_sec:g}"]
    parts += ["--trials", str(plan.trials), "--seeds", str(plan.seeds),
              "--algorithms", ",".join(plan.algorithms),
              "--budget-factor", format_factor(plan.budget_factor), "--seed", str(plan.seed)]
    for algorithm, path in sorted(opts.search_spaces.items()):
        parts += ["--search-space", f"{algorithm}={path}"]
    if opts.threads:
        parts += ["--threads", str(opts.threads)]
    parts += ["--clock", opts.clock]
    return " ".join(parts)


def numbers_from_record(record: dict[str, Any], version: str = "0.5") -> WorkloadNumbers:
    return WorkloadNumbers(**record["numbers"][version])
