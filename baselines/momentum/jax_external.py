"""Heavy-ball momentum baseline, JAX, external-tuning ruleset (tuning_search_space.json).

    paceline run --workload mnist --framework jax --submission momentum --trials 5
"""

from baselines.momentum.jax_impl import (  # noqa: F401
    data_selection,
    get_batch_size,
    init_optimizer_state,
    prepare_for_eval,
    update_params,
)
