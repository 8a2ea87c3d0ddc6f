"""Reading the finewebedu_lm data that AlgoPerf's data setup writes, and checking it is there.

AlgoPerf's ``dataset_setup.py --finewebedu`` tokenises FineWeb-Edu sample-10BT with GPT-2's
tokenizer (every document followed by EOS) and saves Hugging Face ``datasets`` folders with
``save_to_disk``; its input pipeline (AlgoPerf algoperf/workloads/finewebedu_lm/
input_pipeline.py) reads ``<data_dir>/train`` (train and eval_train) and ``<data_dir>/val``
(validation) with ``load_from_disk`` and uses the ``input_ids`` column. Such a folder holds
``state.json`` (its ``_data_files`` name the shards in order), ``dataset_info.json`` and
``data-XXXXX-of-NNNNN.arrow`` shards in Arrow's IPC stream format; the shards are memory-mapped
here (pyarrow), so nothing is copied into memory until a window is read.

    paceline data check --scale official --data-dir /data/finewebedu
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.finewebedu_lm.windows import TokenStream

FOLDERS = {"train": "train", "eval_train": "train", "validation": "val"}
COLUMN = "input_ids"
# Folder names AlgoPerf's setup has used under its data dir; the data dir may also be the
# folder itself.
SETUP_SUBDIRS = ("finewebedu", "fineweb_edu_10B")


def dataset_root(data_dir: str | Path) -> Path:
    """The folder holding ``train/`` and ``val/``: ``data_dir`` or one of its setup folders."""
    root = Path(data_dir).expanduser()
    for candidate in (root, *(root / sub for sub in SETUP_SUBDIRS)):
        if (candidate / "train").is_dir() or (candidate / "val").is_dir():
            return candidate
    return root


def shard_paths(folder: Path) -> list[Path]:
    """The Arrow shards of a ``save_to_disk`` folder, in the order ``state.json`` lists them."""
    state = folder / "state.json"
    if state.is_file():
        try:
            names = [f["filename"] for f in json.loads(state.read_text())["_data_files"]]
        except (ValueError, KeyError, TypeError):
            raise PacelineError(f"{state} is not a Hugging Face datasets state file.") from None
        return [folder / name for name in names]
    return sorted(folder.glob("data-*.arrow"))


def _shard_tokens(path: Path) -> list[np.ndarray]:
    """The ``input_ids`` of one shard, every row's tokens in order, as zero-copy arrays."""
    import pyarrow as pa

    try:
        table = pa.ipc.open_stream(pa.memory_map(str(path))).read_all()
    except (OSError, pa.ArrowInvalid) as exc:
        raise PacelineError(f"Cannot read the Arrow shard {path} ({exc}).") from None
    if COLUMN not in table.column_names:
        raise PacelineError(f"{path} has no {COLUMN!r} column (it has "
                            f"{', '.join(table.column_names)}).")
    return [chunk.flatten().to_numpy(zero_copy_only=False)
            for chunk in table.column(COLUMN).chunks]


def token_stream(data_dir: str | Path, split: str) -> TokenStream:
    """The token stream of ``split`` (train, eval_train or validation) under ``data_dir``."""
    folder = dataset_root(data_dir) / FOLDERS[split]
    paths = shard_paths(folder) if folder.is_dir() else []
    if not paths:
        raise PacelineError(f"No finewebedu_lm {split} shards in {folder}; run AlgoPerf's "
                            "dataset_setup.py --finewebedu or pass the right --data-dir.")
    return TokenStream([piece for path in paths for piece in _shard_tokens(path)])


def check(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for official finewebedu_lm (empty: it is usable)."""
    root = dataset_root(data_dir)
    missing = []
    for name in sorted(set(FOLDERS.values())):
        folder = root / name
        if not folder.is_dir():
            missing.append(f"{folder}/ (a datasets save_to_disk folder)")
            continue
        absent = [p.name for p in shard_paths(folder) if not p.is_file()]
        if not shard_paths(folder):
            missing.append(f"{folder}/data-*.arrow shards")
        elif absent:
            missing.append(f"{folder}: shards {', '.join(absent)}")
    return missing
