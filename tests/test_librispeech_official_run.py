"""`paceline run --scale official` on both LibriSpeech families, in PyTorch and JAX: the full
official models (Conformer, DeepSpeech) train three NAdamW steps on test-written files in
AlgoPerf's preprocessed layout, evaluate every split and log as AlgoPerf does.

    nice -n 19 .venv/bin/python -m pytest -q -m slow tests/test_librispeech_official_run.py
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.rulesets import get_ruleset
from tests.test_workload_librispeech_official import librispeech_dir  # noqa: F401 (fixture)

# Every column AlgoPerf's logger writes for a LibriSpeech trial (AlgoPerf
# algoperf/workloads/librispeech_conformer/workload.py: loss and WER per split).
ALGOPERF_COLUMNS = {"global_step", "accumulated_submission_time", "train/wer", "train/ctc_loss",
                    "validation/wer", "validation/ctc_loss", "validation/num_examples",
                    "test/wer", "test/ctc_loss", "test/num_examples", "total_duration"}


@pytest.fixture()
def two_row_batches(monkeypatch):
    """The NAdamW baseline with two 20-second utterances a step instead of 256 (one official
    step of 256 would take a CPU minutes)."""
    from baselines.common import baseline

    for family in ("librispeech_conformer", "librispeech_deepspeech"):
        monkeypatch.setitem(baseline.BATCH_SIZES, family, 2)


def official_run(tmp_path: Path, data_dir: Path, name: str, framework: str) -> Path:
    """Three steps of `paceline run --scale official`; returns the trial folder."""
    code = main(["run", "--scale", "official", "--workload", name, "--framework", framework,
                 "--submission", "nadamw", "--data-dir", str(data_dir), "--seed", "1",
                 "--max-global-steps", "3", "--experiment-dir", str(tmp_path / "exp"),
                 "--no-progress", "--no-tensorboard", "--no-checkpoints"])
    assert code == 0
    [trial] = (tmp_path / "exp").glob(f"official/*/*/study_0/{name}_{framework}/trial_1")
    return trial


def check_algoperf_logs(trial: Path, name: str) -> None:
    with open(trial / "eval_measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert ALGOPERF_COLUMNS <= set(rows[-1]) and rows[-1]["global_step"] == "3"
    for split in ("train", "validation", "test"):
        assert math.isfinite(float(rows[-1][f"{split}/ctc_loss"])), split
        assert float(rows[-1][f"{split}/wer"]) >= 0.0, split
    meta = json.loads((trial / "meta_data_0.json").read_text())
    assert meta["paceline.scale"] == "official"
    assert meta["workload.validation_target_value"] == pytest.approx(
        get_ruleset("0.5").workloads[name].validation_target_value)
    assert (trial / "measurements.csv").is_file() and (trial / "hparams.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["librispeech_conformer", "librispeech_deepspeech"])
@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_paceline_run_official_trains_evaluates_and_logs(name, framework, two_row_batches,
                                                        librispeech_dir, tmp_path):  # noqa: F811
    check_algoperf_logs(official_run(tmp_path, librispeech_dir, name, framework), name)
