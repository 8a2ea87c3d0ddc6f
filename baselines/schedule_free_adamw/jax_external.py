"""Schedule-free AdamW, JAX, external-tuning ruleset (search space: tuning_search_space.json).

    paceline run --workload mnist --framework jax --submission schedule_free_adamw
"""

from baselines.schedule_free_adamw.jax_impl import (  # noqa: F401
    data_selection,
    get_batch_size,
    init_optimizer_state,
    prepare_for_eval,
    update_params,
)
