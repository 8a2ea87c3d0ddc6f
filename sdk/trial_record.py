"""A trial's record: its result, how it failed, and ``paceline_trial.json`` on disk.

The runner (:mod:`sdk.runner`) writes the record when a trial starts ("running") and when it
ends; a study's parent process and ``--resume`` read it back, and turn the record of a trial
whose process crashed or was killed into a finished miss (:func:`record_failure`).

    paceline run --workload mnist --submission nadamw --resume   # reads the records back
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sdk import distributed
from sdk.errors import PacelineError
from sdk.search_space import make_hyperparameters
from sdk.trial_logs import STATUS_FILE
from sdk.trial_status import CRASH_LOG, TrialStatus


@dataclass
class TrialResult:
    """What ``--json`` reports per trial."""

    workload: str
    framework: str
    scale: str
    ruleset: str
    ruleset_version: str
    api_version: str
    study: int
    trial: int
    budget_sec: float
    target_metric: str
    validation_target: float
    test_target: float | None  # None: the rules set no test target (finewebedu_lm)
    reached_validation_target: bool
    reached_test_target: bool
    time_to_target_sec: float | None
    test_time_to_target_sec: float | None
    best_validation_metric: float | None
    global_step: int
    submission_time_sec: float
    eval_time_sec: float
    logging_time_sec: float
    total_duration_sec: float
    num_evals: int
    status: str
    reason: str = ""
    trial_dir: str | None = None
    hyperparameters: dict[str, Any] | None = None
    rng_seed: int = 0
    clock: str = "wall"
    clock_scale: float = 1.0
    compile_sec: float = 0.0
    cpu_share: float | None = None
    step_vs_reference: float | None = None  # CPU per step / the dev-clock probe's (sdk.clock)
    measurement_trusted: bool = True
    measurement_note: str = ""
    # (score, validation/<target_metric>) per eval, as the runner held it (NaN: no value):
    # the curve of eval_measurements.csv without reading the file back. Not in the JSON
    # record, so a result read back from paceline_trial.json has none.
    eval_curve: tuple[tuple[float, float], ...] = field(default=(), repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        del data["eval_curve"]
        return data


class TrialFailed(PacelineError):
    """The trial failed on its own (the submission raised, exited or broke the API).

    The trial is recorded as a miss with ``status`` and this message as its reason;
    ``result`` is its :class:`TrialResult` (also in ``paceline_trial.json``) once recorded.
    """

    def __init__(self, message: str, status: str = TrialStatus.FAILED) -> None:
        super().__init__(message)
        self.status = status
        self.result: TrialResult | None = None


class TrialTimedOut(TrialFailed):
    """The watchdog stopped a trial that ran past its limit (see :mod:`sdk.trial_status`)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, TrialStatus.TIMED_OUT)


def write_status(trial_dir: Path | None, status: str, reason: str,
                  result: TrialResult | None) -> None:
    if trial_dir is None or not distributed.is_rank0():  # under DDP only rank 0 records
        return
    from sdk.trial_logs import atomic_write_json

    atomic_write_json(trial_dir / STATUS_FILE, {
        "status": status,
        "reason": reason,
        "finished": status != TrialStatus.RUNNING,
        "result": result.to_json() if result is not None else None,
        "updated": time.time(),
    })


def record_failure(trial_dir: Path, status: str, reason: str) -> TrialResult | None:
    """Record a trial that ended without finishing its own record as a miss with ``reason``.

    For a trial whose process crashed or was killed by the watchdog: its
    ``paceline_trial.json`` still says "running"; it is rewritten as finished with ``status``
    (and the result the runner wrote when the trial started, marked the same way). A trial
    that finished its own record meanwhile is left as it is. Returns the recorded result.
    """
    try:
        record = read_status(trial_dir) or {}
    except PacelineError:  # torn by the crash: rewritten below
        record = {}
    if record.get("finished"):
        try:
            return TrialResult(**record["result"]) if record.get("result") else None
        except TypeError:
            return None
    result = None
    if record.get("result"):
        try:
            result = TrialResult(**{**record["result"], "status": str(status),
                                    "reason": reason})
        except TypeError:  # a record from another paceline version
            result = None
    Path(trial_dir).mkdir(parents=True, exist_ok=True)
    write_status(Path(trial_dir), status, reason, result)
    return result


