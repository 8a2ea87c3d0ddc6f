"""How a trial's checkpoint is written and read: tensors and plain data, never pickled objects.

A checkpoint a run left behind is read again on ``paceline run --resume`` and on a rerun of
``paceline tune``; whoever can write into the experiment folder can put a file there. So a
checkpoint holds only what cannot run code when read:

* PyTorch (``checkpoint.pt``): ``torch.save`` of a dict of tensors, numbers, strings, lists,
  tuples and dicts, read back with ``torch.load(weights_only=True)``, whose unpickler builds
  nothing else (no class, no function, no ``__reduce__``).
* JAX (``checkpoint.msgpack``): MessagePack of the same plain data, with arrays as one
  extension type (numeric dtype name, shape, raw bytes) that is decoded with
  ``numpy.frombuffer``; object, string and void dtypes are refused.

Everything the runner stores is made plain first (:func:`plain`): numpy scalars become Python
numbers, the numpy and Python random states become tuples of numbers. A value that cannot be
made plain (an object in a submission's ``optimizer_state`` without ``state_dict()``) is left
out with a warning and rebuilt by ``init_optimizer_state`` on resume. A file that is corrupt,
truncated, not written by paceline, or does not fit the trial ends in one sentence naming it
(:class:`~sdk.errors.PacelineError`).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError

FORMAT_KEY = "paceline_checkpoint"
FORMAT_VERSION = 1
# What the runner stores besides the framework's own entries, and the type each must have.
RUNNER_FIELDS: dict[str, type | tuple[type, ...]] = {
    "train_state": dict,
    "global_step": int,
    "eval_results": (list, tuple),
    "preemption_count": int,
    "eval_rows": (list, tuple),
    "all_rows": (list, tuple),
    "batches_consumed": int,
    "total_duration": (int, float),
}
_ARRAY_EXT = 1  # the MessagePack extension code of a numpy array
# Objects of the kit's own helper classes (a self-tuning submission's tuner, its race, its
# clock) are stored as {_OBJECT: "module.Class", "state": <plain __getstate__()>} and rebuilt
# only for a name in CHECKPOINT_CLASSES, which code fills, never a file (:func:`checkpointable`).
CHECKPOINT_CLASSES: dict[str, type] = {}
_OBJECT, _CLASS = "__paceline_object__", "__paceline_class__"
NDARRAY_KEY = "__paceline_ndarray__"  # a numpy array stored as a tensor (PyTorch)
_NUMERIC_KINDS = "biufc"  # bool, signed, unsigned, float, complex


class NotPlain(TypeError):
    """A value holds an object that a checkpoint cannot store as plain data."""


def _class_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def checkpointable(cls: type) -> type:
    """Class decorator: a checkpoint may hold instances of ``cls`` (and ``cls`` itself).

    An instance is stored as its ``__getstate__()`` made plain, and rebuilt with
    ``cls.__new__`` and ``__setstate__`` (or by updating ``__dict__``); no other code of the
    class runs (a namedtuple is stored as its items and rebuilt with ``cls.__new__``). Only
    classes registered this way are ever rebuilt from a file.
    """
    CHECKPOINT_CLASSES[_class_name(cls)] = cls
    return cls


def _registered(cls: type) -> str | None:
    name = _class_name(cls)
    return name if CHECKPOINT_CLASSES.get(name) is cls else None


def plain(value: Any, array: Callable[[Any], Any | None], keys: tuple[type, ...] = (str, int),
          where: str = "value", other: Callable[[Any], Any] | None = None) -> Any:
    """``value`` as plain data: dicts, lists, tuples, str, int, float, bool, None and arrays.

    ``array(x)`` returns the stored form of an array-like ``x`` (a tensor, a numpy array), or
    None when ``x`` is not one. Numpy scalars become Python numbers. Any other value becomes
    ``other(value)`` if given (``str`` for log rows), else raises :class:`NotPlain` naming it
    (``where`` is its path for the message).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return value.item()
    stored = array(value)
    if stored is not None:
        return stored
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, keys) or isinstance(k, bool):
                raise NotPlain(f"{where} has a key of type {type(k).__name__}")
            out[k] = plain(v, array, keys, f"{where}[{k!r}]", other)
        return out
    name = _registered(type(value))
    if name is not None and isinstance(value, tuple):  # a registered namedtuple
        return {_OBJECT: name, "items": plain(list(value), array, keys, where, other)}
    if isinstance(value, list | tuple):
        items = [plain(v, array, keys, f"{where}[{i}]", other) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, type) and _registered(value):
        return {_CLASS: _registered(value)}
    if name is not None:
        state = value.__getstate__()
        return {_OBJECT: name, "state": plain({} if state is None else state, array, keys,
                                              f"{where}.{type(value).__name__}", other)}
    if other is not None:
        return other(value)
    raise NotPlain(f"{where} is a {type(value).__name__}")


