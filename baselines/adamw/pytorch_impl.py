"""AdamW for PyTorch: ``torch.optim.AdamW`` driven by NAdamW's training step and schedule."""

from __future__ import annotations

import torch

from baselines.nadamw.pytorch_impl import (  # noqa: F401 - shared submission functions
    data_selection,
    get_batch_size,
    prepare_for_eval,
    update_params,
)
from sdk import spec


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    """``torch.optim.AdamW`` plus the warmup/cosine step counts ``update_params`` reads."""
    del model_state, rng
    hp = hyperparameters
    optimizer = torch.optim.AdamW(model_params.parameters(), lr=hp.learning_rate,
                                  betas=(1.0 - hp.one_minus_beta1, hp.beta2), eps=1e-8,
                                  weight_decay=hp.weight_decay, foreach=True)
    warmup = int(hp.warmup_factor * workload.step_hint)
    return {"optimizer": optimizer, "warmup_steps": warmup, "total_steps": workload.step_hint}


__all__ = ["get_batch_size", "init_optimizer_state", "update_params", "prepare_for_eval",
           "data_selection"]
