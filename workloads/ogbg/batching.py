"""Batches of molecular graphs padded to fixed budgets, as the official ogbg pipeline does.

A batch for a requested size ``b`` holds at most ``b`` real graphs, at most
``AVG_NODES_PER_GRAPH * b`` real nodes and at most ``AVG_EDGES_PER_GRAPH * b`` real (directed)
edges (officially 26 and 56 per graph), filled greedily in stream order (jraph's ``dynamically_batch``), then padded to
exactly ``b + 1`` graphs, ``AVG_NODES_PER_GRAPH * b + 1`` nodes and ``AVG_EDGES_PER_GRAPH * b``
edges: one padding graph owns every padding node and edge (padding edges join the first
padding node to itself), so every batch has the same shapes. A budget never drops below the
largest graph of the split, so any batch size works.

``targets`` are the labels with missing ones set to 0; ``weights`` is 1 for observed labels of
real graphs and 0 for missing labels and padding graphs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

# Budgets per requested graph: the mean heavy-atom count (8.79) and directed-edge count
# (18.84) of the QM9 dev graphs, rounded as the official 26/56 are for ogbg-molpcba.
AVG_NODES_PER_GRAPH = 9
AVG_EDGES_PER_GRAPH = 19
# The official budgets (AlgoPerf algoperf/workloads/ogbg/input_pipeline.py).
OFFICIAL_AVG_NODES_PER_GRAPH = 26
OFFICIAL_AVG_EDGES_PER_GRAPH = 56


class GraphsTuple(NamedTuple):
    """The fields of jraph's GraphsTuple, in its order (globals are unused: None)."""

    nodes: Any
    edges: Any
    receivers: Any
    senders: Any
    globals: Any
    n_node: Any
    n_edge: Any


class GraphSplit:
    """One split's graphs with per-graph offsets into the node and edge arrays."""

    def __init__(self, arrays: dict[str, np.ndarray], avg_nodes: int = AVG_NODES_PER_GRAPH,
                 avg_edges: int = AVG_EDGES_PER_GRAPH) -> None:
        self.arrays = arrays
        self.avg_nodes, self.avg_edges = avg_nodes, avg_edges
        self.n_node = arrays["n_node"].astype(np.int64)
        self.n_edge = arrays["n_edge"].astype(np.int64)
        self.node_start = np.concatenate([[0], np.cumsum(self.n_node)[:-1]])
        self.edge_start = np.concatenate([[0], np.cumsum(self.n_edge)[:-1]])
        self.num_graphs = len(self.n_node)
        self.num_tasks = arrays["labels"].shape[1]

    def budgets(self, batch_size: int) -> tuple[int, int, int]:
        """(max real graphs, max real nodes, max real edges) of a batch."""
        b = max(1, int(batch_size))
        nodes = max(self.avg_nodes * b, int(self.n_node.max(initial=1)))
        edges = max(self.avg_edges * b, int(self.n_edge.max(initial=0)))
        return b, nodes, edges

    def take(self, ids: np.ndarray, batch_size: int) -> dict[str, Any]:
        """The padded batch of graphs ``ids`` (which must fit the budgets)."""
        max_graphs, max_nodes, max_edges = self.budgets(batch_size)
        n_node, n_edge = self.n_node[ids], self.n_edge[ids]
        real_nodes, real_edges = int(n_node.sum()), int(n_edge.sum())
        node_idx = _ranges(self.node_start[ids], n_node)
        edge_idx = _ranges(self.edge_start[ids], n_edge)
        offsets = np.repeat(np.cumsum(n_node) - n_node, n_edge)
        a = self.arrays
        nodes = np.zeros((max_nodes + 1, a["node_features"].shape[1]), np.float32)
        nodes[:real_nodes] = a["node_features"][node_idx]
        edges = np.zeros((max_edges, a["edge_features"].shape[1]), np.float32)
        edges[:real_edges] = a["edge_features"][edge_idx]
        senders = np.full(max_edges, real_nodes, np.int64)
        receivers = np.full(max_edges, real_nodes, np.int64)
        senders[:real_edges] = a["senders"][edge_idx] + offsets
        receivers[:real_edges] = a["receivers"][edge_idx] + offsets
        num_pad_graphs = max_graphs + 1 - len(ids)
        graph_nodes = np.zeros(max_graphs + 1, np.int64)
        graph_edges = np.zeros(max_graphs + 1, np.int64)
        graph_nodes[: len(ids)], graph_edges[: len(ids)] = n_node, n_edge
        graph_nodes[len(ids)] = max_nodes + 1 - real_nodes
        graph_edges[len(ids)] = max_edges - real_edges
        labels = np.concatenate([a["labels"][ids],
                                 np.full((num_pad_graphs, self.num_tasks), np.nan, np.float32)])
        observed = ~np.isnan(labels)
        return {
            "inputs": GraphsTuple(nodes, edges, receivers, senders, None, graph_nodes,
                                  graph_edges),
            "targets": np.where(observed, labels, 0.0).astype(np.float32),
            "weights": observed.astype(np.float32),
        }

    def fitting_prefix(self, ids: np.ndarray, batch_size: int) -> int:
        """How many of ``ids`` (in order) go into one batch under the budgets."""
        max_graphs, max_nodes, max_edges = self.budgets(batch_size)
        ids = ids[:max_graphs]
        fits = ((np.cumsum(self.n_node[ids]) <= max_nodes)
                & (np.cumsum(self.n_edge[ids]) <= max_edges))
        return int(np.argmin(fits)) if not fits.all() else len(ids)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + c)`` for each (s, c), vectorised."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
    return shift + np.arange(total)


