"""The dev ImageNet data (Fashion-MNIST): reading, splitting, preparing, augmenting.

    .venv/bin/python -m pytest tests/test_workload_imagenet_data.py -q
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from sdk.errors import PacelineError
from workloads.common import data_cache, vision
from workloads.common.image_augment import (
    RANDAUGMENT_OPS,
    Augmentation,
    _apply_op,
    affine_sample,
    augment,
    mixup,
    randaugment,
    random_resized_crop,
    random_shift_crop,
)


def _write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def raw_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A small Fashion-MNIST-format folder: 60 train and 40 test images per class."""
    monkeypatch.setattr(vision, "VALIDATION_SIZE", 100)
    monkeypatch.setattr(vision, "TEST_SIZE", 200)
    rng = np.random.default_rng(0)
    folder = tmp_path / "raw"
    folder.mkdir()
    for part, per_class in (("train", 60), ("t10k", 40)):
        labels = np.repeat(np.arange(10), per_class)
        rng.shuffle(labels)
        images = rng.integers(0, 256, size=(len(labels), 28, 28))
        images[:, 0, :2] = np.arange(len(labels))[:, None] % 256  # make images unique
        images[:, 1, 0] = np.arange(len(labels)) // 256
        _write_idx(folder / f"{part}-images-idx3-ubyte.gz", images)
        _write_idx(folder / f"{part}-labels-idx1-ubyte.gz", labels)
    return folder


def test_split_is_stratified_disjoint_and_complete(raw_dir: Path) -> None:
    splits = vision.split_raw(raw_dir)
    assert [len(splits[s]["labels"]) for s in vision.SPLITS] == [500, 100, 200]
    assert np.bincount(splits["validation"]["labels"]).tolist() == [10] * 10
    assert np.bincount(splits["test"]["labels"]).tolist() == [20] * 10
    train = {x.tobytes() for x in splits["train"]["images"]}
    val = {x.tobytes() for x in splits["validation"]["images"]}
    assert len(train) == 500 and len(val) == 100 and not train & val
    assert splits["train"]["images"].dtype == np.uint8
    assert splits["train"]["labels"].dtype == np.int64


def test_preparation_is_byte_for_byte_reproducible(raw_dir: Path, tmp_path: Path) -> None:
    folders = [data_cache.prepare(vision.DATASET, lambda f: vision.build(f, raw_dir),
                                  str(tmp_path / n))
               for n in ("a", "b")]
    for split in vision.SPLITS:
        a, b = ((f / f"{split}.npz").read_bytes() for f in folders)
        assert a == b
    loaded = vision.load(str(folders[0]))
    direct = vision.split_raw(raw_dir)
    for split in vision.SPLITS:
        np.testing.assert_array_equal(loaded[split]["images"], direct[split]["images"])
        np.testing.assert_array_equal(loaded[split]["labels"], direct[split]["labels"])


def test_data_dir_with_raw_files_is_split_in_memory(raw_dir: Path) -> None:
    loaded = vision.load(str(raw_dir))
    assert len(loaded["validation"]["labels"]) == 100
    assert not data_cache.is_prepared(raw_dir)


def test_a_users_folder_is_kept_and_bad_files_are_one_sentence_errors(
        raw_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(vision.SOURCE_ENV, str(raw_dir))
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "notes.txt").write_text("hi")
    assert len(vision.load(str(junk))["validation"]["labels"]) == 100
    assert (junk / "notes.txt").read_text() == "hi"
    assert data_cache.is_prepared(junk / vision.DATASET)
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(PacelineError, match="is a file, not a folder"):
        vision.load(str(tmp_path / "a-file"))
    bad = tmp_path / "bad-idx"
    bad.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01\x00")
    with pytest.raises(PacelineError, match="not an unsigned-byte idx"):
        vision.read_idx(bad)


