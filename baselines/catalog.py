"""Every baseline paceline ships, registered by name (the ``paceline.baselines`` entry point)."""

from __future__ import annotations

from pathlib import Path

from sdk.registry import BaselineEntry, baselines

_HERE = Path(__file__).resolve().parent


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

# Self-tuning baselines built on paceline's budget-aware helpers (self_tuning/).
baselines().register(BaselineEntry(
    name="schedule_free_adamw",
    modules=_modules("schedule_free_adamw"),
    search_space=_HERE / "schedule_free_adamw" / "tuning_search_space.json",
    description="Schedule-free AdamW (the v0.5 self-tuning winner's method): no schedule, "
                "evaluated at the averaged point",
))
