"""Dev-scale ruleset numbers of ``imagenet_vit`` and its official variants.

Each workload's v0.5 numbers sit in a generated block that ``paceline targets <name> --scale
dev --write`` rewrites (docs/targets.md); v0.6 follows from the official v0.5 -> v0.6 budget
and step-hint ratios. Variants keep the base workload's budget, eval period and step hint, as
AlgoPerf's variants do; only their targets are their own.

calibration.json in this folder records the runs behind the numbers.
"""

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version

# paceline-targets: begin imagenet_vit
VIT = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.726,
    test_target_value=0.675,
    max_allowed_runtime_sec=53.3,
    eval_period_time_sec=7.0,
    step_hint=812,
    metric_minimized=False,
)
# paceline-targets: end imagenet_vit

# paceline-targets: begin imagenet_vit_glu
VIT_GLU = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.726,
    test_target_value=0.675,
    max_allowed_runtime_sec=53.3,
    eval_period_time_sec=7.0,
    step_hint=812,
    metric_minimized=False,
)
# paceline-targets: end imagenet_vit_glu

# paceline-targets: begin imagenet_vit_post_ln
VIT_POST_LN = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.726,
    test_target_value=0.675,
    max_allowed_runtime_sec=53.3,
    eval_period_time_sec=7.0,
    step_hint=812,
    metric_minimized=False,
)
# paceline-targets: end imagenet_vit_post_ln

# paceline-targets: begin imagenet_vit_map
VIT_MAP = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.726,
    test_target_value=0.675,
    max_allowed_runtime_sec=53.3,
    eval_period_time_sec=7.0,
    step_hint=812,
    metric_minimized=False,
)
# paceline-targets: end imagenet_vit_map

DEV_NUMBERS = {
    name: dev_numbers_by_version(name, numbers) for name, numbers in (
        ("imagenet_vit", VIT),
        ("imagenet_vit_glu", VIT_GLU),
        ("imagenet_vit_post_ln", VIT_POST_LN),
        ("imagenet_vit_map", VIT_MAP),
    )
}
