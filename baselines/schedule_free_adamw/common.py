"""What both frameworks' schedule-free AdamW submissions share: fixed point, warmup length."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

from baselines.nadamw.common import get_batch_size, hyper  # noqa: F401 - same batch sizes

Hyperparameters = namedtuple(
    "Hyperparameters",
    ["dropout_rate", "label_smoothing", "learning_rate", "one_minus_beta1", "beta2",
     "weight_decay", "warmup_factor", "r", "weight_lr_power"],
)

# The self-tuning point of the v0.5 competition's winning schedule-free AdamW submission
# (learning rate 0.0025, beta1 0.9, beta2 0.9955..., weight decay 0.0812..., warmup 2% of
# 0.75 * step_hint, r 0.75, weight_lr_power 2, label smoothing 0.2, dropout 0.1).
SELF_TUNING_POINT = Hyperparameters(
    dropout_rate=0.1,
    label_smoothing=0.2,
    learning_rate=0.0025,
    one_minus_beta1=0.1,
    beta2=0.9955159689799007,
    weight_decay=0.08121616522670176,
    warmup_factor=0.02 * 0.75,
    r=0.75,
    weight_lr_power=2.0,
)

# Defaults for the optional fields an external search space may leave out.
DEFAULTS = {"r": 0.0, "weight_lr_power": 2.0, "label_smoothing": 0.0, "dropout_rate": None}


def settings(hyperparameters: Any, step_hint: int) -> dict[str, float]:
    """The optimizer settings from a hyperparameter point (warmup in steps of ``step_hint``)."""
    hp = hyperparameters
    return {
        "lr": float(hp.learning_rate),
        "beta1": 1.0 - float(hp.one_minus_beta1),
        "beta2": float(hp.beta2),
        "weight_decay": float(hp.weight_decay),
        "warmup_steps": int(float(hp.warmup_factor) * step_hint),
        "r": float(hyper(hp, "r", DEFAULTS["r"])),
        "weight_lr_power": float(hyper(hp, "weight_lr_power", DEFAULTS["weight_lr_power"])),
    }
