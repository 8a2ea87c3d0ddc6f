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