def rebuild(value: Any) -> Any:
    """Undo :func:`plain`'s encodings: registered objects and classes, tagged numpy arrays.

    Raises ValueError for a class name that is not registered.
    """
    if isinstance(value, list):
        return [rebuild(v) for v in value]
    if isinstance(value, tuple):
        return tuple(rebuild(v) for v in value)
    if not isinstance(value, dict):
        return value
    if NDARRAY_KEY in value and len(value) == 1:
        return value[NDARRAY_KEY].numpy() if hasattr(value[NDARRAY_KEY], "numpy") \
            else np.asarray(value[NDARRAY_KEY])
    for tag in (_CLASS, _OBJECT):
        if tag in value:
            cls = CHECKPOINT_CLASSES.get(value[tag]) if isinstance(value[tag], str) else None
            if cls is None:
                raise ValueError(f"class {value[tag]!r} is not one a checkpoint may hold")
            if tag == _CLASS:
                return cls
            if issubclass(cls, tuple):
                return cls.__new__(cls, *rebuild(value.get("items", [])))
            obj = cls.__new__(cls)
            state = rebuild(value.get("state"))
            if hasattr(obj, "__setstate__"):
                obj.__setstate__(state)
            elif isinstance(state, dict):
                obj.__dict__.update(state)
            else:
                raise ValueError(f"the state of a {value[tag]} is not a dict")
            return obj
    return {k: rebuild(v) for k, v in value.items()}


