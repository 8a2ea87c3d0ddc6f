"""Fuzzing every file paceline reads, and its numeric flags, with hypothesis.

Whatever the bytes, a reader accepts the input or raises :class:`PacelineError`, which the CLI
prints as one line on stderr with exit status 2: never a traceback, never a silently wrong
score. The documented treatments that are neither: ``paceline freeze`` skips a trial whose
``hparams.json`` is broken with a note, ``paceline tune`` reruns a trial whose ``hparams.json``
is broken, and a NaN (empty) time is allowed on an eval that does not reach the target.

    .venv/bin/python -m pytest tests/test_fuzz_inputs.py -q   # 15 s on 2 cores (load 2.5)
    PACELINE_FUZZ_EXAMPLES=2000 .venv/bin/python -m pytest tests/test_fuzz_inputs.py -q

Inputs are random bytes, random JSON, and random edits (truncation, inserted or replaced
bytes, NUL padding) of a valid file of each kind.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.input_files import read_json
from sdk.runner import TrialResult, hyperparameters_from_file, read_status
from sdk.scoring import load_submission_times, scoring_rules
from sdk.search_space import SearchSpace, generate_search
from sdk.trial_logs import STATUS_FILE
from tests.test_scoring_support import curve_rows, write_trial

# $PACELINE_FUZZ_EXAMPLES=1000 fuzzes harder (minutes); the default keeps the file well under
# two minutes on a 2-core machine.
EXAMPLES = int(os.environ.get("PACELINE_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
FEW = settings(FUZZ, max_examples=max(1, EXAMPLES // 3))

V06 = scoring_rules("0.6", base_workloads=("ogbg",))
OGBG = V06.targets["ogbg"]  # mean_average_precision, maximised
METRIC = f"validation/{OGBG.metric}"

# ---- strategies ----------------------------------------------------------------------------

SCALARS = (st.none() | st.booleans() | st.integers(-10**20, 10**20)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=10))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                    | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=16)


def _edit(data: bytes, draw: st.DrawFn) -> bytes:
    """One random edit of a valid file: truncate, insert, replace, or pad with NULs."""
    kind = draw(st.sampled_from(["truncate", "insert", "replace", "nul", "none"]))
    at = draw(st.integers(0, len(data)))
    if kind == "truncate":
        return data[:at]
    if kind == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "replace" and at < len(data):
        return data[:at] + draw(st.binary(min_size=1, max_size=1)) + data[at + 1:]
    if kind == "nul":
        return data + b"\0" * draw(st.integers(1, 64))
    return data


def contents(valid: list[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, random JSON, or a random edit of one of the ``valid`` files."""
    @st.composite
    def edited(draw: st.DrawFn) -> bytes:
        return _edit(draw(st.sampled_from(valid)), draw)

    return st.one_of(st.binary(max_size=300),
                     JSON.map(lambda v: json.dumps(v).encode()),
                     edited())


