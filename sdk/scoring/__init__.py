"""AlgoPerf scoring: time-to-target, performance profiles and the benchmark score.

The pipeline, one module per step:

* :mod:`~sdk.scoring.reader` finds trials in AlgoPerf's layout and reads eval curves;
* :mod:`~sdk.scoring.targets` holds the targets in force (ruleset tables, dev meta_data,
  a ``--targets`` JSON) and the versioned rules (:func:`scoring_rules`);
* :mod:`~sdk.scoring.time_to_target` reduces trials -> studies -> workloads;
* :mod:`~sdk.scoring.heldout_rule` applies the 4x and v0.5 held-out rules;
* :mod:`~sdk.scoring.profiles` computes ratios, profiles and scores over plain numbers;
* :mod:`~sdk.scoring.leaderboard` chains them; :mod:`~sdk.scoring.speedups`,
  :mod:`~sdk.scoring.report` and :mod:`~sdk.scoring.plot` present the result.

    paceline score logs/external_tuning --ruleset-version 0.6

    >>> from sdk.scoring import scoring_rules, score_times
    >>> rules = scoring_rules("0.6")
    >>> times = {"a": {w: 10.0 for w in rules.base_workloads},
    ...          "b": {w: 15.0 for w in rules.base_workloads}}
    >>> round(score_times(times, rules).scores["b"], 4)
    0.8333
"""

from sdk.scoring.heldout_rule import apply_heldout_rule, sample_held_out_workloads
from sdk.scoring.leaderboard import Leaderboard, Scores, score_submissions, score_times
from sdk.scoring.profiles import (
    benchmark_scores,
    exact_score,
    grid_score,
    performance_profile,
    performance_ratios,
    tau_grid,
)
from sdk.scoring.speedups import Speedup, speedups
from sdk.scoring.targets import ScoringRules, Target, rules_over, scoring_rules
from sdk.scoring.time_to_target import (
    SubmissionTimes,
    load_submission_times,
    load_submissions_times,
    pick_trial,
    trial_time,
)

__all__ = [
    "Leaderboard",
    "Scores",
    "ScoringRules",
    "Speedup",
    "SubmissionTimes",
    "Target",
    "apply_heldout_rule",
    "benchmark_scores",
    "exact_score",
    "grid_score",
    "load_submission_times",
    "load_submissions_times",
    "performance_profile",
    "performance_ratios",
    "pick_trial",
    "rules_over",
    "sample_held_out_workloads",
    "score_submissions",
    "score_times",
    "scoring_rules",
    "speedups",
    "tau_grid",
    "trial_time",
]
