"""TFRecord files and TFDS datasets read in plain Python, without TensorFlow.

AlgoPerf's data setup (``datasets/dataset_setup.py``) leaves several datasets as TFDS builds:
``<data_dir>/<name>/<version>/`` holding ``dataset_info.json``, ``features.json`` and shards
named ``<name>-<split>.tfrecord-00000-of-00008`` (a build with a config sits in
``<name>/<config>/<version>/``; its shards still carry the bare ``<name>``). Each shard is a
TFRecord file: records framed as ``uint64 length, uint32 masked crc32c(length), bytes, uint32
masked crc32c(bytes)``, each record a serialized ``tf.train.Example``. This module reads (and, for tests, writes) both::

    from workloads.common import tfrecord
    version_dir = tfrecord.tfds_version_dir(data_dir / "ogbg", "ogbg_molpcba", "0.1.3")
    for path in tfrecord.split_shards(version_dir, "validation"):
        for record in tfrecord.read_records(path):
            features = tfrecord.parse_example(record)  # {"labels": np.ndarray, ...}

Tests: ``.venv/bin/python -m pytest -q tests/test_tfrecord.py``.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError

Value = np.ndarray | list[bytes]

_HEADER = struct.Struct("<QI")
_CRC = struct.Struct("<I")
_MASK_DELTA = 0xA282EAD8
# Wire types of the protobuf encoding.
_VARINT, _FIXED64, _LEN, _FIXED32 = 0, 1, 2, 5


class TFRecordError(PacelineError):
    """A TFRecord file or a TFDS folder is missing, truncated or corrupt."""


# ---------------------------------------------------------------------------------------------
# CRC32C (Castagnoli), masked as TFRecord framing masks it
# ---------------------------------------------------------------------------------------------


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (pure Python: fine for headers and small records)."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The masked CRC-32C that TFRecord framing stores after the length and after the data."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


# ---------------------------------------------------------------------------------------------
# TFRecord framing
# ---------------------------------------------------------------------------------------------


def _read_exact(stream, size: int, path: Path) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise TFRecordError(f"{path} ends in the middle of a record (truncated TFRecord file).")
    return data


def read_records(path: Path, check_crc: bool = False) -> Iterator[bytes]:
    """Yield every record of the TFRecord file ``path``; ``check_crc`` verifies both CRCs."""
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise TFRecordError(f"Cannot open TFRecord file {path}: {exc.strerror}.") from exc
    with stream:
        while head := stream.read(_HEADER.size):
            if len(head) != _HEADER.size:
                raise TFRecordError(f"{path} ends in the middle of a record header.")
            length, length_crc = _HEADER.unpack(head)
            if check_crc and masked_crc32c(head[:8]) != length_crc:
                raise TFRecordError(f"{path} has a record length with a bad CRC (corrupt file).")
            data = _read_exact(stream, length, path)
            (data_crc,) = _CRC.unpack(_read_exact(stream, _CRC.size, path))
            if check_crc and masked_crc32c(data) != data_crc:
                raise TFRecordError(f"{path} has a record with a bad CRC (corrupt file).")
            yield data


def count_records(path: Path) -> int:
    """How many records ``path`` holds, found by skipping from header to header."""
    path, count = Path(path), 0
    size = path.stat().st_size
    with path.open("rb") as stream:
        while stream.tell() < size:
            head = _read_exact(stream, _HEADER.size, path)
            stream.seek(_HEADER.unpack(head)[0] + _CRC.size, 1)
            count += 1
        end = stream.tell()
    if end != size:
        raise TFRecordError(f"{path} ends in the middle of a record (truncated TFRecord file).")
    return count


def write_records(path: Path, records: Iterable[bytes]) -> None:
    """Write ``records`` to ``path`` in TFRecord framing (used by tests to build tiny files)."""
    with Path(path).open("wb") as stream:
        for data in records:
            length = struct.pack("<Q", len(data))
            stream.write(length + _CRC.pack(masked_crc32c(length)))
            stream.write(data + _CRC.pack(masked_crc32c(data)))


# ---------------------------------------------------------------------------------------------
# tf.train.Example: hand-decoded protobuf wire format
#   Example{Features features=1}  Features{map<string, Feature> feature=1}
#   Feature{oneof: BytesList bytes_list=1; FloatList float_list=2; Int64List int64_list=3}
#   each *List{repeated value=1} (numbers packed or not)
# ---------------------------------------------------------------------------------------------


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise TFRecordError("A tf.train.Example record is truncated (bad varint).")
        byte = buf[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """Yield ``(field number, wire type, value)`` of one protobuf message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            value, pos = buf[pos : pos + size], pos + size
        elif wire == _LEN:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        else:
            raise TFRecordError(f"A tf.train.Example record has an unknown wire type {wire}.")
        if pos > len(buf):
            raise TFRecordError("A tf.train.Example record is truncated.")
        yield number, wire, value


