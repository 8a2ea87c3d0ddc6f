"""criteo1tb at official scale: AlgoPerf's parameter counts, the Criteo 1TB day-file reader
(FarmHash fingerprints, parsing, splits, streams), the data check and a CLI run.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_criteo1tb_official.py

The day files are written by the tests in the exact layout AlgoPerf's dataset_setup.py
leaves (``day_{d}_{NN}`` plain-text shards of tab-separated lines), a few lines each.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sdk.cli.main import main
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from workloads.criteo1tb import config, official_data
from workloads.criteo1tb.fingerprint import fingerprint64, fingerprint64_rows

NAMES = ("criteo1tb", "criteo1tb_layernorm", "criteo1tb_resnet", "criteo1tb_embed_init")
# AlgoPerf's trainable parameter counts (algoperf/workloads/criteo1tb/criteo1tb_{pytorch,jax}/
# models.py; the same in both frameworks).
ALGOPERF_PARAMS = {"criteo1tb": 539_267_457, "criteo1tb_layernorm": 539_275_137,
                   "criteo1tb_resnet": 538_121_473, "criteo1tb_embed_init": 539_267_457}
LINES_PER_FILE = 6


# ---- writing official-format data -------------------------------------------------------------
def criteo_line(rng: np.random.Generator) -> str:
    """A label, 13 counts (some missing, some -1) and 26 hex values (some missing)."""
    ints = [("" if rng.random() < 0.15 else str(int(rng.integers(-2, 5000))))
            for _ in range(13)]
    cats = [("" if rng.random() < 0.1 else f"{int(rng.integers(0, 2**32)):08x}")
            for _ in range(26)]
    return "\t".join([str(int(rng.random() < 0.3)), *ints, *cats])


def write_official(root: Path, seed: int = 0) -> Path:
    """Days 0-22 (day 0 cut into two shards) and day 23's 36 shards, LINES_PER_FILE each."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    names = [f"day_{d}_00" for d in range(23)] + ["day_0_01"]
    names += [f"day_23_{i:02d}" for i in range(36)]
    for name in names:
        lines = [criteo_line(rng) for _ in range(LINES_PER_FILE)]
        (root / name).write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def criteo_dir(tmp_path_factory) -> Path:
    return write_official(tmp_path_factory.mktemp("data") / "criteo1tb")


# ---- parameter counts ------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_pytorch_official_model_has_algoperfs_parameter_count(name):
    import torch

    w = workloads().create(name, "official", "pytorch")
    with torch.device("meta"):
        model, _ = w.init_model_fn(np.zeros(2, np.uint32))
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert sum(p.numel() for p in model.parameters()) == ALGOPERF_PARAMS[name]


@pytest.mark.parametrize("name", NAMES)
def test_jax_official_model_has_algoperfs_parameter_count(name):
    import jax

    w = workloads().create(name, "official", "jax")
    shapes = jax.eval_shape(lambda rng: w.init_model_fn(rng)[0], jax.random.PRNGKey(0))
    leaves = jax.tree_util.tree_leaves(shapes)
    assert sum(math.prod(leaf.shape) for leaf in leaves) == ALGOPERF_PARAMS[name]


def test_official_numbers_and_sizes_are_algoperfs():
    pt = workloads().create("criteo1tb", "official", "pytorch")
    jx = workloads().create("criteo1tb", "official", "jax")
    assert pt.validation_target_value == 0.123735 and pt.step_hint == 10_666
    assert (pt.eval_batch_size, jx.eval_batch_size) == (8192, 131_072)
    assert (pt.num_eval_train_examples, jx.num_eval_train_examples) == (83_279_872, 83_361_792)
    assert pt.num_validation_examples == 83_274_637 and pt.num_test_examples == 95_000_000
    assert pt.effective_batch_size(262_144) == 262_144
    lnorm = workloads().create("criteo1tb_layernorm", "official", "pytorch")
    assert lnorm.validation_target_value == 0.123757 and lnorm.model_config.use_layer_norm
    assert pt.model_config == config.OFFICIAL and pt.model_config.dropout_rate == 0.0


# ---- FarmHash Fingerprint64 --------------------------------------------------------------------
# Known answers: TensorFlow's frozen Fingerprint64 values for "Hello" and "World"; the others
# from FarmHash's C++ Fingerprint64 (pyfarmhash 0.5.1), one per length class.
KNOWN = {b"Hello": 15404698994557526151, b"World": 18308117990299812472,
         b"": 11160318154034397263, b"abc": 2640714258260161385,
         b"68fd1e640": 9066014191666271819, b"0000000025": 10220210890468929800,
         b"criteo1tb" * 2: 9899612179353997461, b"criteo1tb" * 4: 14487460920749616910,
         b"criteo1tb" * 12: 17026374101892959438}


