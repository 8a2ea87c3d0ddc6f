"""The official-scale ImageNet workloads in JAX: AlgoPerf's parameter counts (``jax.eval_shape``,
nothing allocated), the reader of the TFDS ``imagenet2012`` build AlgoPerf's data setup leaves
for JAX (tiny test-written shards), its crops, and a three-step ``paceline run --scale
official --framework jax`` per family.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_imagenet_official_jax.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from baselines.common import baseline
from sdk.cli.main import main
from sdk.registry import workloads
from tests.test_imagenet_official import PARAMS, jpeg
from workloads.common import tfrecord
from workloads.imagenet_resnet import official_data

SPLITS = {"train": (4, 3), "validation": (1, 5)}  # split -> (shards, records per shard)


def write_tfds_imagenet(root: Path, seed: int = 0) -> Path:
    """``root`` as AlgoPerf's ``imagenet/jax`` folder: the TFDS ``imagenet2012/5.1.0`` build
    (sharded TFRecords of JPEG + label, dataset_info.json) and ImageNet-v2's TFDS build."""
    rng = np.random.default_rng(seed)
    version_dir = root / official_data.IMAGENET2012_DIR
    version_dir.mkdir(parents=True)
    info = []
    for split, (shards, per_shard) in SPLITS.items():
        for s in range(shards):
            records = [tfrecord.encode_example(
                {"image": [jpeg(rng, int(rng.integers(40, 90)), int(rng.integers(40, 90)))],
                 "label": [(s * per_shard + i) % 3], "file_name": [b"n01440764_1.JPEG"]})
                for i in range(per_shard)]
            tfrecord.write_records(
                version_dir / f"imagenet2012-{split}.tfrecord-{s:05d}-of-{shards:05d}", records)
        info.append({"name": split, "shardLengths": [str(per_shard)] * shards})
    (version_dir / "dataset_info.json").write_text(json.dumps({"name": "imagenet2012",
                                                               "splits": info}))
    v2 = root / official_data.IMAGENET_V2_DIR
    v2.mkdir(parents=True)
    tfrecord.write_records(v2 / "imagenet_v2-test.tfrecord-00000-of-00001", [
        tfrecord.encode_example({"image": [jpeg(rng, 60, 50)], "label": [i % 3]})
        for i in range(3)])
    (v2 / "dataset_info.json").write_text(json.dumps(
        {"name": "imagenet_v2", "splits": [{"name": "test", "shardLengths": ["3"]}]}))
    return root


@pytest.fixture(scope="module")
def jax_dir(tmp_path_factory) -> Path:
    return write_tfds_imagenet(tmp_path_factory.mktemp("imagenet") / "jax")


@pytest.mark.parametrize("name", sorted(PARAMS))
def test_official_jax_models_have_algoperfs_parameter_counts(name):
    workload = workloads().create(name, "official", "jax")
    module = workload._build_model()
    kwargs = workload._call_kwargs(False, 0.0)
    shapes = jax.eval_shape(lambda x: module.init(
        {"params": jax.random.PRNGKey(0), "dropout": jax.random.PRNGKey(1)}, x, **kwargs),
        jax.ShapeDtypeStruct((1, 224, 224, 3), jnp.float32))
    assert sum(int(np.prod(p.shape)) for p in jax.tree_util.tree_leaves(shapes["params"])) \
        == PARAMS[name]


def test_check_reads_the_tfds_layout(jax_dir, tmp_path):
    assert official_data.check(jax_dir) == []
    (jax_dir / official_data.IMAGENET2012_DIR /
     "imagenet2012-train.tfrecord-00002-of-00004").rename(tmp_path / "moved")
    try:
        problems = official_data.check(jax_dir)
    finally:
        (tmp_path / "moved").rename(jax_dir / official_data.IMAGENET2012_DIR /
                                    "imagenet2012-train.tfrecord-00002-of-00004")
    assert len(problems) == 1 and "missing 1 of 4 shards" in problems[0]


def test_tfds_split_is_read_by_index(jax_dir):
    source = official_data.TfdsImages(jax_dir, "train")
    assert len(source) == 12
    assert [source.example(i)[1] for i in range(12)] == [i % 3 for i in range(12)]
    assert source.example(7)[0][:2] == b"\xff\xd8"  # a JPEG


def test_distorted_crop_box_stays_inside_and_can_fail():
    rng = np.random.default_rng(0)
    for _ in range(200):
        box = official_data.distorted_crop_box(300, 200, rng)
        if box is not None:
            left, top, w, h = box
            assert 0 <= left <= 300 - w and 0 <= top <= 200 - h and w * h >= 0.1 * 60_000 * 0.9
    assert official_data.distorted_crop_box(1000, 1, rng) is None


@pytest.mark.parametrize("name", ["imagenet_resnet", "imagenet_vit"])
def test_jax_batches_from_tfds(name, jax_dir):
    workload = workloads().create(name, "official", "jax")
    batch = next(workload._numpy_train_batches(np.array([5, 2]), str(jax_dir), 3))
    assert batch["inputs"].shape == (3, 224, 224, 3)
    assert batch["targets"].shape == ((3, 1000) if name == "imagenet_vit" else (3,))
    val = list(workload._eval_batches("validation", 50_000, 4, str(jax_dir)))
    assert [b["weights"].sum() for b in val] == [4, 1] and len(val[1]["targets"]) == 4
    small = list(workload._eval_batches("validation", 50_000, 2048, str(jax_dir)))
    assert [len(b["targets"]) for b in small] == [5]  # padded to the split, not to 2,048
    assert np.concatenate([b["targets"][:int(b["weights"].sum())] for b in val]).tolist() == \
        [0, 1, 2, 0, 1]
    test = list(workload._eval_batches("test", 10_000, 4, str(jax_dir)))
    assert [b["weights"].sum() for b in test] == [3] and len(test[0]["targets"]) == 3


@pytest.mark.slow
@pytest.mark.parametrize("name", ["imagenet_resnet", "imagenet_vit"])
def test_paceline_run_official_jax_trains_evaluates_and_logs(name, jax_dir, tmp_path,
                                                            monkeypatch):
    """AlgoPerf's NAdamW baseline with 2 images a step: a small official-scale run on a CPU."""
    monkeypatch.setitem(baseline.BATCH_SIZES, name, 2)
    code = main(["run", "--scale", "official", "--framework", "jax", "--workload", name,
                 "--data-dir", str(jax_dir), "--max-global-steps", "3", "--submission",
                 "nadamw", "--tuning-search-space",
                 "baselines/nadamw/tuning_search_space.json", "--experiment-dir",
                 str(tmp_path / "exp"), "--no-progress", "--seed", "1"])
    assert code == 0
    trial = (tmp_path / "exp" / "official" / "external_tuning" / "nadamw" / "study_0" /
             f"{name}_jax" / "trial_1")
    with open(trial / "eval_measurements.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[-1]["global_step"] == "3"
    for split in ("train", "validation", "test"):
        assert 0.0 <= float(rows[-1][f"{split}/accuracy"]) <= 1.0
        assert np.isfinite(float(rows[-1][f"{split}/loss"]))
    assert json.loads((trial / "meta_data_0.json").read_text())["paceline.scale"] == "official"
