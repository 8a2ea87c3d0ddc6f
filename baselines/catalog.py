"""Every baseline paceline ships, registered by name (the ``paceline.baselines`` entry point)."""

from __future__ import annotations

from pathlib import Path

from sdk.registry import BaselineEntry, baselines

_HERE = Path(__file__).resolve().parent
# Shipped reference timings of these baselines (`paceline reference build`, sdk/references.py).
REFERENCE_TIMINGS_DIR = _HERE / "reference_timings"


def _modules(package: str) -> dict[str, dict[str, str]]:
    return {
        ruleset: {fw: f"baselines.{package}.{fw}_{ruleset}" for fw in ("pytorch", "jax")}
        for ruleset in ("external", "self")
    }


baselines().register(BaselineEntry(
    name="nadamw",
    modules=_modules("nadamw"),
    search_space=_HERE / "nadamw" / "tuning_search_space.json",
    description="AlgoPerf's NAdamW baseline: warmup + cosine decay, decoupled weight decay",
))

# The other three target-setting algorithms (algoperf-spec.md §9.2), as real submissions with
# the archived paper baselines' search spaces (§9.3).
baselines().register(BaselineEntry(
    name="adamw",
    modules=_modules("adamw"),
    search_space=_HERE / "adamw" / "tuning_search_space.json",
    description="AdamW: warmup + cosine decay, decoupled weight decay (target-setting algorithm)",
))
baselines().register(BaselineEntry(
    name="momentum",
    modules=_modules("momentum"),
    search_space=_HERE / "momentum" / "tuning_search_space.json",
    description="SGD with heavy-ball momentum: warmup + linear decay (target-setting algorithm)",
))
baselines().register(BaselineEntry(
    name="nesterov",
    modules=_modules("nesterov"),
    search_space=_HERE / "nesterov" / "tuning_search_space.json",
    description="SGD with Nesterov momentum: warmup + linear decay (target-setting algorithm)",
))

# Self-tuning baselines built on paceline's budget-aware helpers (self_tuning/).
baselines().register(BaselineEntry(
    name="schedule_free_adamw",
    modules=_modules("schedule_free_adamw"),
    search_space=_HERE / "schedule_free_adamw" / "tuning_search_space.json",
    description="Schedule-free AdamW (the v0.5 self-tuning winner's method): no schedule, "
                "evaluated at the averaged point",
))
baselines().register(BaselineEntry(
    name="self_tuning_example",
    modules={"self": {fw: f"baselines.self_tuning_example.{fw}_self" for fw in ("pytorch", "jax")}},
    description="Self-tuning from paceline's helpers: races NAdamW candidates on the clock, "
                "then decays the winner in time",
))