def cli(*argv: str) -> tuple[int, str, str]:
    """``paceline ARGV`` in this process: exit status, stdout, stderr (no exception escapes)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def assert_clean(rc: int, err: str, command: str) -> None:
    """Success, or exit 2 with exactly one line on stderr that names the command."""
    assert "Traceback" not in err
    if rc != 0:
        assert rc == 2, err
        assert err.count("\n") == 1 and err.endswith("\n"), err
        assert err.startswith(f"paceline {command}: "), err


# ---- search spaces -------------------------------------------------------------------------

SPACES = [json.dumps(s).encode() for s in (
    {"learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
     "warmup": {"feasible_points": [0.05, 0.1]}},
    [{"learning_rate": 0.001, "one_minus_beta1": 0.1}, {"learning_rate": 0.01,
                                                        "one_minus_beta1": 0.05}],
)]


@FUZZ
@given(data=contents(SPACES))
def test_search_space_files_load_or_refuse_in_one_sentence(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "space.json"
    path.write_bytes(data)
    try:
        space = SearchSpace.load(path)
    except PacelineError as exc:
        assert "\n" not in str(exc)
        return
    for point in generate_search(space, 3, seed=0):  # an accepted space can be searched
        assert all(name.isidentifier() for name in point._fields)
        json.dumps(point._asdict())


@FEW
@given(data=contents(SPACES))
def test_search_spaces_through_the_cli(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "space.json"
    path.write_bytes(data)
    rc, _, err = cli("check", "nadamw", "--tuning-search-space", str(path))
    assert "Traceback" not in err and rc in (0, 2), err  # check lists every problem, a line each
    assert all(line.startswith("paceline check: ") for line in err.splitlines()), err


# ---- targets files -------------------------------------------------------------------------

TARGETS = [json.dumps(t).encode() for t in (
    {"workloads": {"ogbg": {"validation_target_value": 0.3, "budget_sec": 100}}},
    {"workloads": {"toy": {"validation_target_value": 0.5, "target_metric_name": "accuracy",
                           "budget_sec": 50}}, "base_workloads": ["ogbg", "toy"]},
)]


@FUZZ
@given(data=contents(TARGETS))
def test_targets_files_are_sane_or_refused(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "targets.json"
    path.write_bytes(data)
    try:
        rules = scoring_rules("0.6", targets_file=path)
    except PacelineError as exc:
        assert "\n" not in str(exc)
        return
    for target in rules.targets.values():  # no infinite budget, no target never reached
        assert math.isfinite(target.value)
        assert target.budget_sec is None or (math.isfinite(target.budget_sec)
                                             and target.budget_sec > 0)
    for names in (rules.base_workloads, rules.held_out_workloads):
        assert len(set(names)) == len(names)  # a workload listed twice would halve scores


# ---- eval_measurements.csv -----------------------------------------------------------------

@st.composite
def curves(draw: st.DrawFn) -> tuple[list[float], list[float]]:
    """Strictly increasing times within the budget and metric values around the target."""
    gaps = draw(st.lists(st.floats(0.5, 500.0), min_size=1, max_size=8))
    times = [round(sum(gaps[: i + 1]), 3) for i in range(len(gaps))]
    values = draw(st.lists(st.sampled_from([0.1, 0.2, 0.3, 0.4]), min_size=len(times),
                           max_size=len(times)))
    return times, values


def _expected(times: list[float], values: list[float]) -> float:
    """Time-to-target computed here, independently of the reader."""
    return next((t for t, v in zip(times, values, strict=True)
                 if v >= OGBG.value and t <= OGBG.budget_sec), math.inf)


def _score_csv(root: Path) -> float:
    return load_submission_times(root, V06).workloads["ogbg"].studies[0].trials[0].time_sec


@FUZZ
@given(curve=curves(), cut=st.integers(0, 10**6))
def test_a_truncated_csv_is_refused_or_scores_its_complete_lines(tmp_path: Path, curve: Any,
                                                                 cut: int) -> None:
    times, values = curve
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1,
                        curve_rows(times, values, OGBG.metric))
    path = trial / "eval_measurements.csv"
    data = path.read_bytes()
    cut = cut % (len(data) + 1)
    path.write_bytes(data[:cut])
    kept = data[:cut].count(b"\n") - 1  # complete data lines left
    try:
        time = _score_csv(tmp_path / "algo")
    except PacelineError:
        assert not data[:cut].endswith(b"\n")  # only a line cut off mid-way is refused
        return
    except KeyError:  # an empty file: the trial counts as missing, said in a note
        assert cut == 0
        return
    assert data[:cut].endswith(b"\n")  # only a file cut at a line end is read...
    assert time == _expected(times[:kept], values[:kept])  # ...and scores those lines


@FUZZ
@given(curve=curves(), data=st.data())
def test_nul_bytes_negative_or_unordered_times_are_refused(tmp_path: Path, curve: Any,
                                                          data: st.DataObject) -> None:
    times, values = curve
    kind = data.draw(st.sampled_from(["nul", "negative", "swap", "inf"]))
    if kind == "negative":
        i = data.draw(st.integers(0, len(times) - 1))
        times = [*times[:i], -times[i], *times[i + 1:]]
    elif kind == "swap":
        assume(len(times) > 1)
        i = data.draw(st.integers(0, len(times) - 2))
        times = [*times[:i], times[i + 1], times[i], *times[i + 2:]]
    elif kind == "inf":
        times = [*times[:-1], math.inf]
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1,
                        curve_rows(times, values, OGBG.metric))
    path = trial / "eval_measurements.csv"
    if kind == "nul":
        raw = path.read_bytes()
        at = data.draw(st.integers(0, len(raw)))
        path.write_bytes(raw[:at] + b"\0" * data.draw(st.integers(1, 32)) + raw[at:])
    with pytest.raises(PacelineError, match="eval_measurements.csv"):
        _score_csv(tmp_path / "algo")


@FUZZ
@given(data=st.data())
def test_any_csv_content_scores_or_is_one_sentence(tmp_path: Path, data: st.DataObject) -> None:
    times, values = data.draw(curves())
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1,
                        curve_rows(times, values, OGBG.metric))
    path = trial / "eval_measurements.csv"
    path.write_bytes(data.draw(contents([path.read_bytes()])))
    rc, _, err = cli("score", str(tmp_path / "algo"), "--ruleset-version", "0.6")
    assert_clean(rc, err, "score")


@FUZZ
@given(data=st.data())
def test_eval_records_and_their_csvs_score_or_are_one_sentence(tmp_path: Path,
                                                               data: st.DataObject) -> None:
    """A paceline trial: ``paceline_eval_record.json`` beside the CSV, either one damaged."""
    from sdk.trial_logs import EVAL_RECORD_FILE, eval_row_digest

    times, values = data.draw(curves())
    rows = curve_rows(times, values, OGBG.metric)
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1, rows)
    digests = [eval_row_digest({k: str(v) for k, v in r.items()}) for r in rows]
    record = json.dumps({"file": "eval_measurements.csv", "row_sha256": digests}).encode()
    damaged = data.draw(st.sampled_from([EVAL_RECORD_FILE, "eval_measurements.csv"]))
    valid = record if damaged == EVAL_RECORD_FILE else (trial / damaged).read_bytes()
    (trial / EVAL_RECORD_FILE).write_bytes(record)
    (trial / damaged).write_bytes(data.draw(contents([valid])))
    rc, _, err = cli("score", str(tmp_path / "algo"), "--ruleset-version", "0.6")
    assert_clean(rc, err, "score")


# ---- meta_data, hparams.json, status files -------------------------------------------------

META = [json.dumps({"rng_seed": 3, "paceline.scale": "dev", "workload.target_metric_name":
                    "mean_average_precision", "workload.validation_target_value": 0.3,
                    "paceline.budget_sec": 100.0}).encode()]


@FUZZ
@given(data=contents(META))
def test_meta_data_files_score_or_are_one_sentence(tmp_path: Path, data: bytes) -> None:
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1,
                        curve_rows([10.0, 20.0], [0.1, 0.4], OGBG.metric))
    (trial / "meta_data_0.json").write_bytes(data)
    rc, _, err = cli("score", str(tmp_path / "algo"), "--ruleset-version", "0.6")
    assert_clean(rc, err, "score")


HPARAMS = [json.dumps({"learning_rate": 0.001, "one_minus_beta1": 0.1, "warmup_factor": 0.05}
                      ).encode()]


@FUZZ
@given(data=contents(HPARAMS))
def test_hparams_files_reload_or_are_one_sentence(tmp_path: Path, data: bytes) -> None:
    (tmp_path / "hparams.json").write_bytes(data)
    try:
        hp = hyperparameters_from_file(tmp_path)
    except PacelineError as exc:
        assert "\n" not in str(exc)
        return
    assert hp is not None and all(name.isidentifier() for name in hp._fields)


@pytest.mark.parametrize("name", ["\u00aa", "\ufb01le", "\u2160"])  # ª, ﬁle, Ⅰ
def test_hparams_names_python_rewrites_are_one_sentence(tmp_path: Path, name: str) -> None:
    """Found by the fuzz test above: Python normalises identifiers (NFKC), so a field named
    'ª' becomes 'a' and the namedtuple refused its own keyword with a TypeError."""
    (tmp_path / "hparams.json").write_text(json.dumps({name: 0.1}))
    with pytest.raises(PacelineError, match="is read by Python as"):
        hyperparameters_from_file(tmp_path)


def _result() -> dict[str, Any]:
    return {"workload": "mnist", "framework": "pytorch", "scale": "dev", "ruleset": "external",
            "ruleset_version": "0.5", "api_version": "0.6", "study": 0, "trial": 1,
            "budget_sec": 20.0, "target_metric": "accuracy", "validation_target": 0.9,
            "test_target": 0.9, "reached_validation_target": True,
            "reached_test_target": False, "time_to_target_sec": 3.5,
            "test_time_to_target_sec": None, "best_validation_metric": 0.95, "global_step": 90,
            "submission_time_sec": 3.5, "eval_time_sec": 1.0, "logging_time_sec": 0.1,
            "total_duration_sec": 5.0, "num_evals": 3, "status": "targets_reached"}


STATUS = [json.dumps({"status": "targets_reached", "finished": True, "result": _result()}
                     ).encode(),
          json.dumps({"status": "running", "finished": False}).encode()]


@FUZZ
@given(data=contents(STATUS))
def test_status_files_read_or_are_one_sentence(tmp_path: Path, data: bytes) -> None:
    (tmp_path / STATUS_FILE).write_bytes(data)
    try:
        status = read_status(tmp_path)
    except PacelineError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(status, dict)
    if status.get("result") is not None:  # what --resume makes of a finished trial
        TrialResult(**status["result"])


# ---- tuning ledgers ------------------------------------------------------------------------

TUNE = ("tune", "--workload", "mnist", "--submission", "nadamw", "--studies", "1",
        "--trials", "2", "--dry-run")


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """A valid ``paceline_tune.json``: what a dry run would save, and where it goes."""
    from external_tuning import cli as tune_cli
    from external_tuning.study import STATE_FILE

    def save(study: Any, json_out: str | None) -> int:
        study.root.mkdir(parents=True, exist_ok=True)
        study.save()
        return 0

    root = tmp_path_factory.mktemp("tune")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(tune_cli, "_dry_run", save)
        rc, _, err = cli(*TUNE, "--experiment-dir", str(root))
    assert rc == 0, err
    path = next(root.rglob(STATE_FILE))
    return path, path.read_bytes()


@FEW
@given(data=st.data())
def test_ledgers_resume_or_are_one_sentence(ledger: tuple[Path, bytes],
                                            data: st.DataObject) -> None:
    path, valid = ledger
    path.write_bytes(data.draw(contents([valid])))
    root = path.parents[3]  # <experiment-dir>/dev/external_tuning/nadamw/paceline_tune.json
    rc, _, err = cli(*TUNE, "--experiment-dir", str(root))
    assert_clean(rc, err, "tune")


# ---- checkpoints ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Any, bytes]]:
    """A valid checkpoint of each framework, written by its adapter, and the adapter."""
    import numpy as np
    import torch

    from sdk.frameworks.adapters import JaxAdapter, PyTorchAdapter

    root = tmp_path_factory.mktemp("ckpt")
    extra = {"train_state": {"accumulated_submission_time": 1.0}, "global_step": 3,
             "eval_results": [], "preemption_count": 0, "eval_rows": [], "all_rows": [],
             "batches_consumed": 3, "total_duration": 2.0}
    out = {}
    torch_adapter = PyTorchAdapter()
    torch_adapter.save(root / "checkpoint.pt", torch.nn.Linear(2, 2), None, {}, extra)
    out["pytorch"] = (torch_adapter, (root / "checkpoint.pt").read_bytes())
    jax_adapter = JaxAdapter()
    params = {"w": np.ones((2, 2), np.float32)}
    jax_adapter.save(root / "checkpoint.msgpack", params, {}, None, extra)
    out["jax"] = (jax_adapter, (root / "checkpoint.msgpack").read_bytes())
    return out


@FUZZ
@given(data=st.data())
def test_checkpoints_load_or_are_one_sentence(tmp_path: Path, data: st.DataObject,
                                              checkpoints: dict[str, tuple[Any, bytes]]
                                              ) -> None:
    framework = data.draw(st.sampled_from(sorted(checkpoints)))
    adapter, valid = checkpoints[framework]
    path = tmp_path / "checkpoint.bin"
    path.write_bytes(data.draw(st.one_of(st.binary(max_size=300), st.builds(
        lambda b, cut: b[:cut], st.just(valid), st.integers(0, len(valid))),
        contents([valid]))))
    try:
        payload = adapter.load(path)
    except PacelineError as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(payload, dict) and isinstance(payload["global_step"], int)


# ---- numeric flags -------------------------------------------------------------------------

# (command line, flag, accepts): every command line fails on purpose after its flags are
# read (a submission or workload that does not exist), so no example trains anything.
MISSING = "/no/such/submission.py"
FLAGS = [
    (("run", "--submission", MISSING), "--trials", "count"),
    (("run", "--submission", MISSING), "--studies", "count"),
    (("run", "--submission", MISSING), "--threads", "count"),
    (("run", "--submission", MISSING), "--max-global-steps", "count"),
    (("run", "--submission", MISSING), "--speed-factor", "factor"),
    (("tune", "--submission", MISSING), "--workers", "count"),
    (("tune", "--submission", MISSING), "--trials", "count"),
    (("heldout", "--submission", MISSING), "--draws", "count"),
    (("targets", "nonesuch"), "--seeds", "count"),
    (("targets", "nonesuch"), "--runtime", "factor"),
    (("tune", "--submission", MISSING), "--speed-factor", "factor"),
    (("freeze", "/no/such/study", "--out", "/tmp/x.json"), "--points", "count"),
]
NUMBERS = st.one_of(st.integers(-10**12, 10**12).map(str),
                    st.floats(allow_nan=True, allow_infinity=True).map(str),
                    st.sampled_from(["", "0", "-1", "1", "inf", "-inf", "nan", "1e400", "0x10",
                                     "1_000", " 2", "３", "100000000"]),
                    st.text(max_size=6))


def _acceptable(kind: str, text: str) -> bool:
    try:
        value = int(text) if kind == "count" else float(text)
    except ValueError:
        return False
    if kind == "count":
        return value >= 1
    return math.isfinite(value) and value > 0


@FUZZ
@given(case=st.sampled_from(FLAGS), value=NUMBERS)
def test_numeric_flags_are_checked_before_any_work(case: Any, value: str) -> None:
    argv, flag, kind = case
    rc, _, err = cli(*argv, f"{flag}={value}")
    assert_clean(rc, err, argv[0])
    assert rc == 2  # the missing submission, workload or folder, if not the flag
    if not _acceptable(kind, value):
        assert flag in err
    elif flag in err:  # a valid number refused only for being absurdly large
        assert "at most" in err


def test_json_reader_names_the_file_for_every_kind_of_breakage(tmp_path: Path) -> None:
    cases = {b"\xff\xfe": "not UTF-8", b'{"a": ': "not valid JSON", b"[" * 5000: "nests",
             b"[" * 80 + b"]" * 80: "nests"}
    for raw, words in cases.items():
        path = tmp_path / "f.json"
        path.write_bytes(raw)
        with pytest.raises(PacelineError, match=words) as info:
            read_json(path, "search space")
        assert str(path) in str(info.value)
    with pytest.raises(PacelineError, match="Is a directory"):
        read_json(tmp_path, "search space")