def host_rng_state() -> dict[str, Any]:
    """The numpy and Python global random states as tuples of plain numbers."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {
        "numpy_rng": (str(name), [int(k) for k in keys], int(pos), int(has_gauss),
                      float(cached)),
        "python_rng": (int(version), [int(x) for x in internal], gauss_next),
    }


def restore_host_rng(payload: dict[str, Any]) -> None:
    """Set the numpy and Python global random states stored by :func:`host_rng_state`."""
    if payload.get("numpy_rng") is not None:
        name, keys, pos, has_gauss, cached = payload["numpy_rng"]
        np.random.set_state((str(name), np.asarray(keys, dtype=np.uint32), int(pos),
                             int(has_gauss), float(cached)))
    if payload.get("python_rng") is not None:
        version, internal, gauss_next = payload["python_rng"]
        random.setstate((int(version), tuple(int(x) for x in internal),
                         None if gauss_next is None else float(gauss_next)))


def temp_path(path: Path) -> Path:
    """The temporary file a checkpoint is written to before its atomic rename."""
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    """Call ``write(file)`` on a temporary file, sync it, and rename it to ``path``."""
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def unreadable(path: Path) -> PacelineError:
    """The one-sentence error for a checkpoint that cannot be read safely."""
    return PacelineError(
        f"Checkpoint {path} is corrupt, truncated or not one this version of paceline "
        "wrote, so it is not read; delete it (or pass --overwrite) to start the trial over."
    )


def check_payload(payload: Any, path: Path, framework_fields: tuple[str, ...]) -> dict[str, Any]:
    """``payload`` if it has paceline's format tag and every field the resume reads, with the
    right types; otherwise the error of :func:`unreadable`."""
    if not isinstance(payload, dict) or payload.get(FORMAT_KEY) != FORMAT_VERSION:
        raise unreadable(path)
    for name in framework_fields:
        if name not in payload:
            raise unreadable(path)
    for name, kind in RUNNER_FIELDS.items():
        value = payload.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise unreadable(path)
    rows = [*payload["eval_rows"], *payload["all_rows"]]
    if not all(isinstance(r, dict) for r in rows):
        raise unreadable(path)
    return payload


def does_not_fit(path: Path | None, exc: BaseException) -> PacelineError:
    """The one-sentence error for a readable checkpoint that does not fit this trial."""
    where = f"Checkpoint {path}" if path is not None else "The checkpoint"
    detail = str(exc).strip().splitlines()[0][:160].rstrip(".") if str(exc).strip() else \
        type(exc).__name__
    return PacelineError(
        f"{where} does not fit this trial's model, optimizer or random state ({detail}); "
        "delete it (or pass --overwrite) to start the trial over."
    )


# ---- MessagePack (JAX) ------------------------------------------------------------------------
def _pack_array(value: Any) -> Any:
    import msgpack

    if isinstance(value, np.ndarray):
        if value.dtype.kind not in _NUMERIC_KINDS and value.dtype.name not in _ML_DTYPE_NAMES:
            raise NotPlain(f"an array of dtype {value.dtype} cannot be checkpointed")
        data = np.asarray(value, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)
        header = msgpack.packb((data.dtype.name, list(data.shape)))
        return msgpack.ExtType(_ARRAY_EXT, len(header).to_bytes(4, "little") + header +
                               data.tobytes())
    raise NotPlain(f"a {type(value).__name__} cannot be checkpointed")


def _numeric_dtype(name: str) -> np.dtype:
    try:
        dtype = np.dtype(name)
    except TypeError:
        import ml_dtypes  # bfloat16 and the float8 types JAX uses

        found = getattr(ml_dtypes, name, None)
        if not isinstance(found, type):
            raise ValueError(f"unknown dtype {name!r}") from None
        dtype = np.dtype(found)
    if dtype.kind not in _NUMERIC_KINDS and dtype.name not in _ML_DTYPE_NAMES:
        raise ValueError(f"dtype {name!r} is not numeric")
    return dtype


_ML_DTYPE_NAMES = ("bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz",
                   "float8_e4m3fnuz", "float8_e5m2fnuz", "int4", "uint4")


def _unpack_array(code: int, data: bytes) -> np.ndarray:
    import msgpack

    if code != _ARRAY_EXT:
        raise ValueError(f"unknown extension type {code}")
    size = int.from_bytes(data[:4], "little")
    name, shape = msgpack.unpackb(data[4:4 + size], raw=False)
    dtype = _numeric_dtype(str(name))
    shape = tuple(int(n) for n in shape)
    body = data[4 + size:]
    if any(n < 0 for n in shape) or len(body) != math.prod(shape) * dtype.itemsize:
        raise ValueError("array size does not match its shape")
    return np.frombuffer(body, dtype=dtype).reshape(shape).copy()


def write_msgpack(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plain data and numpy arrays) as MessagePack, atomically."""
    import msgpack

    blob = msgpack.packb({FORMAT_KEY: FORMAT_VERSION, **payload}, default=_pack_array,
                         use_bin_type=True)
    write_atomically(path, lambda f: f.write(blob))


def read_msgpack(path: Path, framework_fields: tuple[str, ...]) -> dict[str, Any]:
    """A checkpoint written by :func:`write_msgpack` (arrays as numpy, tuples as lists)."""
    import msgpack

    try:
        blob = path.read_bytes()
        payload = check_payload(msgpack.unpackb(blob, ext_hook=_unpack_array, raw=False,
                                                strict_map_key=False), path, framework_fields)
        return rebuild(payload)
    except PacelineError:
        raise
    except Exception as exc:  # noqa: BLE001 - any decoding failure is the same sentence
        raise unreadable(path) from exc


# ---- torch.save (PyTorch) ---------------------------------------------------------------------
def write_torch(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plain data and tensors) with ``torch.save``, atomically."""
    import torch

    write_atomically(path, lambda f: torch.save({FORMAT_KEY: FORMAT_VERSION, **payload}, f))


def read_torch(path: Path, framework_fields: tuple[str, ...]) -> dict[str, Any]:
    """A checkpoint written by :func:`write_torch`, read with ``weights_only=True``."""
    import torch

    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        return rebuild(check_payload(payload, path, framework_fields))
    except PacelineError:
        raise
    except Exception as exc:  # noqa: BLE001 - corrupt, truncated or a forbidden global
        raise unreadable(path) from exc
