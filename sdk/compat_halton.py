"""``algoperf.halton`` for submissions: ``generate_search(search_space, num_trials)``.

Takes the parsed JSON (dict or list form) like AlgoPerf's function and returns the same
points; the order is seeded (paceline) instead of drawn from numpy's global RNG (AlgoPerf).
"""

from __future__ import annotations

from typing import Any

from sdk.search_space import SearchSpace
from sdk.search_space import generate_search as _generate


def generate_search(search_space: Any, num_trials: int) -> list[Any]:
    """AlgoPerf's signature over :func:`sdk.search_space.generate_search`."""
    return _generate(SearchSpace.from_json(search_space), num_trials, seed=0)