class TrainGraphBatches:
    """Endless shuffled, dynamically batched train graphs; ``skip`` jumps ahead exactly."""

    def __init__(self, split: GraphSplit, batch_size: int, seed: int,
                 transform: Any = None) -> None:
        self.split = split
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.transform = transform
        self.position = 0  # in the stream of shuffled graph indices
        self._cache: dict[int, np.ndarray] = {}

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch not in self._cache:
            self._cache = {epoch: np.random.default_rng([self.seed, epoch]).permutation(
                self.split.num_graphs)}
        return self._cache[epoch]

    def _upcoming(self, count: int) -> np.ndarray:
        n = self.split.num_graphs
        parts, pos = [], self.position
        while count > 0:
            epoch, offset = divmod(pos, n)
            chunk = self._permutation(epoch)[offset : offset + count]
            parts.append(chunk)
            count -= len(chunk)
            pos += len(chunk)
        return np.concatenate(parts)

    def next_ids(self) -> np.ndarray:
        """Graph indices of the next batch (advances the stream)."""
        ids = self._upcoming(self.batch_size)
        ids = ids[: self.split.fitting_prefix(ids, self.batch_size)]
        self.position += len(ids)
        return ids

    def skip(self, num_batches: int) -> None:
        for _ in range(int(num_batches)):
            self.next_ids()

    def __iter__(self) -> TrainGraphBatches:
        return self

    def __next__(self) -> dict[str, Any]:
        batch = self.split.take(self.next_ids(), self.batch_size)
        return self.transform(batch) if self.transform is not None else batch


def eval_graph_batches(split: GraphSplit, batch_size: int,
                       num_examples: int | None = None) -> Iterator[dict[str, Any]]:
    """One ordered pass over the first ``num_examples`` graphs, in padded batches.

    Batches have the budgets of ``batch_size`` graphs, except the last, which has the
    budgets of the graphs left (upstream pads it to the full size; the outputs are the same).
    """
    n = split.num_graphs if num_examples is None else min(split.num_graphs, num_examples)
    order = np.arange(n)
    start = 0
    while start < n:
        size = min(batch_size, n - start)  # the last batch is padded for what is left
        count = split.fitting_prefix(order[start:], size)
        yield split.take(order[start : start + count], size)
        start += count
