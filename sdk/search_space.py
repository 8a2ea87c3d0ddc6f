"""Tuning search spaces in AlgoPerf's JSON forms, and AlgoPerf's quasi-random search.

Two JSON forms are accepted (AlgoPerf's ``algoperf/halton.py``):

* a dict ``{name: {"min": a, "max": b, "scaling": "log"|"linear"}}`` or
  ``{name: {"feasible_points": [...]}}``, sampled with a scrambled, shifted Halton sequence;
* a list of explicit points ``[{name: value, ...}, ...]``, taken in file order.

:func:`generate_search` yields the same *set* of points as AlgoPerf's ``halton.generate_search``
for the same space and number of trials. AlgoPerf then shuffles the points with numpy's
unseeded global RNG; paceline shuffles them with a seed instead, so the order is reproducible.

    >>> space = SearchSpace.from_json({"lr": {"min": 1e-4, "max": 1e-2, "scaling": "log"}})
    >>> len(generate_search(space, 3, seed=0))
    3
"""

from __future__ import annotations

import collections
import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError, SearchSpaceError
from sdk.input_files import check_identifiers, read_json

HALTON_SKIP = 100
MAX_FILE_BYTES = 16 * 1024 * 1024  # a search space is a few hundred bytes; lists of points, KBs


@dataclass(frozen=True)
class Range:
    """A continuous hyperparameter sampled uniformly or log-uniformly in ``[min, max]``."""

    name: str
    min: float
    max: float
    scaling: str  # "linear" | "log"

    def from_unit(self, u: float) -> float:
        if self.scaling == "log":
            return self.min * math.exp(u * math.log(self.max / self.min))
        return u * (self.max - self.min) + self.min

    def to_unit(self, value: float) -> float:
        if self.scaling == "log":
            return math.log(value / self.min) / math.log(self.max / self.min)
        return (value - self.min) / (self.max - self.min)


@dataclass(frozen=True)
class Choice:
    """A discrete hyperparameter picked from ``feasible_points``."""

    name: str
    feasible_points: tuple[Any, ...]

    def from_unit(self, u: float) -> Any:
        return self.feasible_points[int(math.floor(u * len(self.feasible_points)))]


@dataclass(frozen=True)
class SearchSpace:
    """A validated search space: either ``parameters`` (dict form) or ``points`` (list form)."""

    parameters: tuple[Range | Choice, ...] = ()
    points: tuple[dict[str, Any], ...] = ()
    source: str = "<search space>"

    @property
    def is_list(self) -> bool:
        return bool(self.points)

    @property
    def names(self) -> list[str]:
        if self.points:
            return list(self.points[0])
        return [p.name for p in self.parameters]

    @classmethod
    def from_json(cls, data: Any, source: str = "<search space>") -> SearchSpace:
        """Validate parsed JSON; problems raise :class:`SearchSpaceError` naming the parameter."""
        if isinstance(data, dict):
            if not data:
                raise SearchSpaceError(f"{source}: the search space has no hyperparameters.")
            _check_names(data, source)
            return cls(parameters=tuple(_parse_param(n, s, source) for n, s in data.items()),
                       source=source)
        if isinstance(data, list):
            return cls(points=_parse_points(data, source), source=source)
        raise SearchSpaceError(
            f"{source}: a search space must be a JSON object of hyperparameters or a list of "
            f"points, not {type(data).__name__}."
        )

    @classmethod
    def load(cls, path: str | Path) -> SearchSpace:
        """Read and validate a search-space JSON file."""
        p = Path(path)
        if not p.is_file():
            raise SearchSpaceError(f"Search space file {str(p)!r} does not exist.")
        try:
            data = read_json(p, "search space", limit=MAX_FILE_BYTES, unique_keys=True)
        except PacelineError as exc:
            raise SearchSpaceError(str(exc)) from None
        return cls.from_json(data, source=str(p))

    def to_json(self) -> Any:
        """The AlgoPerf JSON form of this space."""
        if self.points:
            return [dict(p) for p in self.points]
        out: dict[str, Any] = {}
        for p in self.parameters:
            if isinstance(p, Range):
                out[p.name] = {"min": p.min, "max": p.max, "scaling": p.scaling}
            else:
                out[p.name] = {"feasible_points": list(p.feasible_points)}
        return out