def test_fingerprint64_known_answers():
    for text, value in KNOWN.items():
        assert fingerprint64(text) == value, text


def test_vectorised_fingerprints_equal_the_scalar_ones():
    rng = np.random.default_rng(1)
    texts = [bytes(rng.integers(32, 127, n).astype(np.uint8)) for n in rng.integers(0, 40, 300)]
    texts += list(KNOWN)
    width = max(len(t) for t in texts)
    chars = np.zeros((len(texts), width), np.uint8)
    for i, t in enumerate(texts):
        chars[i, : len(t)] = np.frombuffer(t, np.uint8)
    got = fingerprint64_rows(chars, np.array([len(t) for t in texts]))
    assert [int(v) for v in got] == [fingerprint64(t) for t in texts]


# ---- parsing ----------------------------------------------------------------------------------
def reference_parse(line: str) -> tuple[float, list[float]]:
    """One line the slow way: str.split, Python floats, the scalar fingerprint."""
    fields = line.split("\t")
    ints = [0.0 if f in ("", "-1") else float(f) for f in fields[1:14]]
    dense = [float(np.log(np.float32(max(v, 0.0)) + np.float32(1))) for v in ints]
    ids = []
    for c, value in enumerate(fields[14:]):
        text = ("00000000" if value in ("", "-1") else value) + str(c)
        ids.append(float(np.float32(fingerprint64(text.encode()) % official_data.VOCAB_SIZES[c])))
    return float(fields[0] or 0), dense + ids


def test_parse_lines_matches_a_line_by_line_reading():
    rng = np.random.default_rng(2)
    lines = [criteo_line(rng) for _ in range(50)]
    lines.append("\t".join(["0"] + ["-1"] * 13 + ["-1"] * 25 + ["ab" * 10]))  # long field
    batch = official_data.parse_lines(("\n".join(lines)).encode())
    assert batch["inputs"].shape == (51, 39) and batch["inputs"].dtype == np.float32
    for i, line in enumerate(lines):
        label, inputs = reference_parse(line)
        assert batch["targets"][i] == label
        np.testing.assert_allclose(batch["inputs"][i, :13], inputs[:13], rtol=1e-6)
        np.testing.assert_array_equal(batch["inputs"][i, 13:], np.float32(inputs[13:]))


def test_ids_above_2_to_the_24_round_through_float32_as_upstream():
    # Column 0 has 39,884,406 buckets; find values whose id is not a float32 integer.
    ids = [(v, fingerprint64(f"{v:08x}0".encode()) % official_data.VOCAB_SIZES[0])
           for v in range(200)]
    value, exact = next((v, i) for v, i in ids if i > 2**24 and i % 2)
    line = "\t".join(["1"] + ["1"] * 13 + [f"{value:08x}"] + ["0"] * 25)
    got = official_data.parse_lines(line.encode())["inputs"][0, 13]
    assert got == np.float32(exact) and int(got) != exact


def test_malformed_lines_are_one_sentence():
    from sdk.errors import PacelineError

    with pytest.raises(PacelineError, match="40 tab-separated fields"):
        official_data.parse_lines(b"1\t2\t3\n", "x")
    with pytest.raises(PacelineError, match="not an integer"):
        official_data.parse_lines(("\t".join(["1.5"] + ["1"] * 13 + ["a"] * 26)).encode(), "x")


# ---- splits and streams ------------------------------------------------------------------------
def test_splits_follow_algoperfs_day_23_cut(criteo_dir):
    root = official_data.folder(criteo_dir.parent)  # the criteo1tb/ subfolder is found
    assert root == criteo_dir
    test = official_data.split_files(root, "test")
    validation = official_data.split_files(root, "validation")
    assert [p.name for p in test] == [f"day_23_{i:02d}" for i in range(19)]
    assert [p.name for p in validation] == [f"day_23_{i:02d}" for i in range(19, 36)]
    train = official_data.train_files(root)
    assert len(train) == 24 and all(not p.name.startswith("day_23") for p in train)


