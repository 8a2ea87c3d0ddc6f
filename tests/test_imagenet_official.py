"""The official-scale ImageNet workloads (imagenet_resnet, imagenet_vit and their official
variants) in PyTorch: exact parameter counts (built on the meta device, nothing allocated),
official numbers and tables, the reader of AlgoPerf's on-disk ImageNet layout on tiny files
the tests write, PIL RandAugment, ``paceline data check``'s hook, and a three-step
``paceline run --scale official`` per family.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_imagenet_official.py
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sdk.cli.main import main
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from workloads.common import tfrecord
from workloads.common.vision_torch import build_on_meta, count_parameters
from workloads.imagenet_resnet import official_data, randaugment

SYNSETS = ("n01440764", "n01443537", "n01484850")
# AlgoPerf's PyTorch parameter counts (its tests/test_num_params.py and models).
PARAMS = {
    "imagenet_resnet": 25_557_032, "imagenet_resnet_silu": 25_557_032,
    "imagenet_resnet_gelu": 25_557_032, "imagenet_resnet_large_bn_init": 25_557_032,
    "imagenet_vit": 22_122_472, "imagenet_vit_glu": 50_452_456,
    "imagenet_vit_post_ln": 22_121_704, "imagenet_vit_map": 23_896_552,
}
ADAM = Path(__file__).parent / "submissions" / "adam_pytorch" / "submission.py"  # batch 2


# ---- tiny files in AlgoPerf's layout ----------------------------------------------------------
def jpeg(rng: np.random.Generator, width: int, height: int) -> bytes:
    """A random-noise RGB JPEG of the given size."""
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=80)
    return buf.getvalue()


def write_imagenet(root: Path, per_class: int = 3, v2_examples: int = 5, seed: int = 0) -> Path:
    """``root`` as AlgoPerf's ``imagenet/pytorch`` folder: train/ and val/ with one folder of
    JPEGs per synset, ImageNet-v2 as a TFDS build (TFRecord shard + dataset_info.json)."""
    rng = np.random.default_rng(seed)
    for split in ("train", "val"):
        for k, synset in enumerate(SYNSETS):
            folder = root / split / synset
            folder.mkdir(parents=True)
            for i in range(per_class):
                size = (int(rng.integers(40, 90)), int(rng.integers(40, 90)))
                (folder / f"{synset}_{k}{i}.JPEG").write_bytes(jpeg(rng, *size))
    v2 = root / official_data.IMAGENET_V2_DIR
    v2.mkdir(parents=True)
    records = [tfrecord.encode_example({"image": [jpeg(rng, 60, 50)], "label": [i % 3],
                                        "file_name": [f"{i}.jpeg".encode()]})
               for i in range(v2_examples)]
    tfrecord.write_records(v2 / "imagenet_v2-test.tfrecord-00000-of-00001", records)
    (v2 / "dataset_info.json").write_text(json.dumps(
        {"name": "imagenet_v2",
         "splits": [{"name": "test", "shardLengths": [str(v2_examples)]}]}))
    return root


@pytest.fixture(scope="module")
def imagenet_dir(tmp_path_factory) -> Path:
    return write_imagenet(tmp_path_factory.mktemp("imagenet") / "pytorch")


# ---- models and tables ------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(PARAMS))
def test_official_models_have_algoperfs_parameter_counts(name):
    workload = workloads().create(name, "official", "pytorch")
    model = build_on_meta(workload._build_model)
    assert count_parameters(model) == PARAMS[name]
    assert all(p.device.type == "meta" for p in model.parameters())


@pytest.mark.parametrize("name", sorted(PARAMS))
@pytest.mark.parametrize("version", ["0.5", "0.6"])
def test_official_numbers_and_tables_are_upstreams(name, version):
    workload = workloads().create(name, "official", "pytorch", ruleset_version=version)
    numbers = get_ruleset(version).workloads[name]
    assert workload.validation_target_value == numbers.validation_target_value
    assert workload.step_hint == numbers.step_hint
    vit = name.startswith("imagenet_vit")
    assert workload.eval_batch_size == (2048 if vit else 1024)
    assert workload.num_eval_train_examples == (51_200 if vit else 50_176)
    assert (workload.num_train_examples, workload.num_validation_examples,
            workload.num_test_examples) == (1_281_167, 50_000, 10_000)
    assert workload.num_classes == 1000
    assert workload.train_mean == pytest.approx((123.675, 116.28, 103.53))


def test_variants_change_what_upstream_changes():
    def config(name):
        return workloads().create(name, "official", "pytorch").model_config

    assert config("imagenet_resnet_silu").activation == "silu"
    assert config("imagenet_resnet_gelu").activation == "gelu"
    assert config("imagenet_resnet_large_bn_init").bn_init_scale == 8.0
    assert config("imagenet_resnet").bn_init_scale == 0.0
    assert config("imagenet_vit_post_ln").post_layer_norm
    assert config("imagenet_vit_map").pooling == "map"
    assert config("imagenet_vit_glu").use_glu


# ---- the reader ---------------------------------------------------------------------------------
def test_check_accepts_the_layout_and_names_what_is_missing(imagenet_dir, tmp_path):
    assert official_data.check(imagenet_dir) == []
    problems = official_data.check(tmp_path)
    assert len(problems) == 3
    assert "train is missing" in problems[0] and "val is missing" in problems[1]
    assert "imagenet_v2" in problems[2] and "TFRecord" in problems[2]
    assert official_data.check(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'} is not a "
                                                        "directory."]


def test_check_spots_class_folders_that_differ(tmp_path):
    root = write_imagenet(tmp_path / "pytorch", per_class=1, v2_examples=1)
    (root / "val" / SYNSETS[0]).rename(root / "val" / "n99999999")
    assert any("different class folders" in p for p in official_data.check(root))


def test_registry_names_the_check_for_both_families():
    for name in ("imagenet_resnet", "imagenet_vit_map"):
        assert workloads().entry(name).official_data_check == \
            "workloads.imagenet_resnet.official_data:check"


def test_image_folder_labels_are_sorted_synsets(imagenet_dir):
    folder = official_data.ImageFolder(imagenet_dir / "val")
    assert folder.classes == sorted(SYNSETS)
    assert folder.labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert all(p.parent.name == SYNSETS[label]
               for p, label in zip(folder.paths, folder.labels, strict=True))


def test_random_resized_crop_box_follows_torchvision():
    rng = np.random.default_rng(0)
    for _ in range(200):
        left, top, w, h = official_data.random_resized_crop_box(300, 200, rng)
        assert 0 <= left <= 300 - w and 0 <= top <= 200 - h
        assert 0.08 * 60_000 * 0.95 <= w * h <= 60_000
    # a 1000x10 strip: no draw fits, so the central crop at the widest allowed aspect ratio
    assert official_data.random_resized_crop_box(1000, 10, rng) == (493, 0, 13, 10)


def test_eval_crop_resizes_the_short_side_then_takes_the_centre():
    img = Image.fromarray(np.arange(100 * 50 * 3, dtype=np.uint32).reshape(50, 100, 3)
                          .astype(np.uint8))
    out = official_data.eval_crop(img)
    assert out.size == (224, 224)
    test = official_data.test_crop(Image.new("RGB", (300, 200)))
    assert test.size == (224, 224)


def test_train_batches_are_deterministic_and_normalised(imagenet_dir):
    workload = workloads().create("imagenet_resnet", "official", "pytorch")
    first = next(workload._numpy_train_batches(np.array([7, 1]), str(imagenet_dir), 4))
    again = next(workload._numpy_train_batches(np.array([7, 1]), str(imagenet_dir), 4))
    assert first["inputs"].shape == (4, 224, 224, 3) and first["inputs"].dtype == np.float32
    np.testing.assert_array_equal(first["inputs"], again["inputs"])
    assert first["targets"].dtype == np.int64 and set(first["targets"]) <= {0, 1, 2}
    assert -2.2 < first["inputs"].min() < 0 < first["inputs"].max() < 2.7


def test_vit_trains_on_mixed_soft_labels(imagenet_dir):
    workload = workloads().create("imagenet_vit", "official", "pytorch")
    batch = next(workload._numpy_train_batches(np.array([3, 1]), str(imagenet_dir), 4))
    assert batch["targets"].shape == (4, 1000)
    np.testing.assert_allclose(batch["targets"].sum(axis=1), 1.0, rtol=1e-5)
    assert (batch["targets"][:, 3:] == 0).all()


@pytest.mark.parametrize("pad", [False, True])
def test_eval_splits_cover_val_train_subset_and_imagenet_v2(imagenet_dir, pad):
    workload = workloads().create("imagenet_resnet", "official", "pytorch")
    data = str(imagenet_dir)
    val = list(workload._eval_batches("validation", 50_000, 4, data, pad=pad))
    assert sum(b["weights"].sum() for b in val) == 9
    assert np.concatenate([b["targets"][b["weights"] > 0] for b in val]).tolist() == \
        [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert sum(len(b["targets"]) for b in val) == (12 if pad else 9)
    subset = list(workload._eval_batches("eval_train", 5, 4, data, pad=pad))
    assert sum(b["weights"].sum() for b in subset) == 5
    test = list(workload._eval_batches("test", 10_000, 4, data, pad=pad))
    assert [b["weights"].sum() for b in test] == [4, 1]
    assert np.concatenate([b["targets"][b["weights"] > 0] for b in test]).tolist() == \
        [0, 1, 2, 0, 1]
    assert test[0]["inputs"].shape == (4, 224, 224, 3)


def test_missing_data_dir_is_one_sentence():
    from sdk.errors import PacelineError

    workload = workloads().create("imagenet_vit", "official", "pytorch")
    with pytest.raises(PacelineError, match="needs --data-dir"):
        workload._numpy_train_batches(np.array([0, 0]), None, 2)


# ---- RandAugment --------------------------------------------------------------------------------
@pytest.mark.parametrize("op", sorted(randaugment.OPS))
def test_every_randaugment_op_keeps_an_rgb_image(op):
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8))
    out = randaugment.apply_op(img, op, randaugment.OPS[op][0], rng)
    assert out.size == (224, 224) and out.mode == "RGB"


def test_randaugment_quirks_match_upstream():
    rng = np.random.default_rng(1)
    img = Image.fromarray(rng.integers(0, 256, (224, 224, 3), dtype=np.uint8))
    same = randaugment.apply_op(img, "Solarize", 256.0, rng)  # threshold 256: a no-op
    np.testing.assert_array_equal(np.asarray(same), np.asarray(img))
    cut = np.asarray(randaugment.apply_op(img, "Cutout", 40.0, rng))
    grey = (cut == 128).all(axis=2)
    assert 0 < grey.sum() <= 81 * 81
    moved = np.asarray(randaugment.apply_op(img, "TranslateX", 100.0, rng))
    np.testing.assert_array_equal(moved[:, 100:], np.asarray(img)[:, :124])
    assert (moved[:, :100] == 128).all()


# ---- end to end ---------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("name", ["imagenet_resnet", "imagenet_vit"])
def test_paceline_run_official_trains_evaluates_and_logs(name, imagenet_dir, tmp_path):
    (tmp_path / "space.json").write_text('{"learning_rate": {"feasible_points": [0.01]}}')
    code = main(["run", "--scale", "official", "--workload", name, "--data-dir",
                 str(imagenet_dir), "--max-global-steps", "3", "--submission",
                 str(ADAM), "--tuning-search-space", str(tmp_path / "space.json"),
                 "--experiment-dir", str(tmp_path / "exp"), "--no-progress", "--seed", "1",
                 "--threads", "2"])
    assert code == 0
    trial = (tmp_path / "exp" / "official" / "external_tuning" / "adam_pytorch" / "study_0" /
             f"{name}_pytorch" / "trial_1")
    with open(trial / "eval_measurements.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[-1]["global_step"] == "3"
    for split in ("train", "validation", "test"):
        assert 0.0 <= float(rows[-1][f"{split}/accuracy"]) <= 1.0
        assert np.isfinite(float(rows[-1][f"{split}/loss"]))
    meta = json.loads((trial / "meta_data_0.json").read_text())
    assert meta["paceline.scale"] == "official"
    numbers = get_ruleset("0.5").workloads[name]
    assert meta["workload.validation_target_value"] == pytest.approx(
        numbers.validation_target_value)
    assert json.loads((trial / "hparams.json").read_text()) == {"learning_rate": 0.01}
