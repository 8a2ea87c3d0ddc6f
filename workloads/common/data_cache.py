"""Where prepared datasets live, and building them once, deterministically and atomically.

The cache root is ``$PACELINE_DATA_DIR`` or ``~/.cache/paceline/data``. Each dataset is a
folder ``<root>/<name>/`` holding ``.npz`` files plus a ``DONE`` marker written last, so an
interrupted preparation is simply redone on the next call. A generated dataset passes its
``recipe`` (the settings its generator depends on); the marker records the recipe's
fingerprint, and a cache built from another recipe is rebuilt rather than silently reused
(a folder the user gives with ``--data-dir`` is used as it is).

    paceline data prepare mnist
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError

MARKER = "DONE"


def cache_root() -> Path:
    env = os.environ.get("PACELINE_DATA_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "paceline" / "data"


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of a prepared dataset (``data_dir`` overrides the cache)."""
    return Path(data_dir).expanduser() if data_dir else cache_root() / name


def is_prepared(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def fingerprint(recipe: Any) -> str:
    """A short, stable hash of a JSON-able recipe."""
    import hashlib

    text = json.dumps(recipe, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def is_current(folder: Path, recipe: Any) -> bool:
    """Whether ``folder`` is prepared and was built from ``recipe`` (``None``: any recipe)."""
    if not is_prepared(folder):
        return False
    if recipe is None:
        return True
    return (folder / MARKER).read_text().strip() == f"recipe {fingerprint(recipe)}"


def prepare(name: str, build: Callable[[Path], dict[str, Any]], data_dir: str | None = None,
            force: bool = False, recipe: Any = None) -> Path:
    """Build dataset ``name`` into its folder unless it is already complete.

    ``build(tmp_folder)`` writes the files and returns facts to record (sizes, sources); the
    folder is swapped in only once complete.
    """
    folder = dataset_dir(name, data_dir)
    # A user's folder is used as it is; only the cache is held to the current recipe.
    if not force and (is_prepared(folder) if data_dir else is_current(folder, recipe)):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.partial{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    started = time.time()
    try:
        info = build(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    info = {"name": name, "seconds": round(time.time() - started, 2), **(info or {})}
    (tmp / "info.json").write_text(json.dumps(info, indent=2) + "\n")
    (tmp / MARKER).write_text(f"recipe {fingerprint(recipe)}\n" if recipe is not None
                              else "ok\n")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return folder


def load_npz(folder: Path, split: str) -> dict[str, np.ndarray]:
    """``<folder>/<split>.npz`` as a dict of arrays."""
    path = folder / f"{split}.npz"
    if not path.is_file():
        raise PacelineError(
            f"Dataset file {path} is missing; run `paceline data prepare` or pass --data-dir."
        )
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def save_npz(folder: Path, split: str, compress: bool = False, **arrays: np.ndarray) -> None:
    """Write ``<folder>/<split>.npz`` byte-for-byte reproducibly.

    ``np.savez`` stamps the current time into the zip entries; this writes the same ``.npy``
    members with a fixed timestamp, so preparing a dataset twice gives identical files.
    """
    import io
    import zipfile

    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(folder / f"{split}.npz", "w", compression=method) as zf:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            zf.writestr(info, buffer.getvalue())