def _check_names(names: Any, source: str) -> None:
    """Names become fields of AlgoPerf's ``Hyperparameters`` namedtuple: identifiers only."""
    try:
        check_identifiers(names, source)
    except PacelineError as exc:
        raise SearchSpaceError(str(exc)) from None


def _short(value: Any, limit: int = 60) -> str:
    """``value`` as JSON, cut to ``limit`` characters for a one-line message."""
    try:
        text = json.dumps(value)
    except (RecursionError, ValueError):
        text = type(value).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def is_number(x: Any) -> bool:
    """A finite int or float, not a bool."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def same_value(a: Any, b: Any) -> bool:
    """Whether two hyperparameter values are the same point: numbers up to float rounding
    (a point read back from JSON), a bool only as the same bool, anything else by ``==``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0)
    return a == b


def _parse_param(name: str, spec: Any, source: str) -> Range | Choice:
    where = f"{source}: hyperparameter {name!r}"
    if not isinstance(spec, dict):
        raise SearchSpaceError(
            f"{where} must be an object with min/max/scaling or feasible_points, "
            f"not {_short(spec)}."
        )
    if "feasible_points" in spec:
        extra = set(spec) - {"feasible_points"}
        if extra:
            raise SearchSpaceError(f"{where} mixes feasible_points with {sorted(extra)}.")
        points = spec["feasible_points"]
        if not isinstance(points, list) or not points:
            raise SearchSpaceError(f"{where}: feasible_points must be a non-empty list.")
        return Choice(name, tuple(points))
    missing = [k for k in ("min", "max", "scaling") if k not in spec]
    if missing:
        raise SearchSpaceError(f"{where} is missing {', '.join(missing)}.")
    extra = set(spec) - {"min", "max", "scaling"}
    if extra:
        raise SearchSpaceError(f"{where} has unknown keys {sorted(extra)}.")
    lo, hi, scaling = spec["min"], spec["max"], spec["scaling"]
    if not (is_number(lo) and is_number(hi)):
        raise SearchSpaceError(f"{where}: min and max must be finite numbers.")
    if lo > hi:
        raise SearchSpaceError(f"{where}: min ({lo}) is larger than max ({hi}).")
    if scaling not in ("linear", "log"):
        raise SearchSpaceError(f"{where}: scaling must be 'linear' or 'log', not {scaling!r}.")
    if scaling == "log" and lo <= 0:
        raise SearchSpaceError(f"{where}: log scaling needs min > 0 (got {lo}).")
    return Range(name, float(lo), float(hi), scaling)


def _parse_points(data: list, source: str) -> tuple[dict[str, Any], ...]:
    if not data:
        raise SearchSpaceError(f"{source}: the list of points is empty.")
    if not all(isinstance(p, dict) for p in data):
        raise SearchSpaceError(f"{source}: every point in the list must be a JSON object.")
    names = list(data[0])
    if not names:
        raise SearchSpaceError(f"{source}: point 1 has no hyperparameters.")
    _check_names(names, source)
    for i, point in enumerate(data, start=1):
        mismatch = _point_mismatch(i, point, names, source)
        if mismatch:
            raise SearchSpaceError(mismatch)
    return tuple(dict(p) for p in data)


def _point_mismatch(i: int, point: dict[str, Any], names: list[str], source: str) -> str | None:
    """The sentence saying how point ``i`` differs from point 1's ``names``, if it does."""
    if set(point) == set(names):
        return None
    missing = sorted(set(names) - set(point))
    extra = sorted(set(point) - set(names))
    parts = []
    if missing:
        parts.append(f"lacks {missing}")
    if extra:
        parts.append(f"adds {extra}")
    return (f"{source}: point {i} {' and '.join(parts)} compared with point 1; every "
            f"point must name the same hyperparameters.")


# ---- AlgoPerf's Halton sequence ------------------------------------------------------------