def test_missing_source_names_the_package(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv(vision.SOURCE_ENV, str(tmp_path))
    with pytest.raises(PacelineError, match="dataset-fashion-mnist"):
        vision.source_dir()


@pytest.mark.skipif(not vision.has_raw_files(vision.SOURCE_DIR),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_real_splits_and_normalisation_constants() -> None:
    from workloads.imagenet_resnet import workload

    splits = vision.split_raw(vision.SOURCE_DIR)
    assert [len(splits[s]["labels"]) for s in vision.SPLITS] == [
        workload.DEV_SIZES["train"], workload.DEV_SIZES["validation"],
        workload.DEV_SIZES["test"]]
    pixels = splits["train"]["images"].astype(np.float64)
    assert pixels.mean() == pytest.approx(workload.DEV_MEAN[0], abs=0.01)
    assert pixels.std() == pytest.approx(workload.DEV_STD[0], abs=0.01)


# ---- augmentation ------------------------------------------------------------------------
def _images(n: int = 6, size: int = 28) -> np.ndarray:
    return np.random.default_rng(1).uniform(0, 255, size=(n, size, size)).astype(np.float32)


def test_affine_identity_flip_and_shift() -> None:
    x = _images()
    eye = np.tile(np.array([[1.0, 0, 0], [0, 1.0, 0]]), (len(x), 1, 1))
    np.testing.assert_allclose(affine_sample(x, eye), x, atol=1e-4)
    flip = eye.copy()
    flip[:, 0, 0] = -1
    np.testing.assert_allclose(affine_sample(x, flip, bilinear=False), x[:, :, ::-1])
    shift = eye.copy()
    shift[:, 0, 2] = 3  # output pixel j reads input j + 3
    out = affine_sample(x, shift, fill=-1.0, bilinear=False)
    np.testing.assert_allclose(out[:, :, :-3], x[:, :, 3:])
    assert (out[:, :, -3:] == -1.0).all()


def test_crops_keep_shape_and_full_crop_is_identity() -> None:
    x = _images()
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(random_resized_crop(x, rng, (1.0, 1.0), (1.0, 1.0), False), x,
                               atol=1e-3)
    out = random_resized_crop(x, rng, (0.08, 1.0), (3 / 4, 4 / 3), True)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 255
    shifted = random_shift_crop(x, rng, 2, flip=False)
    # every output is the input moved by at most 2 pixels: its centre is still inside it
    for img, src in zip(shifted, x, strict=True):
        assert any(np.allclose(img[2:-2, 2:-2], src[2 + dy:26 + dy, 2 + dx:26 + dx])
                   for dy in range(-2, 3) for dx in range(-2, 3))


def test_randaugment_ops_by_hand() -> None:
    x = np.array([[[0.0, 100.0], [200.0, 255.0]]], dtype=np.float32)
    rng = np.random.default_rng(0)
    np.testing.assert_allclose(_apply_op("Invert", x, 1.0, rng), 255 - x)
    np.testing.assert_allclose(_apply_op("Posterize", x, 1.0, rng),
                               [[[0, 96], [192, 240]]])  # 4 low bits dropped
    np.testing.assert_allclose(_apply_op("Solarize", x, 1.0, rng),
                               [[[0, 100], [55, 0]]])  # threshold 128
    np.testing.assert_allclose(_apply_op("SolarizeAdd", x, 1.0, rng),
                               [[[110, 210], [200, 255]]])
    np.testing.assert_allclose(_apply_op("AutoContrast", x * 0.5 + 10, 1.0, rng), x, atol=1e-3)
    np.testing.assert_allclose(_apply_op("Color", x, 1.0, rng), x)
    big = np.full((4, 28, 28), 50.0, dtype=np.float32)
    cut = _apply_op("Cutout", big, 1.0, rng)
    assert ((cut == 128.0).sum(axis=(1, 2)) > 0).all()  # a grey square in each image
    assert ((cut == 128.0).sum(axis=(1, 2)) <= 11 * 11).all()


def test_randaugment_is_seeded_and_in_range() -> None:
    x = _images(32)
    a = randaugment(x, np.random.default_rng(5), 2, 10)
    b = randaugment(x, np.random.default_rng(5), 2, 10)
    np.testing.assert_array_equal(a, b)
    assert a.shape == x.shape and a.min() >= 0 and a.max() <= 255
    for op in RANDAUGMENT_OPS:
        out = _apply_op(op, np.rint(x), 1.0, np.random.default_rng(0))
        assert out.shape == x.shape and np.isfinite(out).all(), op


def test_mixup_mixes_neighbours_with_one_lambda() -> None:
    rng = np.random.default_rng(3)
    inputs = rng.normal(size=(8, 4, 4, 1)).astype(np.float32)
    labels = np.arange(8) % 10
    mixed, targets = mixup(inputs, labels, 10, 0.2, np.random.default_rng(7))
    lam = np.random.default_rng(7).beta(0.2, 0.2)
    np.testing.assert_allclose(mixed, lam * inputs + (1 - lam) * np.roll(inputs, 1, 0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(targets.sum(axis=1), 1.0, rtol=1e-6)
    assert targets[3, 3] == pytest.approx(lam) and targets[3, 2] == pytest.approx(1 - lam)
    assert targets.dtype == np.float32


def test_augment_without_settings_is_identity() -> None:
    x = _images()
    np.testing.assert_array_equal(augment(x, Augmentation(), np.random.default_rng(0)), x)
