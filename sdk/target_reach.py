"""When an evaluation curve first reaches a target: the one rule the runner's summaries and
the scorer share.

The scorer compares non-strictly (``<=`` for minimised metrics, ``>=`` for maximised ones),
unlike the runner's stopping test, which is strict (AlgoPerf's ``submission_runner.py`` and ``scoring/performance_profile.py``).
NaN never reaches a target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

# Metric names the reference scorer treats as minimised / maximised (substring match).
MINIMIZED_METRICS = ("ce_loss", "error_rate", "ctc_loss", "wer", "l1_loss", "loss", "ppl")
MAXIMIZED_METRICS = ("mean_average_precision", "ssim", "accuracy", "bleu")
# maximised metrics whose perfect value is 100 rather than 1 (AlgoPerf reports BLEU in points)
PERCENT_METRICS = frozenset({"bleu"})


def is_minimized(metric_name: str) -> bool:
    """Whether lower is better for ``metric_name`` (e.g. ``'wer'``, ``'validation/loss'``)."""
    name = metric_name.split("/")[-1]
    for prefix in ("best_", "final_"):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if any(m in name for m in MINIMIZED_METRICS):
        return True
    if any(m in name for m in MAXIMIZED_METRICS):
        return False
    raise ValueError(f"Cannot tell whether metric {metric_name!r} is minimised or maximised.")


def error_of(value: float, metric: str) -> float:
    """How far ``value`` of ``metric`` is from a perfect score: the value itself for minimised
    metrics (loss, WER, perplexity), ``1 - value`` for accuracy, mAP and SSIM, ``100 - value``
    for BLEU. Ratios of errors compare distances to a target across workloads.

        >>> round(error_of(0.75, "ssim"), 2), error_of(30.0, "bleu"), error_of(0.4, "wer")
        (0.25, 70.0, 0.4)
    """
    if is_minimized(metric):
        return value
    return (100.0 if metric in PERCENT_METRICS else 1.0) - value


def value_of(error: float, metric: str) -> float:
    """The value of ``metric`` that is ``error`` away from a perfect score (:func:`error_of`)."""
    if is_minimized(metric):
        return error
    return (100.0 if metric in PERCENT_METRICS else 1.0) - error


def shortfall(best: float, target: float, minimized: bool) -> float:
    """How far ``best`` falls short of ``target``, as a share of the target's value
    (the gap itself for a target of 0): positive short of it, negative beyond it; ``nan`` for
    a value that is not finite. The fidelity report's disagreements and the search's value of
    a miss both read this.

        >>> round(shortfall(0.4, 0.5, minimized=False), 2), round(shortfall(0.51, 0.5, True), 2)
        (0.2, 0.02)
    """
    if not math.isfinite(best):
        return math.nan
    gap = best - target if minimized else target - best
    return gap / abs(target) if target else gap


def first_reaching_index(values: Sequence[float], target: float, minimized: bool) -> int | None:
    """Index of the first value at or beyond ``target`` (non-strict), or ``None``."""
    for i, value in enumerate(values):
        if value is None:
            continue
        v = float(value)
        if math.isnan(v):
            continue
        if (v <= target) if minimized else (v >= target):
            return i
    return None


def best_so_far(curve: Sequence[tuple[float, float]],
                minimized: bool) -> list[tuple[float, float]]:
    """The running best of a ``(seconds, value)`` curve, signed so that higher is better.

    Values of a minimised metric are negated; points with a non-finite time or value are
    left out. Early stopping, the imputation of censored trials and the anchored targets all
    read this one envelope.

        >>> best_so_far([(0, 0.5), (10, 0.4), (20, 0.45)], minimized=True)
        [(0, -0.5), (10, -0.4), (20, -0.4)]
    """
    sign = -1.0 if minimized else 1.0
    envelope: list[tuple[float, float]] = []
    best = -math.inf
    for t, v in curve:
        if math.isfinite(t) and math.isfinite(v):
            best = max(best, sign * v)
            envelope.append((t, best))
    return envelope