def _as_int64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _int64_list(buf: bytes) -> np.ndarray:
    out: list[int] = []
    for _, wire, value in _fields(buf):
        if wire == _LEN:  # packed
            pos = 0
            while pos < len(value):
                item, pos = _varint(value, pos)
                out.append(_as_int64(item))
        else:
            out.append(_as_int64(value))
    return np.asarray(out, dtype=np.int64)


def _float_list(buf: bytes) -> np.ndarray:
    chunks = [value for _, _, value in _fields(buf)]  # packed runs and single fixed32s alike
    return np.frombuffer(b"".join(chunks), dtype="<f4").astype(np.float32)


def _feature(buf: bytes) -> Value:
    for number, _, value in _fields(buf):
        if number == 1:
            return [item for _, _, item in _fields(value)]
        if number == 2:
            return _float_list(value)
        if number == 3:
            return _int64_list(value)
    return []  # a Feature with no kind set


def parse_example(record: bytes) -> dict[str, Value]:
    """``{name: values}`` of a serialized ``tf.train.Example``.

    Float lists come back as float32 arrays, int64 lists as int64 arrays (both flat, as
    stored), bytes lists as lists of ``bytes``.
    """
    out: dict[str, Value] = {}
    for number, _, features in _fields(record):
        if number != 1:
            continue
        for entry_number, _, entry in _fields(features):
            if entry_number != 1:
                continue
            parts = {field: item for field, _, item in _fields(entry)}
            out[bytes(parts.get(1, b"")).decode("utf-8")] = _feature(parts.get(2, b""))
    return out


def _key(number: int, wire: int) -> bytes:
    return _encode_varint((number << 3) | wire)


def _encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _len_field(number: int, payload: bytes) -> bytes:
    return _key(number, _LEN) + _encode_varint(len(payload)) + payload


def _encode_feature(values) -> bytes:
    if isinstance(values, list | tuple) and values and isinstance(values[0], bytes | str):
        items = [v.encode("utf-8") if isinstance(v, str) else v for v in values]
        return _len_field(1, b"".join(_len_field(1, v) for v in items))
    array = np.asarray(values).reshape(-1)
    if array.dtype.kind == "f":
        return _len_field(2, _len_field(1, array.astype("<f4").tobytes()))
    packed = b"".join(_encode_varint(int(v)) for v in array)
    return _len_field(3, _len_field(1, packed))


def encode_example(features: Mapping[str, object]) -> bytes:
    """Serialize ``{name: values}`` as a ``tf.train.Example`` (floats -> float_list, ints ->
    int64_list, str/bytes lists -> bytes_list; arrays are flattened as TFDS stores them)."""
    entries = b"".join(
        _len_field(1, _len_field(1, name.encode("utf-8")) + _len_field(2, _encode_feature(v)))
        for name, v in features.items()
    )
    return _len_field(1, entries)