@cache
def odd_primes_below(n: int) -> tuple[int, ...]:
    """Odd primes below ``n`` (Sieve of Sundaram), as AlgoPerf's generator uses."""
    half = (n - 2) // 2
    marked = bytearray(half + 1)
    for i in range(1, half + 1):
        j = i
        while i + j + 2 * i * j <= half:
            marked[i + j + 2 * i * j] = 1
            j += 1
    return tuple(2 * i + 1 for i in range(1, half + 1) if not marked[i])


def halton_primes(num_dims: int) -> list[int]:
    """The bases AlgoPerf uses: the ``num_dims`` odd primes just below the largest one < 1000k."""
    bound = 1000
    primes = odd_primes_below(bound)
    while len(primes) < num_dims + 1:
        bound += 1000
        primes = odd_primes_below(bound)
    return list(primes[-num_dims - 1 : -1])


def _van_der_corput(num: int, base: int) -> list[float]:
    state = np.random.RandomState(base)
    digits = list(range(1, base))
    state.shuffle(digits)
    perm = [0, *digits]
    shift = state.random_sample()
    out = []
    for i in range(1, num + 1):
        value, denom = 0.0, base
        while i:
            value += perm[i % base] / denom
            denom *= base
            i //= base
        out.append(math.fmod(value + shift, 1.0))
    return out


def halton_points(num_points: int, num_dims: int, skip: int = HALTON_SKIP) -> list[tuple[float, ...]]:
    """AlgoPerf's scrambled, shifted Halton points in ``[0, 1)^d``, *unshuffled*."""
    columns = [
        _van_der_corput(num_points + skip, base)[skip:] for base in halton_primes(num_dims)
    ]
    return list(zip(*columns, strict=True))


def hyperparameters_class(names: list[str]) -> type:
    """The ``Hyperparameters`` namedtuple type for these field names."""
    return collections.namedtuple("Hyperparameters", names)


def make_hyperparameters(values: dict[str, Any]) -> Any:
    """A ``Hyperparameters`` namedtuple from a dict (as AlgoPerf reloads ``hparams.json``)."""
    return hyperparameters_class(list(values))(**values)


def generate_search(space: SearchSpace, num_trials: int, seed: int | None = 0) -> list[Any]:
    """``num_trials`` hyperparameter points, as AlgoPerf's ``halton.generate_search``.

    Dict form: the same set of points AlgoPerf generates, in an order shuffled by ``seed``
    (``seed=None`` keeps the unshuffled Halton order). List form: the first
    ``min(num_trials, len(points))`` points in file order, as AlgoPerf.
    """
    if num_trials < 1:
        raise SearchSpaceError(f"The number of trials must be at least 1, got {num_trials}.")
    cls = hyperparameters_class(space.names)
    if space.is_list:
        return [cls(**p) for p in space.points[:num_trials]]
    units = halton_points(num_trials, len(space.parameters))
    if seed is not None:
        order = np.random.default_rng(seed).permutation(len(units))
        units = [units[i] for i in order]
    return [
        cls(**{p.name: p.from_unit(u) for p, u in zip(space.parameters, point, strict=True)})
        for point in units
    ]


def space_problems(data: Any, source: str = "<search space>") -> list[str]:
    """Every problem :meth:`SearchSpace.from_json` would refuse ``data`` for, one sentence each.

    ``from_json`` stops at the first; ``paceline check`` reports them all at once.
    """
    def attempt(check: Any, *args: Any) -> list[str]:
        try:
            check(*args)
        except SearchSpaceError as exc:
            return [str(exc)]
        return []

    if isinstance(data, dict) and data:
        problems = [p for name in data for p in attempt(_check_names, [name], source)]
        return problems + [p for name, spec in data.items()
                           for p in attempt(_parse_param, name, spec, source)]
    if isinstance(data, list) and data and all(isinstance(p, dict) for p in data) and data[0]:
        names = list(data[0])
        problems = [p for name in names for p in attempt(_check_names, [name], source)]
        mismatches = (_point_mismatch(i, point, names, source)
                      for i, point in enumerate(data, start=1))
        return problems + [m for m in mismatches if m]
    return attempt(SearchSpace.from_json, data, source)
