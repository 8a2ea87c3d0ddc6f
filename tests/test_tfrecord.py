"""TFRecord framing, tf.train.Example decoding and TFDS shard finding, without TensorFlow.

nice -n 15 .venv/bin/python -m pytest -q tests/test_tfrecord.py
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from sdk.errors import PacelineError
from workloads.common import tfrecord


def test_crc32c_matches_the_standard_check_value() -> None:
    # The CRC-32C catalogue check value for the ASCII digits 1..9.
    assert tfrecord.crc32c(b"123456789") == 0xE3069283
    assert tfrecord.crc32c(b"") == 0


def test_masked_crc_rotates_and_adds_the_tfrecord_delta() -> None:
    crc = tfrecord.crc32c(b"abc")
    rotated = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    assert tfrecord.masked_crc32c(b"abc") == (rotated + 0xA282EAD8) & 0xFFFFFFFF


def test_records_round_trip_with_crc_checks(tmp_path: Path) -> None:
    path = tmp_path / "x.tfrecord"
    records = [b"", b"a", b"hello" * 100]
    tfrecord.write_records(path, records)
    assert list(tfrecord.read_records(path, check_crc=True)) == records
    assert tfrecord.count_records(path) == 3
    # Framing is 8 + 4 bytes before and 4 bytes after each record.
    assert path.stat().st_size == sum(16 + len(r) for r in records)


def test_corrupt_and_truncated_files_end_in_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "x.tfrecord"
    tfrecord.write_records(path, [b"payload"])
    data = bytearray(path.read_bytes())
    data[13] ^= 0xFF  # a byte inside the payload
    path.write_bytes(bytes(data))
    assert list(tfrecord.read_records(path)) == [bytes(data[12:19])]  # no check: no error
    with pytest.raises(PacelineError, match="bad CRC"):
        list(tfrecord.read_records(path, check_crc=True))
    path.write_bytes(bytes(data[:-3]))
    with pytest.raises(PacelineError, match="truncated"):
        list(tfrecord.read_records(path))
    with pytest.raises(PacelineError, match="Cannot open"):
        list(tfrecord.read_records(tmp_path / "absent.tfrecord"))


def test_example_round_trip_keeps_dtypes_and_flattens() -> None:
    features = {
        "node_feat": np.arange(6, dtype=np.float32).reshape(2, 3) / 3,
        "edge_index": np.array([[0, 1], [1, -5]], dtype=np.int64),
        "labels": np.array([0.0, np.nan, 1.0], dtype=np.float32),
        "name": [b"first", "second"],
        "big": np.array([2**62, -(2**63)], dtype=np.int64),
    }
    parsed = tfrecord.parse_example(tfrecord.encode_example(features))
    assert set(parsed) == set(features)
    np.testing.assert_array_equal(parsed["node_feat"], features["node_feat"].reshape(-1))
    assert parsed["node_feat"].dtype == np.float32
    np.testing.assert_array_equal(parsed["edge_index"], [0, 1, 1, -5])
    assert parsed["edge_index"].dtype == np.int64
    np.testing.assert_array_equal(parsed["labels"], features["labels"])  # NaN survives
    assert parsed["name"] == [b"first", b"second"]
    np.testing.assert_array_equal(parsed["big"], features["big"])


def _example_class():
    """tf.train.Example built from its .proto definition with google.protobuf (no TF)."""
    pytest.importorskip("google.protobuf")
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto(name="ex.proto", package="tt", syntax="proto3")
    label, msg = descriptor_pb2.FieldDescriptorProto, proto.message_type
    for name, kind in (
        ("BytesList", label.TYPE_BYTES),
        ("FloatList", label.TYPE_FLOAT),
        ("Int64List", label.TYPE_INT64),
    ):
        msg.add(name=name).field.add(name="value", number=1, type=kind, label=label.LABEL_REPEATED)
    feature = msg.add(name="Feature")
    feature.oneof_decl.add(name="kind")
    for number, name in ((1, "BytesList"), (2, "FloatList"), (3, "Int64List")):
        field = feature.field.add(
            name=name.lower().replace("list", "_list"),
            number=number,
            type=label.TYPE_MESSAGE,
            type_name=f".tt.{name}",
            label=label.LABEL_OPTIONAL,
        )
        field.oneof_index = 0
    features = msg.add(name="Features")
    entry = features.nested_type.add(name="FeatureEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=label.TYPE_STRING, label=label.LABEL_OPTIONAL)
    entry.field.add(
        name="value",
        number=2,
        type=label.TYPE_MESSAGE,
        type_name=".tt.Feature",
        label=label.LABEL_OPTIONAL,
    )
    features.field.add(
        name="feature",
        number=1,
        type=label.TYPE_MESSAGE,
        type_name=".tt.Features.FeatureEntry",
        label=label.LABEL_REPEATED,
    )
    msg.add(name="Example").field.add(
        name="features",
        number=1,
        type=label.TYPE_MESSAGE,
        type_name=".tt.Features",
        label=label.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tt.Example"))


def test_decoder_reads_what_protobuf_itself_serializes() -> None:
    example = _example_class()()
    feature = example.features.feature
    feature["f"].float_list.value.extend([1.5, -2.25, 3.0])
    feature["i"].int64_list.value.extend([7, -1, 2**40])
    feature["b"].bytes_list.value.extend([b"x", b""])
    feature["empty"].int64_list.SetInParent()
    parsed = tfrecord.parse_example(example.SerializeToString())
    np.testing.assert_array_equal(parsed["f"], [1.5, -2.25, 3.0])
    np.testing.assert_array_equal(parsed["i"], [7, -1, 2**40])
    assert parsed["b"] == [b"x", b""]
    assert parsed["empty"].size == 0
    # ...and protobuf reads what the encoder writes.
    again = _example_class()()
    again.ParseFromString(tfrecord.encode_example({"i": np.array([3, -4]), "f": [0.5]}))
    assert list(again.features.feature["i"].int64_list.value) == [3, -4]
    assert list(again.features.feature["f"].float_list.value) == [0.5]


def test_unpacked_numbers_are_read_too() -> None:
    # Int64List{value: 5, value: 6} and FloatList{value: 1.0} written one element per field.
    ints = b"\x08\x05\x08\x06"
    floats = b"\x0d" + struct.pack("<f", 1.0)
    entry_i = b"\x0a\x01i" + b"\x12" + bytes([len(ints) + 2]) + b"\x1a" + bytes([len(ints)]) + ints
    entry_f = (
        b"\x0a\x01f" + b"\x12" + bytes([len(floats) + 2]) + b"\x12" + bytes([len(floats)]) + floats
    )
    body = b"\x0a" + bytes([len(entry_i)]) + entry_i + b"\x0a" + bytes([len(entry_f)]) + entry_f
    parsed = tfrecord.parse_example(b"\x0a" + bytes([len(body)]) + body)
    np.testing.assert_array_equal(parsed["i"], [5, 6])
    np.testing.assert_array_equal(parsed["f"], [1.0])


def _tfds_build(root: Path, shards: dict[str, int], info_shards: dict[str, int]) -> Path:
    version_dir = tfrecord.tfds_version_dir(root, "toy_set", "1.0.0")
    version_dir.mkdir(parents=True)
    splits = [{"name": s, "shardLengths": ["1"] * n} for s, n in info_shards.items()]
    (version_dir / "dataset_info.json").write_text(json.dumps({"splits": splits}))
    for split, total in shards.items():
        for i in range(total):
            path = version_dir / f"toy_set-{split}.tfrecord-{i:05d}-of-{total:05d}"
            tfrecord.write_records(path, [tfrecord.encode_example({"x": [i]})])
    return version_dir


def test_split_shards_finds_every_shard_in_order(tmp_path: Path) -> None:
    version_dir = _tfds_build(tmp_path, {"train": 3, "test": 1}, {"train": 3, "test": 1})
    shards = tfrecord.split_shards(version_dir, "train")
    assert [p.name[-14:] for p in shards] == [f"{i:05d}-of-00003" for i in range(3)]
    assert tfrecord.split_num_examples(version_dir, "train") == 3
    assert len(tfrecord.split_shards(version_dir, "test")) == 1


def test_split_shards_names_what_is_missing(tmp_path: Path) -> None:
    version_dir = _tfds_build(tmp_path, {"train": 3}, {"train": 3, "validation": 1})
    (version_dir / "toy_set-train.tfrecord-00001-of-00003").unlink()
    with pytest.raises(PacelineError, match="missing 1 of 3 shards"):
        tfrecord.split_shards(version_dir, "train")
    with pytest.raises(PacelineError, match="no TFRecord shards for split 'validation'"):
        tfrecord.split_shards(version_dir, "validation")
    (version_dir / "dataset_info.json").unlink()
    with pytest.raises(PacelineError, match="dataset_info.json is missing"):
        tfrecord.split_shards(version_dir, "train")


def test_split_shards_checks_the_count_dataset_info_records(tmp_path: Path) -> None:
    version_dir = _tfds_build(tmp_path, {"train": 2}, {"train": 4})
    with pytest.raises(PacelineError, match="records 4"):
        tfrecord.split_shards(version_dir, "train")


def _config_build(root: Path, info: dict) -> Path:
    """A TFDS build with a config folder, as wmt17_translate/de-en/1.0.0: two train shards."""
    version_dir = tfrecord.tfds_version_dir(root, "wmt17_translate/de-en", "1.0.0")
    version_dir.mkdir(parents=True)
    (version_dir / "dataset_info.json").write_text(json.dumps(info))
    for i in range(2):
        path = version_dir / f"wmt17_translate-train.tfrecord-{i:05d}-of-00002"
        tfrecord.write_records(path, [tfrecord.encode_example({"x": [i]})])
    return version_dir


def test_split_shards_are_named_after_the_dataset_not_the_config(tmp_path: Path) -> None:
    info = {"name": "wmt17_translate", "splits": [{"name": "train", "shardLengths": ["1"] * 2}]}
    version_dir = _config_build(tmp_path, info)
    (version_dir / "de-en-train.tfrecord-00000-of-00001").write_bytes(b"")  # not a TFDS name
    names = [f"wmt17_translate-train.tfrecord-0000{i}-of-00002" for i in range(2)]
    assert tfrecord.dataset_name(version_dir) == "wmt17_translate"
    assert [p.name for p in tfrecord.split_shards(version_dir, "train")] == names
    shards = tfrecord.split_shards(version_dir, "train", dataset="wmt17_translate")
    assert [p.name for p in shards] == names
    with pytest.raises(PacelineError, match="no other_set-train.tfrecord-"):
        tfrecord.split_shards(version_dir, "train", dataset="other_set")


def test_split_shards_without_a_recorded_name(tmp_path: Path) -> None:
    version_dir = _config_build(tmp_path, {"splits": []})
    assert tfrecord.dataset_name(version_dir) == "de-en"  # the folder above the version
    with pytest.raises(PacelineError, match="no de-en-train.tfrecord-"):
        tfrecord.split_shards(version_dir, "train")
    assert len(tfrecord.split_shards(version_dir, "train", dataset="wmt17_translate")) == 2
    (version_dir / "dataset_info.json").unlink()
    with pytest.raises(PacelineError, match="dataset_info.json is missing"):
        tfrecord.split_shards(version_dir, "train", dataset="wmt17_translate")
    with pytest.raises(PacelineError, match="no TFRecord shards for split 'test'"):
        tfrecord.split_shards(version_dir, "test", dataset="wmt17_translate")
