"""Dev-scale ruleset numbers of ``finewebedu_lm``.

The numbers sit in a generated block that ``paceline targets finewebedu_lm --scale dev
--write`` rewrites (docs/targets.md); calibration.json beside this file records the runs
behind them. A dev workload has one table for every ruleset version; it is scored (in the
dev suite) only under the versions whose rules hold finewebedu_lm (a100-2026 and later).
AlgoPerf sets no test target for it, so the procedure sets none either.
"""

from sdk.rulesets import WorkloadNumbers

# paceline-targets: begin finewebedu_lm
FINEWEBEDU_LM = WorkloadNumbers(
    target_metric_name='ppl',
    validation_target_value=0.0,
    test_target_value=None,
    max_allowed_runtime_sec=80.0,
    eval_period_time_sec=8.0,
    step_hint=500,
    metric_minimized=True,
)
# paceline-targets: end finewebedu_lm

DEV_NUMBERS = {"finewebedu_lm": FINEWEBEDU_LM}
