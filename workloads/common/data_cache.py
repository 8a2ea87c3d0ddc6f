"""Where prepared datasets live, and building them once, deterministically and atomically.

The cache root is ``$PACELINE_DATA_DIR`` or ``~/.cache/paceline/data``; ``--data-dir DIR``
names another root. Each dataset is a folder ``<root>/<name>/`` holding ``.npz`` files plus
a ``DONE`` marker written last, so an interrupted preparation is simply redone on the next
call. A generated dataset passes its ``recipe`` (the settings its generator depends on); the
marker records the recipe's fingerprint, and a cache built from another recipe is rebuilt
rather than silently reused (a folder under ``--data-dir`` is used as it is).

Nothing paceline did not make is deleted or overwritten. A dataset is built in
``<root>/.<name>.partial<pid>/``, whose first file is paceline's ownership marker
(:data:`OWNER`), and renamed into place when complete; a folder is replaced only when it
carries that marker or ``DONE`` (or is empty), and a partial build is removed only when its
marker names a process of this machine that has ended. A ``<root>/<name>`` holding anything
else, or a file given as ``--data-dir``, is one sentence (:class:`~sdk.errors.PacelineError`).
A ``--data-dir`` that is itself a prepared dataset (the layout before datasets got their own
folder inside it) is read as it is.

    paceline data prepare mnist
    paceline data prepare mnist --data-dir ~/datasets     # builds ~/datasets/mnist/
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError

MARKER = "DONE"
OWNER = ".paceline-dataset"  # the first file of every folder paceline builds


def cache_root() -> Path:
    env = os.environ.get("PACELINE_DATA_DIR")
    root = Path(env).expanduser() if env else Path.home() / ".cache" / "paceline" / "data"
    if root.exists() and not root.is_dir():
        raise PacelineError(f"PACELINE_DATA_DIR {root} is a file, not a folder.")
    return root


def user_dir(data_dir: str | os.PathLike) -> Path:
    """The folder given with ``--data-dir``, which may not exist yet but must not be a file."""
    folder = Path(data_dir).expanduser()
    if folder.exists() and not folder.is_dir():
        raise PacelineError(f"--data-dir {folder} is a file, not a folder.")
    return folder


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of dataset ``name``: ``<root>/<name>`` under the cache or ``data_dir``.

    A ``data_dir`` that is itself a prepared ``name`` (the earlier layout) is that folder.
    """
    if not data_dir:
        return cache_root() / name
    root = user_dir(data_dir)
    if is_prepared(root) and _built_name(root) in (None, name):
        return root
    return root / name


def readable_dir(name: str, data_dir: str | os.PathLike) -> Path:
    """Where to read ``name`` from a user's ``data_dir``: paceline's prepared folder in it if
    there is one, else ``data_dir`` itself (a folder of the user's own files)."""
    folder = dataset_dir(name, data_dir)
    return folder if is_prepared(folder) else user_dir(data_dir)


def source_dir(name: str, data_dir: str | None, prepare: Callable[[], Path]) -> Path:
    """Where a family reads ``name`` from: ``readable_dir`` of a ``data_dir``, which must
    exist, or else the cache, built by ``prepare()`` if needed."""
    if not data_dir:
        return prepare()
    folder = readable_dir(name, data_dir)
    if not folder.is_dir():
        raise PacelineError(f"--data-dir {folder} does not exist.")
    return folder


def is_prepared(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def _built_name(folder: Path) -> str | None:
    """The dataset name a prepared folder records in ``info.json`` (None if it has none)."""
    try:
        name = json.loads((folder / "info.json").read_text()).get("name")
    except (OSError, ValueError, AttributeError):
        return None
    return name if isinstance(name, str) else None


def is_owned(folder: Path) -> bool:
    """Whether paceline made ``folder``: it holds paceline's ownership marker or ``DONE``."""
    return (folder / OWNER).is_file() or is_prepared(folder)


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
    folder is swapped in only once complete, and only over a folder paceline made.
    """
    folder = dataset_dir(name, data_dir)
    # A user's folder is used as it is; only the cache is held to the current recipe.
    if not force and (is_prepared(folder) if data_dir else is_current(folder, recipe)):
        return folder
    _check_replaceable(folder, name)
    replace = folder.exists()
    root = folder.parent
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PacelineError(f"Cannot create the data folder {root} "
                            f"({exc.strerror or type(exc).__name__}).") from None
    remove_stale_builds(root, folder.name)
    tmp = root / f".{folder.name}.partial{os.getpid()}"
    if tmp.exists():
        if not is_owned(tmp):
            raise PacelineError(f"{tmp} is in the way of paceline's {name} build and was not "
                                "made by paceline; move it away.")
        shutil.rmtree(tmp)
    try:
        tmp.mkdir()
        (tmp / OWNER).write_text(json.dumps({"dataset": name, "pid": os.getpid(),
                                             "host": socket.gethostname()}) + "\n")
    except OSError as exc:
        raise PacelineError(f"Cannot write the data folder {root} "
                            f"({exc.strerror or type(exc).__name__}).") from None
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
    _swap_in(tmp, folder, replace)
    return folder


def _check_replaceable(folder: Path, name: str) -> None:
    """Refuse to build over a ``folder`` that paceline did not make."""
    if not folder.exists() and not folder.is_symlink():
        return
    if folder.is_symlink() or not folder.is_dir():
        raise PacelineError(f"{folder} is in the way of paceline's {name} data and was not "
                            "made by paceline; move it away or give another --data-dir.")
    if not is_owned(folder) and any(folder.iterdir()):
        raise PacelineError(f"{folder} holds files paceline did not make, so paceline does not "
                            f"build its {name} data there; move them away or give another "
                            "--data-dir.")


def _swap_in(tmp: Path, folder: Path, replace: bool) -> None:
    """Rename the complete build ``tmp`` to ``folder``.

    With ``replace``, the earlier build paceline made (or an empty folder) is moved aside
    first and then removed; without, a folder another process finished meanwhile is kept.
    """
    old = folder.with_name(f".{folder.name}.old{os.getpid()}")
    moved = False
    if folder.exists() and not replace and is_prepared(folder):
        shutil.rmtree(tmp, ignore_errors=True)
        return
    if folder.exists():
        _check_replaceable(folder, folder.name)  # still ours after the build
        os.replace(folder, old)
        moved = True
    try:
        os.replace(tmp, folder)
    except OSError:
        if not is_prepared(folder):  # not another process's finished build either
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    if moved:
        shutil.rmtree(old, ignore_errors=True)


def remove_stale_builds(root: Path, name: str) -> list[Path]:
    """Remove ``<root>/.<name>.partial<pid>`` and ``.<name>.old<pid>`` folders that paceline
    made (they carry :data:`OWNER` or ``DONE``) in a process of this machine that has ended.

    A kill during a build leaves such a folder; a folder without paceline's marker, or whose
    process still runs or ran on another machine, is kept. Returns the folders removed.
    """
    from sdk.trial_logs import pid_is_alive

    removed = []
    host = socket.gethostname()
    for kind in ("partial", "old"):
        for entry in root.glob(f".{name}.{kind}*"):
            digits = entry.name[len(f".{name}.{kind}"):]
            if not (digits.isdigit() and entry.is_dir() and not entry.is_symlink()
                    and is_owned(entry)):
                continue
            pid = int(digits)
            try:
                owner = json.loads((entry / OWNER).read_text())
            except (OSError, ValueError):
                owner = {}
            if not isinstance(owner, dict) or owner.get("host", host) != host:
                continue
            if pid == os.getpid() or pid_is_alive(pid):
                continue
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


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
