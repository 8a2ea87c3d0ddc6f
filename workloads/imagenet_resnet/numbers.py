"""Dev-scale ruleset numbers of ``imagenet_resnet`` and its official variants.

Each workload's v0.5 numbers sit in a generated block that ``paceline targets <name> --scale
dev --write`` rewrites (docs/targets.md); v0.6 follows from the official v0.5 -> v0.6 budget
and step-hint ratios. Variants keep the base workload's budget, eval period and step hint, as
AlgoPerf's variants do; only their targets are their own.

PROVISIONAL (until the lead's `paceline targets` calibration on a quiet 2-core machine):
obtained with ``python -m workloads.imagenet_resnet.provisional_calibration targets <name>``
(NAdamW and heavy-ball momentum, the target-setting procedure in miniature, time measured as
single-thread CPU seconds); see docs/workloads/imagenet_resnet.md for the runs.
"""

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version

# paceline-targets: begin imagenet_resnet
RESNET = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.88,
    test_target_value=0.87,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=10.0,
    step_hint=800,
    metric_minimized=False,
)
# paceline-targets: end imagenet_resnet

# paceline-targets: begin imagenet_resnet_silu
RESNET_SILU = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.88,
    test_target_value=0.87,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=10.0,
    step_hint=800,
    metric_minimized=False,
)
# paceline-targets: end imagenet_resnet_silu

# paceline-targets: begin imagenet_resnet_gelu
RESNET_GELU = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.88,
    test_target_value=0.87,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=10.0,
    step_hint=800,
    metric_minimized=False,
)
# paceline-targets: end imagenet_resnet_gelu

# paceline-targets: begin imagenet_resnet_large_bn_init
RESNET_LARGE_BN_INIT = WorkloadNumbers(
    target_metric_name='accuracy',
    validation_target_value=0.88,
    test_target_value=0.87,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=10.0,
    step_hint=800,
    metric_minimized=False,
)
# paceline-targets: end imagenet_resnet_large_bn_init

DEV_NUMBERS = {
    name: dev_numbers_by_version(name, numbers) for name, numbers in (
        ("imagenet_resnet", RESNET),
        ("imagenet_resnet_silu", RESNET_SILU),
        ("imagenet_resnet_gelu", RESNET_GELU),
        ("imagenet_resnet_large_bn_init", RESNET_LARGE_BN_INIT),
    )
}
