"""The official ogbg data: TFDS ``ogbg_molpcba:0.1.3`` as AlgoPerf's data setup leaves it.

    paceline data check --scale official --data-dir DIR
    paceline run --scale official --workload ogbg --submission nadamw --data-dir DIR

AlgoPerf's ``datasets/dataset_setup.py`` (``download_ogbg``) runs
``tfds.builder('ogbg_molpcba:0.1.3', data_dir=<root>/ogbg).download_and_prepare()``, which
writes ``<root>/ogbg/ogbg_molpcba/0.1.3/``: ``dataset_info.json``, ``features.json`` and the
TFRecord shards ``ogbg_molpcba-{train,validation,test}.tfrecord-NNNNN-of-MMMMM``. Each record
is one molecule as a ``tf.train.Example`` with the flattened features ``node_feat`` float32
[nodes, 9], ``edge_feat`` float32 [edges, 3], ``edge_index`` int64 [edges, 2] (node indices
within the molecule), ``num_nodes`` and ``num_edges`` int64 [1], ``labels`` float32 [128] with
NaN for missing. ``--data-dir`` may name ``<root>``, ``<root>/ogbg`` (AlgoPerf's
``--data_dir``) or the version folder itself.

Read here without TensorFlow (:mod:`workloads.common.tfrecord`). As AlgoPerf's
``algoperf/workloads/ogbg/input_pipeline.py`` does, each undirected edge becomes two directed
edges: the listed ones first, then the reversed ones, with the same features.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.common import tfrecord

NAME = "ogbg_molpcba"
VERSION = "0.1.3"
SPLITS = ("train", "validation", "test")
NODE_FEATURES, EDGE_FEATURES, NUM_TASKS = 9, 3, 128
FEATURES = ("node_feat", "edge_feat", "edge_index", "num_nodes", "num_edges", "labels")


def _candidates(data_dir: Path) -> list[Path]:
    return [data_dir / NAME / VERSION, data_dir / "ogbg" / NAME / VERSION, data_dir]


def version_dir(data_dir: str | Path | None) -> Path:
    """The ``ogbg_molpcba/0.1.3`` folder that ``data_dir`` holds (or is)."""
    if not data_dir:
        raise PacelineError("The official ogbg workloads need --data-dir: the folder where "
                            "AlgoPerf's dataset_setup.py put ogbg (it holds "
                            f"{NAME}/{VERSION}/).")
    root = Path(data_dir).expanduser()
    for folder in _candidates(root):
        if (folder / "dataset_info.json").is_file():
            return folder
    raise PacelineError(f"{root} holds no {NAME}/{VERSION}/dataset_info.json; give --data-dir "
                        "the folder AlgoPerf's dataset_setup.py --ogbg wrote (<data_dir>/ogbg).")


def _feature_names(node: object) -> set[str]:
    """Every key of a parsed ``features.json`` (its layout differs between TFDS versions)."""
    if isinstance(node, dict):
        return set(node).union(*(_feature_names(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_feature_names(v) for v in node))
    return set()


def _check_features(folder: Path) -> list[str]:
    path = folder / "features.json"
    try:
        names = _feature_names(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return [f"{path} is missing (TFDS writes it beside dataset_info.json)."]
    except (OSError, ValueError) as exc:
        return [f"{path} is not readable JSON ({exc})."]
    missing = [name for name in FEATURES if name not in names]
    return [f"{path} lacks the features {', '.join(missing)}."] if missing else []


def check(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for the official ogbg workloads, one sentence each (empty: usable)."""
    try:
        folder = version_dir(data_dir)
        tfrecord.dataset_info(folder)
    except PacelineError as exc:
        return [str(exc)]
    problems = _check_features(folder)
    for split in SPLITS:
        try:
            shard = tfrecord.split_shards(folder, split)[0]
            first = next(iter(tfrecord.read_records(shard)), None)
            if first is not None:
                _graph(tfrecord.parse_example(first), shard)
        except PacelineError as exc:
            problems.append(str(exc))
    return problems


def _graph(example: dict, path: Path) -> tuple[np.ndarray, ...]:
    """One molecule's (nodes, edges, senders, receivers, labels), edges made bidirectional."""
    missing = [name for name in FEATURES if name not in example]
    if missing:
        raise tfrecord.TFRecordError(f"{path} has a record without {', '.join(missing)}; "
                                     f"it is not {NAME} {VERSION} data.")
    n_node = int(np.sum(example["num_nodes"]))
    nodes = np.asarray(example["node_feat"], np.float32)
    edge_index = np.asarray(example["edge_index"], np.int64)
    edges = np.asarray(example["edge_feat"], np.float32)
    labels = np.asarray(example["labels"], np.float32)
    n_edge = len(edge_index) // 2
    if (nodes.size != NODE_FEATURES * n_node or edges.size != EDGE_FEATURES * n_edge
            or len(edge_index) % 2 or labels.size != NUM_TASKS
            or (n_edge and not 0 <= edge_index.min() <= edge_index.max() < n_node)):
        raise tfrecord.TFRecordError(f"{path} has a molecule whose feature sizes do not match "
                                     f"{NAME} {VERSION} (9 node, 3 edge features, 128 labels).")
    pairs = edge_index.reshape(n_edge, 2)
    edges = edges.reshape(n_edge, EDGE_FEATURES)
    return (nodes.reshape(n_node, NODE_FEATURES), np.concatenate([edges, edges]),
            np.concatenate([pairs[:, 0], pairs[:, 1]]), np.concatenate([pairs[:, 1], pairs[:, 0]]),
            labels)


def load_split(data_dir: str | Path | None, split: str) -> dict[str, np.ndarray]:
    """All molecules of ``split`` (train, validation or test) in the arrays
    :class:`workloads.ogbg.batching.GraphSplit` takes, in shard and record order."""
    folder = version_dir(data_dir)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("nodes", "edges", "s", "r", "labels")}
    for path in tfrecord.split_shards(folder, split):
        for record in tfrecord.read_records(path):
            for key, value in zip(parts, _graph(tfrecord.parse_example(record), path),
                                  strict=True):
                parts[key].append(value)
    if not parts["labels"]:
        raise PacelineError(f"{folder} holds no molecules in split '{split}'.")
    return {
        "node_features": np.concatenate(parts["nodes"]),
        "edge_features": np.concatenate(parts["edges"]),
        "senders": np.concatenate(parts["s"]),
        "receivers": np.concatenate(parts["r"]),
        "n_node": np.array([len(v) for v in parts["nodes"]], np.int64),
        "n_edge": np.array([len(v) for v in parts["edges"]], np.int64),
        "labels": np.stack(parts["labels"]),
    }
