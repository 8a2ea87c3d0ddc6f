"""The numbers the AlgoPerf rules fix, one table per ruleset version.

Every protocol number (studies, trials, budget multipliers, r_max, held-out usage, how the
budget edge is treated) and every official workload number (targets, budgets, eval periods,
step hints) lives here and nowhere else.

    >>> from sdk.rulesets import get_ruleset
    >>> get_ruleset("0.5").self_tuning_budget_multiplier
    3.0

Version "0.5" is the benchmark paper / first competition (arXiv 2306.07179, tag v0.5.0);
"0.6" is the rolling leaderboard's rules of tag v0.6.0 (8-GPU V100 budgets); "a100-2026" is
AlgoPerf's main branch since PR #904 (January 2026), the rules the 2026 self-tuning round was
scored under: nine base workloads (``finewebedu_lm`` added), 4x A100-40GB budgets, step hints
and eval periods. AlgoPerf itself still calls these numbers "0.6" (its targets file says
``benchmark_version: 0.6``), so paceline names them by the hardware the budgets were timed on
and the year, which stays true when a later version arrives; ``latest`` always means the
newest version paceline knows (the last of :data:`VERSIONS`).

    >>> resolve_version("latest")
    'a100-2026'

Paceline defaults to "0.5", as the user's design card asks; pass ``--ruleset-version 0.6`` or
``--ruleset-version latest`` for the current rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

RulesetVersion = Literal["0.5", "0.6", "a100-2026"]
Ruleset = Literal["external", "self"]

DEFAULT_VERSION: RulesetVersion = "0.5"
# Oldest first: the last one is the newest, the one ``latest`` names.
VERSIONS: tuple[str, ...] = ("0.5", "0.6", "a100-2026")
LATEST = "latest"
# What a --ruleset-version flag accepts: every version and the ``latest`` alias.
VERSION_CHOICES: tuple[str, ...] = (*VERSIONS, LATEST)
RULESETS: tuple[str, ...] = ("external", "self")

BASE_WORKLOADS: tuple[str, ...] = (
    "criteo1tb",
    "fastmri",
    "imagenet_resnet",
    "imagenet_vit",
    "librispeech_conformer",
    "librispeech_deepspeech",
    "ogbg",
    "wmt",
)
# The base workloads of version a100-2026, in AlgoPerf's order (workload_targets_latest_9wl.json).
A100_2026_BASE_WORKLOADS: tuple[str, ...] = (
    "criteo1tb",
    "fastmri",
    "imagenet_resnet",
    "imagenet_vit",
    "librispeech_conformer",
    "librispeech_deepspeech",
    "finewebedu_lm",
    "ogbg",
    "wmt",
)


def resolve_version(version: str | float) -> str:
    """The version a name stands for: ``"latest"`` is the newest one paceline knows."""
    key = str(version)
    return VERSIONS[-1] if key == LATEST else key


def version_label(version: str) -> str:
    """How text names a version: "v0.6" for a numbered one, the name itself ("a100-2026")."""
    return f"v{version}" if str(version)[:1].isdigit() else str(version)


# the framework the published baselines ran in (BASELINE_STEP_SHARES): its step share stands
# for a framework a table does not list
BASELINE_FRAMEWORK = "jax"


@dataclass(frozen=True)
class WorkloadNumbers:
    """The rule-fixed numbers of one workload under one ruleset version.

    ``max_allowed_runtime_sec`` is the *external-tuning* budget; self-tuning multiplies it by
    :attr:`RulesetTable.self_tuning_budget_multiplier`. ``test_target_value`` is ``None`` for a
    workload the rules give no test target (finewebedu_lm).
    """

    target_metric_name: str
    validation_target_value: float
    test_target_value: float | None
    max_allowed_runtime_sec: float
    eval_period_time_sec: float
    step_hint: int
    metric_minimized: bool


@dataclass(frozen=True)
class RulesetTable:
    """Protocol numbers of one ruleset version."""

    version: str
    num_studies: int
    num_trials: int
    self_tuning_budget_multiplier: float
    uses_held_out_workloads: bool
    held_out_ratio_cap: float  # a variant time must be within this factor of the fastest
    r_max: float  # performance profiles integrate tau over [1, r_max]
    tau_grid_points: int  # the reference scorer's linear tau grid
    # v0.6 checks the budget only when a step is eval-eligible and skips the eval when the
    # budget is spent; v0.5 checked after every step and still evaluated the step that
    # crossed the budget ("free eval", fixed in v0.6).
    budget_check_every_step: bool
    eval_after_budget_crossing: bool
    # v0.6 passes `train_state` to update_params and calls prepare_for_eval.
    has_prepare_for_eval: bool
    strip_framework_suffix_in_scoring: bool
    held_out_seed: int | None
    workloads: MappingProxyType = field(repr=False)
    # the workloads the score averages over (the performance profile divides by their number)
    base_workloads: tuple[str, ...] = BASE_WORKLOADS
    # the machine the budgets are seconds of: budgets of two versions compare only on the same one
    hardware: str = "8x V100 16GB"
    # {workload: {framework: the NAdamW baseline's steps in the budget over the step hint}},
    # measured on this hardware (see BASELINE_STEP_SHARES); a workload not listed: 1, the
    # step hint's own definition
    baseline_step_shares: MappingProxyType = field(
        default_factory=lambda: MappingProxyType({}), repr=False)

    def budget_sec(self, workload: str, ruleset: Ruleset) -> float:
        """The submission-time budget in seconds for an official workload."""
        base = self.workloads[workload].max_allowed_runtime_sec
        return base * self.budget_multiplier(ruleset)

    def budget_multiplier(self, ruleset: Ruleset) -> float:
        return self.self_tuning_budget_multiplier if ruleset == "self" else 1.0

    def baseline_step_share(self, workload: str, framework: str = BASELINE_FRAMEWORK) -> float:
        """How many step hints of NAdamW baseline steps an official budget buys in
        ``framework`` (1 if unmeasured)."""
        shares = self.baseline_step_shares.get(base_workload_name(workload), {})
        return float(shares.get(framework, shares.get(BASELINE_FRAMEWORK, 1.0)))


def _numbers(metric, val, test, runtime, period, hint, minimized) -> WorkloadNumbers:
    return WorkloadNumbers(metric, val, test, runtime, period, hint, minimized)


# Official base workload numbers (AlgoPerf's docs/DOCUMENTATION.md and algoperf/workloads/<name>/workload.py). Targets are identical in both
# versions; budgets and step hints changed in v0.6 (PR #838).
_TARGETS = {
    # name: (metric, validation target, test target, minimized)
    "criteo1tb": ("loss", 0.123735, 0.126041, True),
    "fastmri": ("ssim", 0.723653, 0.740633, False),
    "imagenet_resnet": ("accuracy", 1 - 0.22569, 1 - 0.3440, False),
    "imagenet_vit": ("accuracy", 1 - 0.22691, 1 - 0.3481, False),
    "librispeech_conformer": ("wer", 0.085884, 0.052981, True),
    "librispeech_deepspeech": ("wer", 0.119936, 0.074143, True),
    "ogbg": ("mean_average_precision", 0.28098, 0.268729, False),
    "wmt": ("bleu", 30.8491, 30.7219, False),
    # development workload (not scored)
    "mnist": ("accuracy", 0.97, 0.97, False),
}

_BUDGETS = {
    # name: (v0.5 runtime, v0.5 step hint, v0.6 runtime, v0.6 step hint, eval period)
    "criteo1tb": (7703, 10666, 7703, 10666, 120),
    "fastmri": (8859, 36189, 4430, 18094, 80),
    "imagenet_resnet": (63008, 186666, 66159, 195999, 510),
    "imagenet_vit": (77520, 186666, 69768, 167999, 420),
    "librispeech_conformer": (61068, 80000, 58015, 76000, 1440),
    "librispeech_deepspeech": (55506, 48000, 44405, 38400, 1440),
    "ogbg": (18477, 80000, 12011, 52000, 240),
    "wmt": (48151, 133333, 43336, 120000, 840),
    "mnist": (60, 7813, 60, 7813, 10),
}

# Version a100-2026 (AlgoPerf main after PR #904, 4x A100-40GB): (runtime, step hint, eval
# period), exactly as every meta_data_0.json of the 2026 self-tuning round records them
# (rolling_a100_scoring_branch/logs/self_tuning/*/study_*/*/trial_1/: 17 submissions, 456
# files, one value per workload). Eval periods are now a 25th of the budget (finewebedu_lm:
# a 12th).
_A100_2026_BUDGETS = {
    "criteo1tb": (8915, 10666, 356),
    "fastmri": (2745, 18094, 110),
    "imagenet_resnet": (49918, 195999, 1996),
    "imagenet_vit": (64292, 167999, 2571),
    "librispeech_conformer": (43680, 76000, 1747),
    "librispeech_deepspeech": (36949, 38400, 1447),
    "finewebedu_lm": (31967, 72000, 2571),
    "ogbg": (11303, 52000, 452),
    "wmt": (16114, 120000, 644),
    "mnist": (60, 7813, 10),  # development workload (not scored), as in v0.6
}
# finewebedu_lm: validation perplexity, minimised; AlgoPerf sets no test target (None).
_A100_2026_TARGETS = {"finewebedu_lm": ("ppl", 22.2995, None, True)}

# Official held-out variants (AlgoPerf's algoperf/workloads/workloads.py): (validation target, test target).
# Tag v0.5.0 had higher WMT validation targets (attention_temp 29.8611, glu_tanh 29.6517),
# lowered by commit cf436b09 before the v0.5 competition ran: its wmt_glu_tanh logs record
# 29.5779 in meta_data_0.json, and the published v0.5 scores reproduce only with it. So both
# versions use the lowered values.
VARIANT_TARGETS = {
    "criteo1tb_layernorm": (0.123757, 0.126152),
    "criteo1tb_resnet": (0.12415, 0.12648),
    "criteo1tb_embed_init": (0.129657, 0.131967),
    "fastmri_model_size": (0.723559, 0.740726),
    "fastmri_tanh": (0.717840, 0.734505),
    "fastmri_layernorm": (0.723284, 0.739996),
    "imagenet_resnet_silu": (0.75445, 0.6323),
    "imagenet_resnet_gelu": (0.76765, 0.6519),
    "imagenet_resnet_large_bn_init": (0.76526, 0.6423),
    "imagenet_vit_glu": (0.75738, 0.6359),
    "imagenet_vit_post_ln": (0.75312, 0.6286),
    "imagenet_vit_map": (0.77113, 0.6523),
    "librispeech_conformer_attention_temperature": (0.109977, 0.068065),
    "librispeech_conformer_layernorm": (0.09731, 0.05996),
    "librispeech_conformer_gelu": (0.094114, 0.056629),
    "librispeech_deepspeech_tanh": (0.150883, 0.098613),
    "librispeech_deepspeech_no_resnet": (0.131564, 0.079297),
    "librispeech_deepspeech_norm_and_spec_aug": (0.14342, 0.090976),
    "ogbg_gelu": (0.27771, 0.262926),
    "ogbg_silu": (0.282178, 0.272144),
    "ogbg_model_size": (0.269446, 0.253051),
    "wmt_post_ln": (30.0779, 29.8982),
    "wmt_attention_temp": (29.3379, 29.4143),
    "wmt_glu_tanh": (29.5779, 29.0515),
}
_V05_VARIANT_OVERRIDES: dict[str, float] = {}

# The v0.5 held-out draw (AlgoPerf's scoring/algoperf_v05/generate_held_out_workloads.py): one variant per dataset, drawn in this
# dataset order with numpy.random.default_rng(held_out_seed).integers(len(candidates)).
# librispeech_conformer_gelu is not a candidate (dropped by the organisers).
HELD_OUT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "librispeech": (
        "librispeech_conformer_attention_temperature",
        "librispeech_conformer_layernorm",
        "librispeech_deepspeech_no_resnet",
        "librispeech_deepspeech_norm_and_spec_aug",
        "librispeech_deepspeech_tanh",
    ),
    "imagenet": (
        "imagenet_resnet_silu",
        "imagenet_resnet_gelu",
        "imagenet_resnet_large_bn_init",
        "imagenet_vit_glu",
        "imagenet_vit_post_ln",
        "imagenet_vit_map",
    ),
    "ogbg": ("ogbg_gelu", "ogbg_silu", "ogbg_model_size"),
    "wmt": ("wmt_post_ln", "wmt_attention_temp", "wmt_glu_tanh"),
    "fastmri": ("fastmri_model_size", "fastmri_tanh", "fastmri_layernorm"),
    "criteo1tb": ("criteo1tb_layernorm", "criteo1tb_embed_init", "criteo1tb_resnet"),
}

# The held-out workloads each version was scored with (v0.5: the draw with its official seed;
# v0.6 has none).
OFFICIAL_HELD_OUT_WORKLOADS: dict[str, tuple[str, ...]] = {
    "0.5": (
        "librispeech_conformer_layernorm",
        "imagenet_resnet_large_bn_init",
        "ogbg_model_size",
        "wmt_glu_tanh",
        "fastmri_tanh",
        "criteo1tb_embed_init",
    ),
    "0.6": (),
    "a100-2026": (),
}


def base_workload_name(name: str) -> str:
    """The base workload a (variant) name belongs to: the first base name it contains.

    Mirrors AlgoPerf's substring rule, so ``imagenet_resnet_silu`` -> ``imagenet_resnet``.
    """
    for base in (*BASE_WORKLOADS, "finewebedu_lm", "mnist"):
        if base in name:
            return base
    return name


def _workload_table(version: str) -> dict[str, WorkloadNumbers]:
    table: dict[str, WorkloadNumbers] = {}
    if version == "a100-2026":
        targets = {**_TARGETS, **_A100_2026_TARGETS}
        for name, (runtime, hint, period) in _A100_2026_BUDGETS.items():
            metric, val, test, minimized = targets[name]
            table[name] = _numbers(metric, val, test, runtime, period, hint, minimized)
    else:
        for name, (metric, val, test, minimized) in _TARGETS.items():
            r05, h05, r06, h06, period = _BUDGETS[name]
            runtime, hint = (r05, h05) if version == "0.5" else (r06, h06)
            table[name] = _numbers(metric, val, test, runtime, period, hint, minimized)
    for name, (val, test) in VARIANT_TARGETS.items():
        base = table[base_workload_name(name)]
        if version == "0.5":
            val = _V05_VARIANT_OVERRIDES.get(name, val)
        table[name] = _numbers(
            base.target_metric_name,
            val,
            test,
            base.max_allowed_runtime_sec,
            base.eval_period_time_sec,
            base.step_hint,
            base.metric_minimized,
        )
    return table


# A step hint is "approx. steps the baseline can do in the allowed runtime" (AlgoPerf
# algoperf/spec.py). v0.5 set its numbers that way (budget = 4/3 of the target-setting runtime,
# whose schedules spanned 3/4 of the step hint), so its shares are 1 by construction. Later
# rules kept those step hints while code and hardware changed; the shares below are what the
# published logs measure: the NAdamW baseline's steps per second of submission time (first
# eval interval left out) x budget / step hint, median over trials, per framework. The
# baseline ran in JAX only; its PyTorch share is the JAX share times the PyTorch/JAX ratio of
# median shares over every published trial of the round (sdk/scoring/step_share.py): the
# frameworks' official step rates differ by up to 3.5x (Conformer), in both directions.
# Reproduce with (LOGS = mlcommons/submissions_algorithms' previous_leaderboards and
# a100_scoring branch; R = LOGS/rolling_a100_scoring_branch/logs/self_tuning):
#   python benchmarks/bench_step_share.py --field LOGS/algoperf_v06/logs/external_tuning \
#       LOGS/algoperf_v06/logs/self_tuning -- LOGS/algoperf_v06/logs/external_tuning/baseline
#   python benchmarks/bench_step_share.py --field R -- R/nadamw_baselinev05 R/nadamw
BASELINE_STEP_SHARES: dict[str, dict[str, dict[str, float]]] = {
    "0.5": {},
    # v0.6 external-tuning baseline (JAX NAdamW, 8x V100), 3 studies x 5 trials per workload;
    # the PyTorch field is Shampoo (external) and schedule_free_adamw_v2 (self). The published
    # imagenet_vit baseline logs hold only their first eval, so it stays at 1.
    "0.6": {
        "criteo1tb": {"jax": 0.758, "pytorch": 0.736},
        "fastmri": {"jax": 2.765, "pytorch": 2.735},
        "imagenet_resnet": {"jax": 0.671, "pytorch": 0.534},
        "librispeech_conformer": {"jax": 0.168, "pytorch": 0.831},
        "librispeech_deepspeech": {"jax": 0.258, "pytorch": 1.083},
        "ogbg": {"jax": 1.109, "pytorch": 0.896},
        "wmt": {"jax": 1.037, "pytorch": 0.954},
    },
    # 2026 self-tuning round (4x A100): nadamw_baselinev05 and nadamw (JAX), 3 studies each;
    # the field: all 17 entries (11 JAX, 6 PyTorch).
    "a100-2026": {
        "criteo1tb": {"jax": 0.928, "pytorch": 0.937},
        "fastmri": {"jax": 0.942, "pytorch": 1.788},
        "finewebedu_lm": {"jax": 1.016, "pytorch": 1.126},
        "imagenet_resnet": {"jax": 0.924, "pytorch": 0.408},
        "imagenet_vit": {"jax": 0.823, "pytorch": 0.497},
        "librispeech_conformer": {"jax": 0.228, "pytorch": 0.796},
        "librispeech_deepspeech": {"jax": 0.363, "pytorch": 1.22},
        "ogbg": {"jax": 1.139, "pytorch": 0.973},
        "wmt": {"jax": 1.076, "pytorch": 0.964},
    },
}
_V06 = RulesetTable(
    version="0.6",
    num_studies=3,
    num_trials=5,
    self_tuning_budget_multiplier=1.5,
    uses_held_out_workloads=False,
    held_out_ratio_cap=4.0,
    r_max=4.0,
    tau_grid_points=100,
    budget_check_every_step=False,
    eval_after_budget_crossing=False,
    has_prepare_for_eval=True,
    strip_framework_suffix_in_scoring=True,
    held_out_seed=None,
    workloads=MappingProxyType(_workload_table("0.6")),
    baseline_step_shares=MappingProxyType(BASELINE_STEP_SHARES["0.6"]),
)

_TABLES = {
    "0.5": RulesetTable(
        version="0.5",
        num_studies=5,
        num_trials=5,
        self_tuning_budget_multiplier=3.0,
        uses_held_out_workloads=True,
        held_out_ratio_cap=4.0,
        r_max=4.0,
        tau_grid_points=100,
        budget_check_every_step=True,
        eval_after_budget_crossing=True,
        has_prepare_for_eval=False,
        strip_framework_suffix_in_scoring=False,
        held_out_seed=3438810845,
        workloads=MappingProxyType(_workload_table("0.5")),
    ),
    "0.6": _V06,
    # The 0.6 protocol (3 studies, self-tuning x1.5, no held-out workloads, the v0.6 budget
    # edge and API) with the A100 numbers and the ninth workload.
    "a100-2026": replace(
        _V06,
        version="a100-2026",
        workloads=MappingProxyType(_workload_table("a100-2026")),
        base_workloads=A100_2026_BASE_WORKLOADS,
        hardware="4x A100 40GB",
        baseline_step_shares=MappingProxyType(BASELINE_STEP_SHARES["a100-2026"]),
    ),
}


def get_ruleset(version: str | float = DEFAULT_VERSION) -> RulesetTable:
    """The table for a ruleset version ("0.5", "0.6", "a100-2026", or "latest")."""
    key = resolve_version(version)
    if key not in _TABLES:
        raise ValueError(
            f"Unknown ruleset version {version!r}; choose one of {', '.join(VERSION_CHOICES)}."
        )
    return _TABLES[key]
