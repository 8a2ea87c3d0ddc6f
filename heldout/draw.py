"""The benchmark's held-out draw, and new draws for local simulation.

The v0.5 protocol (AlgoPerf's scoring/algoperf_v05/generate_held_out_workloads.py): one variant per dataset, drawn in the candidate
table's dataset order with ``numpy.random.default_rng(seed).integers(len(candidates))``; the
official seed 3438810845 gives the six published held-out workloads. The draw itself is
:func:`sdk.scoring.sample_held_out_workloads`; this module adds seeds for new draws and the
candidate pools a simulation draws from.

    paceline heldout draw                 # the published v0.5 draw
    paceline heldout draw --seed 7 --json draw.json
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.rulesets import HELD_OUT_CANDIDATES, get_ruleset, version_label
from sdk.scoring import sample_held_out_workloads

Candidates = Mapping[str, Sequence[str]]


def official_seed(version: str = "0.5") -> int:
    """The seed the benchmark drew its held-out workloads with."""
    seed = get_ruleset(version).held_out_seed
    if seed is None:
        raise PacelineError(f"Rules {version_label(version)} have no held-out workloads; use 0.5.")
    return seed


def draw(seed: int, candidates: Candidates | None = None) -> list[str]:
    """One held-out variant per dataset (the official candidate table by default)."""
    if not 0 <= seed < 2**64:
        raise PacelineError(f"A draw seed must be a non-negative 64-bit integer, not {seed}.")
    candidates = HELD_OUT_CANDIDATES if candidates is None else candidates
    empty = [d for d, names in candidates.items() if not names]
    if empty:
        raise PacelineError(f"No held-out candidates for {', '.join(empty)}.")
    return sample_held_out_workloads(seed, candidates)


def draw_seeds(seed: int, count: int) -> list[int]:
    """``count`` seeds for new draws, derived from ``seed`` (reproducible, independent)."""
    if count < 1:
        raise PacelineError(f"--draws must be at least 1, not {count}.")
    return [prng.derive_seed(seed, "held-out-draw", i) for i in range(count)]


def draw_probability(candidates: Candidates, variant: str) -> float:
    """The chance that ``variant`` is drawn: 1 / the size of its dataset's candidate list."""
    for names in candidates.values():
        if variant in names:
            return 1.0 / len(names)
    return 0.0
