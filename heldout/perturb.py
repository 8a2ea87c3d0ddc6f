"""Seeded random held-out variants, drawn from each family's documented perturbation space.

Each family's registry entry names its perturbation space (``perturbation_space``, usually
``workloads/<family>/config.py:PERTURBATION_SPACE``): which model knobs a random variant may
change and over what values. A knob is written one of three ways
(families use whichever reads best next to their config):

* choices: ``{"choices": (...)}`` or ``{"feasible_points": [...]}``;
* a float range: ``{"range": (lo, hi), "scale": "log"|"linear"}``,
  ``{"low": lo, "high": hi, "log": bool}`` or ``{"min": lo, "max": hi, "scaling": "log"}``.

A random variant changes ``k`` knobs (``k`` drawn from ``changes``, default 1 or 2, as the
official variants change one or two things), each to a value other than the base model's;
floats are rounded to 3 significant digits so names and logs stay readable. A draw whose
model the family rejects (its config check raises) is redrawn. The variant's name is
``<base>~<6 hex digits>`` hashed from its changes, so the same changes always get the same
name (and the base name stays a substring: ``get_batch_size`` and the scorer's base-name
rule keep working).

    paceline heldout variants --workloads ogbg imagenet_resnet --count 3 --seed 0
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from heldout.catalog import RANDOM_MARK
from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import WorkloadNumbers

DEFAULT_CHANGES = (1, 2)
MAX_REDRAWS = 200  # draws per variant before giving up on a space that rejects everything
FLOAT_DIGITS = 3


@dataclass(frozen=True)
class Knob:
    """One perturbable model knob, normalised from any of the accepted spellings."""

    name: str
    choices: tuple[Any, ...] = ()
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    @property
    def is_choice(self) -> bool:
        return bool(self.choices)

    def describe(self) -> str:
        if self.is_choice:
            return "one of " + ", ".join(json.dumps(_jsonable(c)) for c in self.choices)
        return f"{'log-' if self.log else ''}uniform in [{self.low:g}, {self.high:g}]"


@dataclass
class RandomVariant:
    """A random variant: its name, base, model changes and (once set) its numbers.

    ``numbers`` maps a ruleset version to the variant's :class:`WorkloadNumbers`;
    ``targets_from`` records how its targets were set (:mod:`heldout.variant_targets`).
    """

    name: str
    base: str
    overrides: dict[str, Any]
    seed: int
    index: int
    numbers: dict[str, WorkloadNumbers] = field(default_factory=dict)
    targets_from: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        return ", ".join(f"{k}={json.dumps(v)}" for k, v in sorted(self.overrides.items()))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "base": self.base, "overrides": self.overrides,
                "seed": self.seed, "index": self.index,
                "numbers": {v: asdict(n) for v, n in self.numbers.items()},
                "targets_from": self.targets_from}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> RandomVariant:
        try:
            return cls(raw["name"], raw["base"], dict(raw["overrides"]), int(raw["seed"]),
                       int(raw["index"]),
                       {v: WorkloadNumbers(**n) for v, n in raw.get("numbers", {}).items()},
                       dict(raw.get("targets_from", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise PacelineError(f"A recorded random variant is malformed ({exc}).") from None


# ---- the perturbation space --------------------------------------------------------------------
def _knob(name: str, raw: Any, where: str) -> Knob:
    if not isinstance(raw, dict):
        raise PacelineError(f"{where}: knob {name!r} must be a dict, not {raw!r}.")
    points = raw.get("choices", raw.get("feasible_points"))
    if points is not None:
        points = tuple(points)
        if not points:
            raise PacelineError(f"{where}: knob {name!r} has no choices.")
        return Knob(name, choices=points)
    if "range" in raw:
        low, high = raw["range"]
        log = raw.get("scale", "linear") == "log"
    elif "low" in raw and "high" in raw:
        low, high, log = raw["low"], raw["high"], bool(raw.get("log", False))
    elif "min" in raw and "max" in raw:
        low, high, log = raw["min"], raw["max"], raw.get("scaling", "linear") == "log"
    else:
        raise PacelineError(f"{where}: knob {name!r} needs choices/feasible_points or a "
                            "range (range, low/high or min/max).")
    low, high = float(low), float(high)
    if not low < high or (log and low <= 0):
        raise PacelineError(f"{where}: knob {name!r} has an empty or non-positive log range "
                            f"[{low:g}, {high:g}].")
    return Knob(name, low=low, high=high, log=log)


def perturbation_space(base: str) -> dict[str, Knob]:
    """The normalised perturbation space of ``base``'s family, named by its registry entry."""
    ref = workloads().entry(base).perturbation_space
    if not ref:
        raise PacelineError(f"The {base} family registers no perturbation space, so it has "
                            "no random variants yet.")
    module_name, _, attr = ref.partition(":")
    raw = getattr(importlib.import_module(module_name), attr, None)
    if not isinstance(raw, dict) or not raw:
        raise PacelineError(f"{ref} is not a perturbation space (a dict of knobs), so {base} "
                            "has no random variants yet.")
    return {name: _knob(name, spec, ref) for name, spec in raw.items()}


