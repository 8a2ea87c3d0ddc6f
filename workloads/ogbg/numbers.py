"""Dev-scale ruleset numbers of ``ogbg`` and its official variants.

Each workload's v0.5 numbers sit in a generated block that ``paceline targets <name> --scale
dev --write`` rewrites (docs/targets.md); v0.6 follows from the official v0.5 -> v0.6 budget
and step-hint ratios. Variants keep the base workload's budget, eval period and step hint, as
AlgoPerf's variants do; only their targets are their own.

PROVISIONAL (until the lead's `paceline targets` calibration on a quiet 2-core machine):
CALIBRATION_NOTE
"""

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version

# paceline-targets: begin ogbg
OGBG = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.4,
    test_target_value=0.38,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end ogbg

# paceline-targets: begin ogbg_gelu
OGBG_GELU = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.4,
    test_target_value=0.38,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end ogbg_gelu

# paceline-targets: begin ogbg_silu
OGBG_SILU = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.4,
    test_target_value=0.38,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end ogbg_silu

# paceline-targets: begin ogbg_model_size
OGBG_MODEL_SIZE = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.4,
    test_target_value=0.38,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end ogbg_model_size

DEV_NUMBERS = {
    name: dev_numbers_by_version(name, numbers) for name, numbers in (
        ("ogbg", OGBG),
        ("ogbg_gelu", OGBG_GELU),
        ("ogbg_silu", OGBG_SILU),
        ("ogbg_model_size", OGBG_MODEL_SIZE),
    )
}