def crash_reason(trial_dir: Path) -> str | None:
    """How the trial's process died, from the log Python's faulthandler left (``None``: none).

    For example "Segmentation fault (at sub.py, line 12 in update_params); its Python stack
    is in <trial_dir>/paceline_crash.log".
    """
    path = Path(trial_dir) / CRASH_LOG
    try:
        text = path.read_text(errors="replace").strip()
    except OSError:
        return None
    if not text:
        return None
    lines = text.splitlines()
    what = lines[0].removeprefix("Fatal Python error: ").strip().rstrip(".")
    # the crashing thread's innermost frame (other threads are listed too)
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Current thread")), 0)
    frame = next((ln.strip() for ln in lines[start:] if ln.strip().startswith("File ")), "")
    where = ""
    if frame:  # innermost frame first: 'File "/x/sub.py", line 12 in update_params'
        name = frame.split('"')[1] if '"' in frame else ""
        rest = frame.rsplit('"', 1)[-1].strip(", ")
        where = f" (at {Path(name).name}, {rest})" if name else ""
    return f"{what}{where}; its Python stack is in {path}"


def read_status(trial_dir: Path) -> dict[str, Any] | None:
    """The ``paceline_trial.json`` record of a trial directory, if any.

    A status file that cannot be read or is not a JSON object is one sentence naming it.
    """
    from sdk.input_files import read_json_object

    path = Path(trial_dir) / STATUS_FILE
    if not path.is_file():
        return None
    status = read_json_object(path, "trial status file")
    if status.get("result") is not None:
        _check_result(status["result"], path)
    return status


def measurement_doubt(trial_dir: Path) -> str | None:
    """Why a finished trial's measurement flagged itself (``measurement_trusted: false`` in
    its ``paceline_trial.json``: too small a share of a core, a drifted step cost), else
    ``None``. The status file is the trial's final record (a preempted trial's earlier
    ``meta_data_<n>.json`` may say otherwise)."""
    result = (read_status(trial_dir) or {}).get("result") or {}
    if result.get("measurement_trusted") is not False:
        return None
    return result.get("measurement_note") or "flagged"


# The JSON types each annotation of a TrialResult field allows (bool is not a number here).
_RESULT_TYPES = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,),
                 "dict[str, Any]": (dict,)}


def _check_result(data: Any, path: Path) -> None:
    """Refuse, in one sentence, a recorded result that :class:`TrialResult` cannot hold."""
    import dataclasses

    if not isinstance(data, dict):
        raise PacelineError(f"Trial status file {path}: 'result' must be a JSON object.")
    fields = {f.name: f for f in dataclasses.fields(TrialResult)}
    unknown = sorted(set(data) - set(fields), key=str)
    missing = [name for name, f in fields.items() if name not in data
               and f.default is dataclasses.MISSING]
    if unknown or missing:
        what = f"unknown field {unknown[0]!r}" if unknown else f"no {missing[0]!r}"
        raise PacelineError(f"Trial status file {path}: the recorded result has {what}; move "
                            "the file away to run the trial again.")
    for name, value in data.items():
        kinds = str(fields[name].type).split(" | ")
        if value is None and "None" in kinds:
            continue
        allowed = tuple(t for k in kinds for t in _RESULT_TYPES.get(k, ()))
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise PacelineError(f"Trial status file {path}: the recorded {name!r} is not "
                                f"a {' or '.join(kinds)}; move the file away to run the trial "
                                "again.")


def hyperparameters_from_file(trial_dir: Path) -> Any:
    """Reload ``hparams.json`` as AlgoPerf does on resume (a broken file is one sentence)."""
    from sdk.input_files import check_identifiers, read_json_object

    path = Path(trial_dir) / "hparams.json"
    if not path.is_file():
        return None
    values = read_json_object(path, "hyperparameters file")
    check_identifiers(values, str(path))
    return make_hyperparameters(values)
