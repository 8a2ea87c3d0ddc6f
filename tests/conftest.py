"""Shared test fixtures: an isolated data cache and the reference-log location."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# Tests never touch the user's dev-clock cache, and run trials one after another unless a
# test asks for --jobs (tests/test_dev_clock.py and tests/test_parallel.py do).
os.environ.setdefault("PACELINE_CACHE_DIR", tempfile.mkdtemp(prefix="paceline-test-cache-"))
os.environ.setdefault("PACELINE_JOBS", "1")
REFERENCE_LOGS = Path(
    os.environ.get("PACELINE_REFERENCE_LOGS", REPO.parent / "shared" / "algoperf_reference_logs")
)


@pytest.fixture
def reference_logs() -> Path:
    """``../shared/algoperf_reference_logs``; tests using it skip when it is absent."""
    if not REFERENCE_LOGS.is_dir():
        pytest.skip(f"AlgoPerf reference logs not found at {REFERENCE_LOGS} "
                    "(set PACELINE_REFERENCE_LOGS to point at them)")
    return REFERENCE_LOGS


@pytest.fixture
def torch_only_workload(monkeypatch: pytest.MonkeyPatch) -> str:
    """A PyTorch-only twin of mnist, registered for one test (every real family has JAX too)."""
    import dataclasses

    from sdk import registry

    mnist = registry.workloads().entry("mnist")
    twin = dataclasses.replace(
        mnist, name="mnist_torch_only",
        classes={scale: {"pytorch": by_fw["pytorch"]} for scale, by_fw in mnist.classes.items()})
    monkeypatch.setitem(registry._WORKLOADS.entries, twin.name, twin)
    return twin.name


@pytest.fixture(scope="module")
def torch_one_thread():
    """PyTorch held to one thread for a module (``pytestmark = pytest.mark.usefixtures(
    "torch_one_thread")``): tiny tensors run fastest so and spare a busy machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def speech_tiny_dir(tmp_path_factory) -> str:
    """A tiny LibriSpeech dev data set (``SPEECH_TINY``) built once per session with the real
    recipe code (a few seconds of espeak-ng), shared by the speech test modules."""
    import json

    from tests.fakes import SPEECH_TINY
    from workloads.common.speech import data

    folder = tmp_path_factory.getbasetemp() / "speech_tiny"
    if not (folder / "DONE").is_file():
        folder.mkdir(exist_ok=True)
        info = data.build_dev(folder, data.Recipe(**SPEECH_TINY))
        (folder / "info.json").write_text(json.dumps(info))
        (folder / "DONE").write_text("ok\n")
    return str(folder)
