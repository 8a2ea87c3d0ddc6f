"""Schedule-free AdamW, PyTorch, external-tuning ruleset (search space:
tuning_search_space.json, the points of the v0.5 competition's external submission).

    paceline run --workload mnist --framework pytorch --submission schedule_free_adamw
"""

from baselines.schedule_free_adamw.pytorch_impl import (  # noqa: F401
    data_selection,
    get_batch_size,
    init_optimizer_state,
    prepare_for_eval,
    update_params,
)
