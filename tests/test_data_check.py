"""`paceline data check --scale official`: each family's hook on tiny test-written directories
in AlgoPerf's layout, the generic command's rows and its exit status.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_data_check.py
"""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import numpy as np
import pytest

from sdk.cli import data_check
from sdk.cli.main import main
from sdk.registry import workloads
from tests.test_workload_librispeech_official import PIECES, spm_model
from workloads.common.speech import official
from workloads.mnist import data as mnist_data

SPEECH = ("librispeech_conformer", "librispeech_deepspeech")


def _write_idx(path: Path, shape: tuple[int, ...], compress: bool) -> None:
    """An unsigned-byte idx file of zeros with ``shape`` (gzip keeps the full size small)."""
    header = bytes([0, 0, 8, len(shape)]) + b"".join(n.to_bytes(4, "big") for n in shape)
    raw = header + bytes(int(np.prod(shape)))
    if compress:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(raw, compresslevel=1))
    else:
        path.write_bytes(raw)


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    for key, stem in mnist_data.IDX_FILES.items():
        _write_idx(tmp_path / stem, mnist_data.OFFICIAL_SHAPES[key], key.startswith("train"))
    return tmp_path


@pytest.fixture
def speech_dir(tmp_path: Path) -> Path:
    for names in official.SPLITS.values():
        for name in names:
            (tmp_path / name).mkdir()
            uid = f"{name}-0000"
            with open(tmp_path / f"{name}.csv", "w", newline="") as f:
                csv.writer(f).writerows([["", "id", "length"], [0, uid, 800]])
            np.save(tmp_path / name / f"{uid}_audio.npy", np.zeros(800, np.int64))
            np.save(tmp_path / name / f"{uid}_targets.npy", np.array([3, 4, 2], np.int32))
    (tmp_path / official.VOCAB_FILE).write_bytes(spm_model(PIECES))
    return tmp_path


# ---- the MNIST hook ----------------------------------------------------------------------------
def test_full_mnist_idx_files_are_usable(mnist_dir: Path) -> None:
    assert mnist_data.check_official(mnist_dir) == []


def test_mnist_names_each_missing_or_wrong_file(mnist_dir: Path) -> None:
    (mnist_dir / "t10k-labels-idx1-ubyte").unlink()
    _write_idx(mnist_dir / "t10k-images-idx3-ubyte", (100, 28, 28), False)  # a subset
    (mnist_dir / "train-labels-idx1-ubyte.gz").write_bytes(b"not gzip")
    problems = mnist_data.check_official(mnist_dir)
    assert len(problems) == 3
    assert any("cannot be read" in p and "train-labels" in p for p in problems)
    assert any("(100, 28, 28)" in p and "(10000, 28, 28)" in p for p in problems)
    assert any("t10k-labels-idx1-ubyte[.gz] is missing" in p for p in problems)


def test_a_truncated_mnist_file_is_named(mnist_dir: Path) -> None:
    path = mnist_dir / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-1])
    assert mnist_data.check_official(mnist_dir) == [f"{path} is truncated or has trailing bytes."]


# ---- the LibriSpeech hook -----------------------------------------------------------------------
def test_preprocessed_librispeech_is_usable(speech_dir: Path) -> None:
    assert official.check_official(speech_dir) == []


def test_librispeech_names_what_is_missing(speech_dir: Path) -> None:
    (speech_dir / "dev-other.csv").unlink()
    (speech_dir / "test-clean" / "test-clean-0000_targets.npy").unlink()
    (speech_dir / official.VOCAB_FILE).write_bytes(b"\xff\xff")
    np.save(speech_dir / "train-clean-100" / "train-clean-100-0000_audio.npy", np.zeros((2, 3)))
    problems = official.check_official(speech_dir)
    assert len(problems) == 4
    assert any("dev-other.csv is missing" in p for p in problems)
    assert any("lacks the .npy files of 1 of the 1 utterances" in p for p in problems)
    assert any("has shape (2, 3)" in p for p in problems)
    assert any("is not a SentencePiece model" in p for p in problems)


# ---- the command ---------------------------------------------------------------------------------
def test_both_speech_families_use_the_speech_hook() -> None:
    for family in ("mnist", *SPEECH):
        assert workloads().entry(family).official_data_check


def test_usable_data_exits_0(speech_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["data", "check", "--scale", "official", "--data-dir", str(speech_dir)]
    assert main([*args, "--workload", "librispeech_conformer",
                 "--workload", "librispeech_deepspeech_tanh"]) == 0
    out = capsys.readouterr().out
    assert "librispeech_conformer   usable" in out and "librispeech_deepspeech  usable" in out


def test_missing_data_exits_1_with_one_line_per_problem(
        mnist_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (mnist_dir / "t10k-labels-idx1-ubyte").unlink()
    assert main(["data", "check", "--data-dir", str(mnist_dir), "--workload", "mnist",
                 "--workload", "librispeech_conformer"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1:3] == ["mnist                  missing",
                        f"                         - t10k-labels-idx1-ubyte[.gz] is missing "
                        f"from {mnist_dir}."]
    assert out[3].split() == ["librispeech_conformer", "missing"]


def test_every_family_is_listed_and_one_without_a_hook_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dataclasses import replace

    import sdk.registry

    entry = replace(workloads().entry("mnist"), official_data_check=None)
    monkeypatch.setitem(sdk.registry._WORKLOADS.entries, "mnist", entry)
    checks = {f: data_check.check_family(f, tmp_path) for f in data_check.families(None)}
    assert set(checks) == set(workloads().names(variants=False))
    assert checks["mnist"].state == data_check.NO_READER
    assert checks["librispeech_conformer"].state == data_check.MISSING


def test_a_hook_that_raises_is_reported_not_raised(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data_dir: Path) -> list[str]:
        raise ValueError("bad header\nmore")

    monkeypatch.setattr(mnist_data, "check_official", broken)
    check = data_check.check_family("mnist", tmp_path)
    assert check.state == data_check.FAILED
    assert check.problems == ("workloads.mnist.data:check_official raised ValueError: "
                              "bad header",)


@pytest.mark.parametrize("args, sentence", [
    (["--data-dir", "/no/such/folder"], "does not exist"),
    (["--data-dir", "{file}"], "is a file, not a folder"),
    (["--data-dir", "{tmp}", "--workload", "mnistt"], "Unknown workload 'mnistt'"),
    (["--data-dir", "{tmp}", "--scale", "dev"], "invalid choice: 'dev'"),
])
def test_bad_input_is_one_sentence_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str],
        sentence: str) -> None:
    (tmp_path / "f.txt").write_text("x")
    args = [a.format(file=tmp_path / "f.txt", tmp=tmp_path) for a in args]
    assert main(["data", "check", *args]) == 2
    err = capsys.readouterr().err
    assert sentence in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
