"""Dev-scale ruleset numbers of ``wmt`` and its official variants.

Each workload's v0.5 numbers sit in a generated block that ``paceline targets <name> --scale
dev --write`` rewrites (docs/targets.md); v0.6 follows from the official v0.5 -> v0.6 budget
and step-hint ratios. Variants keep the base workload's budget, eval period and step hint, as
AlgoPerf's variants do; only their targets are their own.

PROVISIONAL (until the lead's `paceline targets` calibration on a quiet 2-core machine):
obtained with ``python benchmarks/bench_graph_text.py calibrate wmt --steps 800 --points 3
--seeds 3`` (NAdamW's first three search-space points and three heavy-ball momentum points
for 800 steps each, the best rerun with three seeds; time measured as single-thread CPU
seconds per step on a busy shared machine) and, for the variants, ``... variant <name>
--base <the base's JSON>`` (the base's best point rerun with three seeds on the variant).
The runs are summarised in docs/workloads/wmt.md.
"""

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version

# paceline-targets: begin wmt
WMT = WorkloadNumbers(
    target_metric_name='bleu',
    validation_target_value=30.0,
    test_target_value=30.0,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end wmt

# paceline-targets: begin wmt_post_ln
WMT_POST_LN = WorkloadNumbers(
    target_metric_name='bleu',
    validation_target_value=30.0,
    test_target_value=30.0,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end wmt_post_ln

# paceline-targets: begin wmt_attention_temp
WMT_ATTENTION_TEMP = WorkloadNumbers(
    target_metric_name='bleu',
    validation_target_value=30.0,
    test_target_value=30.0,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end wmt_attention_temp

# paceline-targets: begin wmt_glu_tanh
WMT_GLU_TANH = WorkloadNumbers(
    target_metric_name='bleu',
    validation_target_value=30.0,
    test_target_value=30.0,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=2000,
    metric_minimized=False,
)
# paceline-targets: end wmt_glu_tanh

DEV_NUMBERS = {
    name: dev_numbers_by_version(name, numbers) for name, numbers in (
        ("wmt", WMT),
        ("wmt_post_ln", WMT_POST_LN),
        ("wmt_attention_temp", WMT_ATTENTION_TEMP),
        ("wmt_glu_tanh", WMT_GLU_TANH),
    )
}
