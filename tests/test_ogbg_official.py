"""The official ogbg workloads in PyTorch: AlgoPerf's exact models (parameter counts), the TFDS
ogbg_molpcba 0.1.3 reader on tiny files written here in that format, the data check, and a
three-step `paceline run --scale official` that trains, evaluates and logs as AlgoPerf does.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_ogbg_official.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from baselines.common import baseline
from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from workloads.common import tfrecord
from workloads.ogbg import official_data

# AlgoPerf's parameter counts (its tests/test_num_params.py agrees for both frameworks).
OFFICIAL_PARAMS = {"ogbg": 3_554_176, "ogbg_gelu": 3_554_176, "ogbg_silu": 3_554_176,
                   "ogbg_model_size": 2_571_648}
# Molecules per shard. Positives are rare (2%, as most ogbg-molpcba labels are 0), so 60
# validation molecules keep an untrained model's mAP near 0.1, well below the 0.28 target,
# and a three-step run does not stop at the target after its first evaluation.
SPLIT_SIZES = {"train": (7, 5), "validation": (30, 30), "test": (5,)}
POSITIVE_RATE = 0.02


def molecule(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """One random molecule with ogbg_molpcba's features, as TFDS stores it."""
    n_node = int(rng.integers(2, 12))
    n_edge = int(rng.integers(1, 2 * n_node))
    labels = (rng.random(128) < POSITIVE_RATE).astype(np.float32)
    labels[rng.random(128) < 0.3] = np.nan
    return {
        "edge_feat": rng.integers(0, 4, (n_edge, 3)).astype(np.float32),
        "edge_index": rng.integers(0, n_node, (n_edge, 2)).astype(np.int64),
        "labels": labels,
        "node_feat": rng.integers(0, 10, (n_node, 9)).astype(np.float32),
        "num_edges": np.array([n_edge], np.int64),
        "num_nodes": np.array([n_node], np.int64),
    }


def _features_json() -> dict:
    """features.json as TFDS 4 writes it for ogbg_molpcba (a FeaturesDict of Tensors)."""
    shapes = {"edge_feat": ([-1, 3], "float32"), "edge_index": ([-1, 2], "int64"),
              "labels": ([128], "float32"), "node_feat": ([-1, 9], "float32"),
              "num_edges": ([-1], "int64"), "num_nodes": ([-1], "int64")}
    tensor = "tensorflow_datasets.core.features.tensor_feature.Tensor"
    return {"pythonClassName": "tensorflow_datasets.core.features.features_dict.FeaturesDict",
            "featuresDict": {"features": {
                name: {"pythonClassName": tensor,
                       "tensor": {"shape": {"dimensions": [str(d) for d in shape]},
                                  "dtype": dtype, "encoding": "none"}}
                for name, (shape, dtype) in shapes.items()}}}


def write_molpcba(root: Path, seed: int = 0) -> dict[str, list[dict]]:
    """``<root>/ogbg/ogbg_molpcba/0.1.3/`` as tfds download_and_prepare leaves it; returns the
    molecules written per split."""
    folder = root / "ogbg" / "ogbg_molpcba" / "0.1.3"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written, splits = {}, []
    for split, shard_sizes in SPLIT_SIZES.items():
        written[split] = []
        for i, size in enumerate(shard_sizes):
            graphs = [molecule(rng) for _ in range(size)]
            written[split] += graphs
            name = f"ogbg_molpcba-{split}.tfrecord-{i:05d}-of-{len(shard_sizes):05d}"
            tfrecord.write_records(folder / name, (tfrecord.encode_example(g) for g in graphs))
        splits.append({"name": split, "numBytes": "1", "shardLengths": [str(n) for n in
                                                                       shard_sizes]})
    info = {"name": "ogbg_molpcba", "version": "0.1.3", "fileFormat": "tfrecord",
            "splits": splits}
    (folder / "dataset_info.json").write_text(json.dumps(info))
    (folder / "features.json").write_text(json.dumps(_features_json()))
    return written


@pytest.fixture(scope="module")
def molpcba(tmp_path_factory) -> tuple[Path, dict[str, list[dict]]]:
    root = tmp_path_factory.mktemp("data")
    return root, write_molpcba(root)


@pytest.mark.parametrize("name", sorted(OFFICIAL_PARAMS))
def test_official_models_have_algoperfs_parameter_counts(name):
    import torch

    w = workloads().create(name, "official", "pytorch")
    with torch.device("meta"):
        model = w._build_model()
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]
    assert w.model_config.dropout_rate == 0.1 and w.model_config.norm_eps == 1e-6
    assert w.eval_batch_size == 32_768
    assert (w.num_train_examples, w.num_validation_examples) == (350_343, 43_793)
    official = get_ruleset("0.5").workloads[name]
    assert w.validation_target_value == official.validation_target_value
    assert w.is_output_params("decoder.weight") and not w.is_output_params("node_embedder.bias")


def test_variants_change_what_the_rules_say():
    configs = {n: workloads().create(n, "official", "pytorch").model_config
               for n in OFFICIAL_PARAMS}
    assert configs["ogbg_gelu"].activation == "gelu" and configs["ogbg_silu"].activation == "silu"
    size = configs["ogbg_model_size"]
    assert (size.latent_dim, size.hidden_dims, size.num_message_passing_steps) == (128,
                                                                                  (256, 256), 3)