def test_eval_batches_pad_the_last_batch_and_stop_at_num_examples(criteo_dir):
    files = official_data.split_files(criteo_dir, "validation")  # 17 files x 6 lines
    batches = list(official_data.eval_batches(files, 40, 10**9))
    assert [int(b["weights"].sum()) for b in batches] == [40, 40, 22]
    assert all(len(b["inputs"]) == 40 for b in batches)
    assert not batches[-1]["inputs"][22:].any()
    assert len(list(official_data.eval_batches(files, 40, 41))) == 2  # ceil(41 / 40)


def test_train_stream_is_seeded_drops_the_remainder_and_skips(criteo_dir):
    files = official_data.train_files(criteo_dir)  # 24 files x 6 lines = 144 per pass
    a = official_data.TrainStream(files, 50, seed=3)
    first = [next(a)["inputs"] for _ in range(4)]  # 2 per pass: 44 lines dropped
    b = official_data.TrainStream(files, 50, seed=3)
    b.skip(2)
    np.testing.assert_array_equal(next(b)["inputs"], first[2])
    assert not np.array_equal(first[0], first[2])  # a new file order each pass
    other = next(official_data.TrainStream(files, 50, seed=4))["inputs"]
    assert not np.array_equal(other, first[0])


# ---- the data check ----------------------------------------------------------------------------
def test_data_check_passes_complete_data_and_names_what_is_missing(tmp_path):
    root = write_official(tmp_path / "criteo1tb", seed=5)
    assert workloads().entry("criteo1tb").official_data_check == (
        "workloads.criteo1tb.official_data:check")
    assert official_data.check(tmp_path) == []
    (root / "day_23_20").unlink()
    (root / "day_5_00").rename(root / "day_5.csv")
    (root / "day_23_00").write_text("not\ta criteo line\n")
    problems = official_data.check(root)
    assert len(problems) == 3
    assert "Training day 5" in problems[0] and "split -a 2 -d -l 5000000" in problems[0]
    assert "validation split lacks day_23_20" in problems[1]
    assert "day_23_00 is not a Criteo 1TB day file" in problems[2]
    assert official_data.check(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'} is not a "
                                                         "directory."]


# ---- a run through the CLI ---------------------------------------------------------------------
@pytest.fixture
def small_table(monkeypatch):
    """The official model with AlgoPerf's criteo1tb_test table (65,536 rows, not 4,194,304:
    the full table and its optimizer state would take about 9 GB), a 64-example batch, and
    JAX evaluating in PyTorch's 8,192-row batches (131,072-row ones would cost a shared CPU
    minutes; test_official_numbers_and_sizes_are_algoperfs checks the real size)."""
    from baselines.common import baseline
    from workloads.criteo1tb import workload

    monkeypatch.setattr(config, "OFFICIAL", replace(config.OFFICIAL, vocab_size=65_536))
    monkeypatch.setitem(baseline.BATCH_SIZES, "criteo1tb", 64)
    monkeypatch.setitem(workload.BATCH, "official_eval_jax", 8192)


@pytest.mark.slow
@pytest.mark.parametrize("name, framework", [("criteo1tb", "pytorch"),
                                             ("criteo1tb_resnet", "pytorch"),
                                             ("criteo1tb", "jax"),
                                             ("criteo1tb_layernorm", "jax")])
def test_official_run_trains_evaluates_and_logs(name, framework, criteo_dir, small_table,
                                                tmp_path, capsys):
    assert main(["run", "--workload", name, "--framework", framework, "--scale", "official",
                 "--data-dir", str(criteo_dir), "--submission", "nadamw", "--seed", "1",
                 "--max-global-steps", "3", "--no-progress", "--no-tensorboard",
                 "--experiment-dir", str(tmp_path)]) == 0
    trial = (tmp_path / "official" / "external_tuning" / "nadamw" / "study_0" /
             f"{name}_{framework}" / "trial_1")
    rows = (trial / "eval_measurements.csv").read_text().splitlines()
    header = rows[0].split(",")
    assert {"validation/loss", "test/loss", "train/loss", "global_step"} <= set(header)
    last = dict(zip(header, rows[-1].split(","), strict=True))
    assert last["global_step"] == "3"
    for split in ("train", "validation", "test"):
        assert 0.2 < float(last[f"{split}/loss"]) < 5.0  # a mean BCE over the real rows
    meta = json.loads((trial / "meta_data_0.json").read_text())
    official = get_ruleset("0.5").workloads[name]
    assert meta["workload.validation_target_value"] == official.validation_target_value