# ---------------------------------------------------------------------------------------------
# TFDS folders
# ---------------------------------------------------------------------------------------------

_SHARD = re.compile(r"-(\d{5})-of-(\d{5})$")


def tfds_version_dir(data_dir: Path, name: str, version: str) -> Path:
    """``<data_dir>/<name>/<version>``: where ``tfds.builder(..., data_dir=data_dir)`` writes."""
    return Path(data_dir) / name.replace(":", "/") / version


def dataset_info(version_dir: Path) -> dict:
    """The parsed ``dataset_info.json`` of a TFDS build folder."""
    path = Path(version_dir) / "dataset_info.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise TFRecordError(f"{path} is missing: {version_dir} is not a TFDS build.") from exc
    except (OSError, ValueError) as exc:
        raise TFRecordError(f"{path} is not readable JSON ({exc}).") from exc


def _expected_shards(info: dict, split: str) -> int | None:
    """The shard count ``dataset_info.json`` records for ``split`` (None if it says nothing)."""
    for entry in info.get("splits", []):
        if entry.get("name") == split and entry.get("shardLengths"):
            return len(entry["shardLengths"])
    return None


def dataset_name(version_dir: Path, info: dict | None = None) -> str:
    """The name TFDS gives the shards of a build: ``dataset_info.json``'s ``name``.

    Shards are named after the dataset, never after the folder a config adds
    (``wmt17_translate/de-en/1.0.0/wmt17_translate-train.tfrecord-00000-of-00016``,
    ``imagenet_v2/matched-frequency/3.0.0/imagenet_v2-test.tfrecord-00000-of-00001``); a
    ``dataset_info.json`` without a name falls back to the folder above ``version_dir``.
    """
    info = dataset_info(version_dir) if info is None else info
    return info.get("name") or Path(version_dir).parent.name


def split_shards(version_dir: Path, split: str, dataset: str | None = None) -> list[Path]:
    """The sorted TFRecord shards of ``split`` in a TFDS build folder, all of them present.

    The shards are ``<dataset>-<split>.tfrecord-NNNNN-of-MMMMM``; ``dataset`` defaults to
    :func:`dataset_name` (the name ``dataset_info.json`` records). Raises ``TFRecordError``
    naming what is missing (no ``dataset_info.json``, no shards, a gap in
    ``-NNNNN-of-MMMMM``, or fewer shards than ``dataset_info.json`` records).
    """
    version_dir = Path(version_dir)
    info = None if dataset else dataset_info(version_dir)
    pattern = f"{dataset or dataset_name(version_dir, info)}-{split}.tfrecord-*-of-*"
    shards = [p for p in sorted(version_dir.glob(pattern)) if _SHARD.search(p.name)]
    if not shards:
        raise TFRecordError(f"{version_dir} has no TFRecord shards for split '{split}': "
                            f"no {pattern}.")
    total = int(_SHARD.search(shards[0].name).group(2))
    expected = _expected_shards(dataset_info(version_dir) if info is None else info, split)
    if expected is not None and expected != total:
        raise TFRecordError(
            f"{version_dir}: split '{split}' has shards '-of-{total:05d}' but "
            f"dataset_info.json records {expected}."
        )
    present = {int(_SHARD.search(p.name).group(1)) for p in shards}
    missing = sorted(set(range(total)) - present)
    if missing:
        raise TFRecordError(
            f"{version_dir}: split '{split}' is missing {len(missing)} of {total} shards "
            f"(first: {missing[0]:05d})."
        )
    return shards


def split_num_examples(version_dir: Path, split: str) -> int | None:
    """The number of examples ``dataset_info.json`` records for ``split`` (None if absent)."""
    for entry in dataset_info(version_dir).get("splits", []):
        if entry.get("name") == split and entry.get("shardLengths"):
            return sum(int(n) for n in entry["shardLengths"])
    return None
