"""Nesterov momentum baseline, PyTorch, external-tuning ruleset (tuning_search_space.json).

The heavy-ball implementation with Nesterov's look-ahead switched on.

    paceline run --workload mnist --framework pytorch --submission nesterov --trials 5
"""

from baselines.momentum import pytorch_impl as _impl
from baselines.momentum.pytorch_impl import (  # noqa: F401
    data_selection,
    get_batch_size,
    prepare_for_eval,
    update_params,
)


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):  # noqa: ANN001, ANN201
    return _impl.init_optimizer_state(workload, model_params, model_state, hyperparameters,
                                      rng, nesterov=True)
