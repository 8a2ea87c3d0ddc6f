"""benchmarks/bench_official_step_time.py on the CPU: two steps of small official workloads at a
hundredth of the baseline's batch, its table and JSON, the synthetic batches' official shapes,
and the one-sentence refusals. The AlgoPerf side needs a checkout with its requirements and
is not run here.

    nice -n 19 .venv/bin/python -m pytest -q tests/test_official_step_time_bench.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_official_step_time as bench  # noqa: E402

from sdk.param_count import count_row  # noqa: E402
from sdk.registry import workloads  # noqa: E402


@pytest.mark.slow  # two worker processes importing torch, about 20 s on a quiet CPU
def test_two_steps_on_the_cpu_fill_the_paceline_columns(tmp_path, capsys):
    out = tmp_path / "figures.json"
    assert bench.main(["--workloads", "mnist", "ogbg", "--steps", "2", "--batch-scale", "0.01",
                       "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "ogbg" in table and "CPU" in table and "failed" not in table
    rows = {r["workload"]: r for r in json.loads(out.read_text())["rows"]}
    assert rows["ogbg"]["batch_size"] == 5 and rows["mnist"]["batch_size"] == 1
    for name, row in rows.items():
        figures = row["paceline"]
        assert figures["parameters"] == count_row(name, "official", "pytorch").parameters
        assert figures["step_ms"] > 0 and figures["peak_mib"] > 0
        assert "algoperf" not in row


@pytest.mark.parametrize("name", bench.default_workloads())
def test_synthetic_batches_have_the_official_shapes(name):
    batch = bench.synthetic_batch(name, 2)
    leaves = [np.asarray(v) for v in _leaves(batch["inputs"]) if v is not None]
    assert all(leaf.shape[0] >= 2 for leaf in leaves)
    if name == "librispeech_conformer":
        assert batch["inputs"][0].shape == (2, 320_000) and batch["targets"][0].shape == (2, 256)
    if name == "wmt":
        assert batch["inputs"].shape == (2, 256) and batch["weights"].sum() == 512
    if name == "ogbg":  # the official budgets: 26 nodes and 56 edges a graph, plus padding
        assert batch["inputs"].nodes.shape == (2 * 26 + 1, 9) and batch["targets"].shape == (3,
                                                                                            128)


def _leaves(value):
    return list(value) if isinstance(value, tuple) else [value]


def test_every_default_workload_is_an_official_pytorch_base_workload():
    names = bench.default_workloads()
    assert {"criteo1tb", "wmt", "librispeech_deepspeech"} <= set(names)
    assert all("pytorch" in workloads().entry(n).frameworks("official") for n in names)
    assert all(workloads().entry(n).base is None for n in names)


@pytest.mark.parametrize("argv, words", [
    (["--workloads", "cifar"], "No synthetic official batch"),
    (["--workloads", "ogbg", "--steps", "1"], "--steps must be at least 2"),
    (["--workloads", "ogbg", "--batch-scale", "0"], "--batch-scale"),
    (["--workloads", "ogbg", "--algoperf", "/nonexistent"], "not a checkout"),
])
def test_bad_arguments_are_one_sentence(argv, words, capsys):
    assert bench.main(argv) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err and err.count("\n") == 1
