"""`paceline run --scale official` on finewebedu_lm (the 2026 rules' language model), in PyTorch
and JAX: the full official model trains three NAdamW steps on test-written Arrow shards laid
out as AlgoPerf's data setup leaves them, evaluates and logs as AlgoPerf does.

    nice -n 19 .venv/bin/python -m pytest -q -m slow tests/test_finewebedu_lm_official_run.py
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.rulesets import get_ruleset, resolve_version
from tests.test_workload_finewebedu_lm import official_tokens, write_shards

# AlgoPerf algoperf/workloads/finewebedu_lm/workload.py: loss and perplexity, no test split.
ALGOPERF_COLUMNS = {"global_step", "accumulated_submission_time", "train/loss", "train/ppl",
                    "validation/loss", "validation/ppl", "validation/num_examples",
                    "total_duration"}


@pytest.fixture()
def one_window_batches(monkeypatch):
    """The NAdamW baseline with one 1,024-token window a step instead of 64 (a step of the
    official model over 64 windows would take a CPU minutes), and evals in batches of two
    windows: the reader pads a split's last batch to the eval batch, and 256 windows of
    50,257 logits need 26 GB in bfloat16 (over 100 GB in JAX on a CPU)."""
    from baselines.common import baseline
    from workloads.finewebedu_lm import workload

    monkeypatch.setitem(baseline.BATCH_SIZES, "finewebedu_lm", 1)
    monkeypatch.setitem(workload.BATCH, "official_eval", 2)


def write_official_dir(root: Path) -> Path:
    """train: two shards, 4,200 tokens; val: one shard, 2,050 tokens (two windows)."""
    write_shards(root / "train", [official_tokens(0, [1500, 700]), official_tokens(5000, [2000])])
    write_shards(root / "val", [official_tokens(100, [1200, 850])], listed=False)
    return root


@pytest.mark.slow
@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_paceline_run_official_trains_evaluates_and_logs(framework, one_window_batches,
                                                        tmp_path):
    data_dir = write_official_dir(tmp_path / "finewebedu")
    assert main(["run", "--scale", "official", "--workload", "finewebedu_lm", "--framework",
                 framework, "--ruleset-version", "latest", "--submission", "nadamw",
                 "--data-dir", str(data_dir), "--seed", "1", "--max-global-steps", "3",
                 "--experiment-dir", str(tmp_path / "exp"), "--no-progress",
                 "--no-tensorboard", "--no-checkpoints"]) == 0
    [trial] = (tmp_path / "exp").glob(f"official/*/*/study_0/finewebedu_lm_{framework}/trial_1")
    with open(trial / "eval_measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert ALGOPERF_COLUMNS <= set(rows[-1]) and rows[-1]["global_step"] == "3"
    assert rows[-1]["validation/num_examples"] == "100000"  # upstream's constant, logged as such
    for split in ("train", "validation"):
        loss = float(rows[-1][f"{split}/loss"])
        assert 0.0 < loss < 20.0 and float(rows[-1][f"{split}/ppl"]) == pytest.approx(
            math.exp(loss), rel=1e-4)
    meta = json.loads((trial / "meta_data_0.json").read_text())
    assert meta["paceline.scale"] == "official"
    rules = get_ruleset(resolve_version("latest"))
    assert meta["workload.validation_target_value"] == pytest.approx(
        rules.workloads["finewebedu_lm"].validation_target_value)
