"""ogbg's target metric, mean average precision over tasks, computed as the official workload.

For each task that has at least one 0 label and one 1 label, the average precision (AP) of
the sigmoid probabilities is taken over the *labelled* examples; the metric is the mean over
those tasks (NaN when there are none). As upstream, the "has a 0 label" check counts the
missing labels too (they are stored as 0), so a task whose labelled examples are all positive
gets AP 1.0 instead of being skipped (AlgoPerf's algoperf/workloads/ogbg/metrics.py).

AP is sklearn's ``average_precision_score``: the sum over distinct score thresholds (highest
first) of the recall gained times the precision at that threshold.
"""

from __future__ import annotations

import numpy as np


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """AP of binary ``labels`` ranked by ``scores`` (sklearn's definition, ties grouped)."""
    labels = np.asarray(labels, np.float64)
    scores = np.asarray(scores, np.float64)
    order = np.argsort(-scores, kind="mergesort")
    labels, scores = labels[order], scores[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_pos = np.cumsum(labels)[last_of_tie]
    if len(true_pos) == 0 or true_pos[-1] == 0:
        return 0.0
    precision = true_pos / (last_of_tie + 1)
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def mean_average_precision(logits: np.ndarray, labels: np.ndarray, mask: np.ndarray) -> float:
    """Mean over tasks of the AP on labelled examples ([examples, tasks] arrays)."""
    logits = np.asarray(logits, np.float64)
    labels = np.asarray(labels)
    mask = np.asarray(mask).astype(bool)
    probs = 1.0 / (1.0 + np.exp(-logits))
    values = []
    for task in range(labels.shape[1]):
        column = labels[:, task]
        if np.any(column == 0) and np.any(column == 1):
            keep = mask[:, task]
            values.append(average_precision(column[keep], probs[keep, task]))
    return float(np.mean(values)) if values else float("nan")


def eval_metrics(logits: np.ndarray, labels: np.ndarray, weights: np.ndarray
                 ) -> dict[str, float]:
    """Official eval metrics: masked accuracy and loss (means over labels), and mAP."""
    count = max(float(weights.sum()), 1.0)
    accuracy = float((((logits > 0) == (labels > 0.5)) * weights).sum() / count)
    z = logits.astype(np.float64)
    bce = np.maximum(z, 0) - z * labels + np.log1p(np.exp(-np.abs(z)))
    return {"accuracy": accuracy, "loss": float((bce * weights).sum() / count),
            "mean_average_precision": mean_average_precision(logits, labels, weights)}
