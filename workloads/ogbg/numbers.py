"""Dev-scale ruleset numbers of ``ogbg`` and its official variants.

Each workload's v0.5 numbers sit in a generated block that ``paceline targets <name> --scale
dev --write`` rewrites (docs/targets.md); v0.6 follows from the official v0.5 -> v0.6 budget
and step-hint ratios. Variants keep the base workload's budget, eval period and step hint, as
AlgoPerf's variants do; only their targets are their own.

PROVISIONAL (until the lead's `paceline targets` calibration on a quiet 2-core machine):
obtained with ``python benchmarks/bench_graph_text.py calibrate ogbg --steps 1800 --points 3
--seeds 3`` (NAdamW's first three search-space points and three heavy-ball momentum points
for 1800 steps each, the best rerun with three seeds; time measured as single-thread CPU
seconds per step on a busy shared machine) and, for the variants, ``... variant <name>
--base <the base's JSON>`` (the base's best point rerun with three seeds on the variant).
The runs are summarised in docs/workloads/ogbg.md.
"""

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version

# paceline-targets: begin ogbg
OGBG = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.5985,
    test_target_value=0.582,
    max_allowed_runtime_sec=72.2,
    eval_period_time_sec=7.1,
    step_hint=2400,
    metric_minimized=False,
)
# paceline-targets: end ogbg

# paceline-targets: begin ogbg_gelu
OGBG_GELU = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.5985,
    test_target_value=0.582,
    max_allowed_runtime_sec=72.2,
    eval_period_time_sec=7.1,
    step_hint=2400,
    metric_minimized=False,
)
# paceline-targets: end ogbg_gelu

# paceline-targets: begin ogbg_silu
OGBG_SILU = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.5985,
    test_target_value=0.582,
    max_allowed_runtime_sec=72.2,
    eval_period_time_sec=7.1,
    step_hint=2400,
    metric_minimized=False,
)
# paceline-targets: end ogbg_silu

# paceline-targets: begin ogbg_model_size
OGBG_MODEL_SIZE = WorkloadNumbers(
    target_metric_name='mean_average_precision',
    validation_target_value=0.5985,
    test_target_value=0.582,
    max_allowed_runtime_sec=72.2,
    eval_period_time_sec=7.1,
    step_hint=2400,
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