# ---- drawing --------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _as_config_value(value: Any) -> Any:
    """JSON lists back to the tuples the family configs use."""
    if isinstance(value, list):
        return tuple(_as_config_value(v) for v in value)
    return value


def config_overrides(overrides: dict[str, Any]) -> dict[str, Any]:
    return {k: _as_config_value(v) for k, v in overrides.items()}


def _round(value: float) -> float:
    if value == 0 or not math.isfinite(value):
        return value
    return float(f"{value:.{FLOAT_DIGITS}g}")


def variant_name(base: str, overrides: dict[str, Any]) -> str:
    """``<base>~<hash>``: the same changes always give the same name."""
    text = json.dumps(_jsonable(overrides), sort_keys=True)
    return f"{base}{RANDOM_MARK}{hashlib.sha1(f'{base}:{text}'.encode()).hexdigest()[:6]}"


def base_config(base: str, scale: str, framework: str) -> Any:
    """The base model's config (the values a random variant moves away from)."""
    workload = workloads().create(base, scale, framework)
    return getattr(workload, "model_config", None)


def check_overrides(base: str, overrides: dict[str, Any], scale: str, framework: str) -> str:
    """'' if the family builds a config from ``overrides``, else the family's complaint."""
    try:
        workload = workloads().create(base, scale, framework,
                                      model_overrides=config_overrides(overrides))
        getattr(workload, "model_config", None)  # lazily built configs are checked here
    except (PacelineError, ValueError, TypeError) as exc:
        return str(exc)
    return ""


def _draw_value(knob: Knob, current: Any, rng: np.random.Generator) -> Any:
    if knob.is_choice:
        options = [c for c in knob.choices if _jsonable(c) != _jsonable(current)]
        options = options or list(knob.choices)
        return _jsonable(options[int(rng.integers(len(options)))])
    for _ in range(20):
        if knob.log:
            value = math.exp(rng.uniform(math.log(knob.low), math.log(knob.high)))
        else:
            value = rng.uniform(knob.low, knob.high)
        value = _round(value)
        if current is None or not math.isclose(value, float(current), rel_tol=1e-9):
            return value
    return value


def generate(
    base: str,
    count: int,
    seed: int,
    scale: str = "dev",
    framework: str = "pytorch",
    changes: Sequence[int] = DEFAULT_CHANGES,
) -> list[RandomVariant]:
    """``count`` distinct random variants of ``base`` (the same for the same arguments)."""
    if count < 0:
        raise PacelineError(f"The number of random variants must be non-negative, not {count}.")
    if not changes or min(changes) < 1:
        raise PacelineError("Each random variant must change at least one knob.")
    space = perturbation_space(base)
    names = sorted(space)
    config = base_config(base, scale, framework)
    unknown = [n for n in names if config is not None and not hasattr(config, n)]
    if unknown:
        raise PacelineError(f"{base}'s perturbation space names {', '.join(unknown)}, which "
                            "its model config does not have.")
    rng = np.random.default_rng(prng.derive_seed(seed, "heldout-random-variants", base))
    out: list[RandomVariant] = []
    seen: set[str] = set()
    rejected: list[str] = []
    for _ in range(MAX_REDRAWS * max(count, 1)):
        if len(out) == count:
            break
        k = min(int(changes[int(rng.integers(len(changes)))]), len(names))
        picked = sorted(rng.choice(names, size=k, replace=False).tolist())
        overrides = {n: _draw_value(space[n], getattr(config, n, None), rng) for n in picked}
        name = variant_name(base, overrides)
        if name in seen:
            continue
        problem = check_overrides(base, overrides, scale, framework)
        if problem:
            rejected.append(problem)
            continue
        seen.add(name)
        out.append(RandomVariant(name, base, overrides, seed, len(out)))
    if len(out) < count:
        why = f" (last complaint: {rejected[-1]})" if rejected else ""
        raise PacelineError(f"Could draw only {len(out)} of {count} distinct valid random "
                            f"variants of {base}{why}.")
    return out