def test_reader_makes_edges_bidirectional_in_shard_order(molpcba):
    root, written = molpcba
    for data_dir in (root, root / "ogbg", root / "ogbg" / "ogbg_molpcba" / "0.1.3"):
        arrays = official_data.load_split(data_dir, "train")
        assert len(arrays["n_node"]) == 12
    graphs = written["train"]
    np.testing.assert_array_equal(arrays["n_node"], [g["num_nodes"][0] for g in graphs])
    np.testing.assert_array_equal(arrays["n_edge"], [2 * g["num_edges"][0] for g in graphs])
    np.testing.assert_array_equal(arrays["labels"], np.stack([g["labels"] for g in graphs]))
    first, n = graphs[0], int(graphs[0]["num_edges"][0])
    np.testing.assert_array_equal(arrays["senders"][:2 * n], np.r_[first["edge_index"][:, 0],
                                                                  first["edge_index"][:, 1]])
    np.testing.assert_array_equal(arrays["receivers"][:2 * n], np.r_[first["edge_index"][:, 1],
                                                                    first["edge_index"][:, 0]])
    np.testing.assert_array_equal(arrays["edge_features"][:2 * n],
                                  np.r_[first["edge_feat"], first["edge_feat"]])
    np.testing.assert_array_equal(arrays["node_features"][: first["num_nodes"][0]],
                                  first["node_feat"])


def test_official_batches_use_algoperfs_budgets(molpcba):
    root, _ = molpcba
    w = workloads().create("ogbg", "official", "pytorch")
    batch = next(w._numpy_train_batches(np.array([0, 1], np.uint32), str(root / "ogbg"), 4))
    graph = batch["inputs"]
    assert graph.nodes.shape == (26 * 4 + 1, 9) and graph.edges.shape == (56 * 4, 3)
    assert graph.n_node.shape == (5,) and batch["targets"].shape == (5, 128)
    assert batch["weights"][-1].sum() == 0  # the padding graph
    assert not np.isnan(batch["targets"]).any()


def test_data_check_is_empty_for_usable_data_and_names_what_is_missing(molpcba, tmp_path):
    root, _ = molpcba
    assert official_data.check(root) == []
    assert official_data.check(root / "ogbg") == []
    [missing_dir] = official_data.check(tmp_path / "nothing")
    assert "ogbg_molpcba/0.1.3/dataset_info.json" in missing_dir
    copy = tmp_path / "copy"
    write_molpcba(copy)
    folder = copy / "ogbg" / "ogbg_molpcba" / "0.1.3"
    (folder / "ogbg_molpcba-train.tfrecord-00001-of-00002").unlink()
    (folder / "features.json").unlink()
    problems = official_data.check(copy)
    assert len(problems) == 2
    assert "features.json is missing" in problems[0] and "missing 1 of 2 shards" in problems[1]
    for name in OFFICIAL_PARAMS:
        entry = workloads().entry(name)
        assert entry.official_data_check == "workloads.ogbg.official_data:check"


def test_records_of_another_dataset_are_refused(tmp_path):
    folder = tmp_path / "ogbg_molpcba" / "0.1.3"
    folder.mkdir(parents=True)
    (folder / "dataset_info.json").write_text(json.dumps({"splits": []}))
    tfrecord.write_records(folder / "ogbg_molpcba-train.tfrecord-00000-of-00001",
                           [tfrecord.encode_example({"image": [1, 2]})])
    with pytest.raises(PacelineError, match="without node_feat"):
        official_data.load_split(tmp_path, "train")
    with pytest.raises(PacelineError, match="--data-dir"):
        official_data.version_dir(None)


SEARCH_SPACE = [{"dropout_rate": 0.1, "label_smoothing": 0.0, "learning_rate": 1e-3,
                 "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.0,
                 "warmup_factor": 0.05}]


def official_run(tmp_path: Path, data_dir: Path, name: str, framework: str) -> Path:
    """`paceline run --scale official` for three steps of AlgoPerf's NAdamW baseline with 4
    graphs a step; returns the trial folder."""
    (tmp_path / "space.json").write_text(json.dumps(SEARCH_SPACE))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(baseline.BATCH_SIZES, "ogbg", 4)
        code = main(["run", "--scale", "official", "--workload", name, "--framework", framework,
                     "--submission", "nadamw", "--tuning-search-space",
                     str(tmp_path / "space.json"), "--data-dir", str(data_dir), "--seed", "3",
                     "--max-global-steps", "3", "--experiment-dir", str(tmp_path / "exp"),
                     "--no-progress", "--threads", "1", "--no-checkpoints"])
    assert code == 0
    [trial] = (tmp_path / "exp").glob(f"official/*/*/study_0/{name}_{framework}/trial_1")
    return trial


def check_algoperf_logs(trial: Path, name: str) -> None:
    with open(trial / "eval_measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[-1]["global_step"] == "3"
    for split in ("train", "validation", "test"):
        for metric in ("mean_average_precision", "accuracy", "loss"):
            assert np.isfinite(float(rows[-1][f"{split}/{metric}"])), (split, metric)
    assert rows[-1]["validation/num_examples"] == "43793"
    meta = json.loads((trial / "meta_data_0.json").read_text())
    assert meta["paceline.scale"] == "official"
    assert meta["workload.target_metric_name"] == "mean_average_precision"
    target = get_ruleset("0.5").workloads[name].validation_target_value
    assert meta["workload.validation_target_value"] == pytest.approx(target)
    assert json.loads((trial / "hparams.json").read_text())["learning_rate"] == 1e-3
    assert (trial / "measurements.csv").is_file() and (trial / "flags_0.json").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["ogbg", "ogbg_model_size"])
def test_paceline_run_official_trains_evaluates_and_logs(molpcba, tmp_path, name):
    root, _ = molpcba
    trial = official_run(tmp_path, root / "ogbg", name, "pytorch")
    check_algoperf_logs(trial, name)
