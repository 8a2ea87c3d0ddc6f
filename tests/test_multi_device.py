"""Several devices (issue #19 item 3): two gloo processes under torchrun, and two XLA host
devices, train mnist to the same losses as one process.

    nice -n 19 .venv/bin/python -m pytest -q tests/test_multi_device.py
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sdk import distributed
from sdk.errors import PacelineError

ROOT = Path(__file__).resolve().parents[1]
STEPS = 8
# NAdamW with a learning rate high enough that a few steps move the loss well past the
# tolerance, so a wrong batch split or a missing reduction shows
NADAMW_POINT = [{"dropout_rate": 0.0, "label_smoothing": 0.0, "learning_rate": 0.02,
                 "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.0,
                 "warmup_factor": 0.0001}]
TOLERANCE = 1e-4


def _ddp_env(monkeypatch: pytest.MonkeyPatch, rank: int, world: int) -> None:
    monkeypatch.setenv("LOCAL_RANK", str(rank))
    monkeypatch.setenv("RANK", str(rank))
    monkeypatch.setenv("WORLD_SIZE", str(world))


def test_outside_ddp_one_rank_gets_the_whole_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOCAL_RANK", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(name, raising=False)
    batch = {"inputs": np.arange(6)}
    assert distributed.rank_rows(batch) is batch
    assert (distributed.rank(), distributed.world_size(), distributed.is_rank0()) == (0, 1, True)
    assert distributed.sum_over_ranks({"loss": 2.5}) == {"loss": 2.5}


def test_ranks_share_a_batch_in_contiguous_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    batch = {"inputs": np.arange(10).reshape(5, 2), "targets": np.arange(5)}
    shares = []
    for r in range(2):
        _ddp_env(monkeypatch, r, 2)
        shares.append(distributed.rank_rows(batch))
    assert shares[0]["targets"].tolist() == [0, 1] and shares[1]["targets"].tolist() == [2, 3, 4]
    assert np.array_equal(np.concatenate([s["inputs"] for s in shares]), batch["inputs"])
    graph = {"nodes": np.zeros((7, 3)), "edges": np.zeros((12, 2)), "targets": np.zeros(4)}
    assert distributed.rank_rows(graph) is graph  # not split: each rank runs it whole


def test_pytorch_setup_reports_ddp_as_algoperf(monkeypatch: pytest.MonkeyPatch) -> None:
    from sdk.frameworks.pytorch_utils import pytorch_setup

    _ddp_env(monkeypatch, 1, 2)
    use_ddp, rank, device, _ = pytorch_setup()
    assert use_ddp and rank == 1 and device.type in ("cpu", "cuda")


def test_uneven_batch_and_jax_under_torchrun_are_one_sentence(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _ddp_env(monkeypatch, 0, 3)
    distributed.check_batch_split(48)
    with pytest.raises(PacelineError, match="does not split evenly over 3 DDP processes"):
        distributed.check_batch_split(32)
    with pytest.raises(PacelineError, match="torchrun launches PyTorch runs only"):
        distributed.check_framework("jax")
    distributed.check_framework("pytorch")


def _eval_losses(experiment: Path) -> dict[int, tuple[float, float]]:
    """``{step: (train/loss, validation/loss)}`` of the one trial under ``experiment``."""
    (path,) = experiment.rglob("eval_measurements.csv")
    with path.open() as f:
        return {int(r["global_step"]): (float(r["train/loss"]), float(r["validation/loss"]))
                for r in csv.DictReader(f)}


def _run_args(tmp: Path, framework: str, submission: str, *extra: str) -> list[str]:
    return ["run", "--workload", "mnist", "--framework", framework, "--submission", submission,
            "--max-global-steps", str(STEPS), "--seed", "0", "--no-tensorboard",
            "--no-checkpoints", "--experiment-dir", str(tmp), *extra]


def _check(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _assert_same_losses(one: Path, several: Path) -> None:
    single, multi = _eval_losses(one), _eval_losses(several)
    assert sorted(single) == sorted(multi) == [1, STEPS]
    for step in single:
        assert np.allclose(single[step], multi[step], atol=TOLERANCE, rtol=0), (step, single,
                                                                                 multi)
    moved = abs(single[STEPS][0] - single[1][0])
    assert moved > 100 * TOLERANCE  # training moved the loss far beyond the tolerance


# An AlgoPerf-style submission that calls pytorch_setup() (SGD: NAdamW's first steps are
# sign-like where a gradient is near 0, so float noise in the split sums shows in its losses)
SGD_SUBMISSION = str(ROOT / "tests" / "submissions" / "algoperf_pytorch" / "submission.py")


@pytest.mark.slow
def test_two_gloo_processes_train_like_one(tmp_path: Path) -> None:
    """torchrun with two CPU processes (gloo): same eval losses as one process; rank 0
    alone writes the trial's logs."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("LOCAL_RANK", "RANK", "WORLD_SIZE")}
    args = _run_args(tmp_path, "pytorch", SGD_SUBMISSION, "--json")
    single = [sys.executable, "-m", "sdk.cli.main", *args, str(tmp_path / "one.json"),
              "--experiment-name", "one"]
    ddp = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nnodes=1",
           "--nproc_per_node=2", "-m", "sdk.cli.main", *args, str(tmp_path / "two.json"),
           "--experiment-name", "two"]
    for cmd in (single, ddp):
        _check(subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=120))
    _assert_same_losses(tmp_path / "one", tmp_path / "two")
    summary = json.loads((tmp_path / "two.json").read_text())
    assert [t["global_step"] for t in summary["trials"]] == [STEPS]
    (trial,) = (tmp_path / "two").rglob("trial_1")
    assert (trial / "meta_data_0.json").is_file() and (trial / "hparams.json").is_file()
    assert not (trial / "paceline_crash.log").exists()


def _jax_run(tmp: Path, devices: int, submission: str, *extra: str) -> Path:
    """A JAX mnist run in a fresh process that sees ``devices`` XLA host devices."""
    name = f"devices_{devices}"
    code = ("import sys; from sdk.cli.main import main; rc = main(sys.argv[1:]); import jax; "
            f"assert jax.local_device_count() == {devices}, jax.devices(); sys.exit(rc)")
    env = {**os.environ,
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}",
           "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-c", code,
           *_run_args(tmp, "jax", submission, "--experiment-name", name, *extra)]
    _check(subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120))
    return tmp / name


@pytest.mark.slow
@pytest.mark.parametrize("submission", [
    "nadamw",  # v0.6, jit: a batch sharded along its first axis over the devices
    str(ROOT / "tests" / "submissions" / "v05_jax" / "submission.py"),  # v0.5, pmap
], ids=["jit_sharding", "pmap"])
def test_two_xla_host_devices_train_like_one(tmp_path: Path, submission: str) -> None:
    extra: tuple[str, ...] = ()
    if submission == "nadamw":
        space = tmp_path / "space.json"
        space.write_text(json.dumps(NADAMW_POINT))
        extra = ("--tuning-search-space", str(space))
    one = _jax_run(tmp_path, 1, submission, *extra)
    two = _jax_run(tmp_path, 2, submission, *extra)
    _assert_same_losses(one, two)
