"""The base class of every paceline workload: AlgoPerf's :class:`~sdk.spec.Workload` plus
the bookkeeping paceline adds (registry name, scale, framework, ruleset numbers).

A concrete workload supplies its ruleset numbers per version through
:meth:`PacelineWorkload.numbers_for` and implements the AlgoPerf abstract methods; targets,
budgets, eval period, step hint and the target checks then come from here.
"""

from __future__ import annotations

import abc
import math
from typing import Any, ClassVar

from sdk import spec
from sdk.rulesets import DEFAULT_VERSION, WorkloadNumbers, base_workload_name, get_ruleset


def effective_batch(workload: Any, global_batch_size: int) -> int:
    """The batch size ``workload`` really trains with for ``global_batch_size`` (dev scale
    may scale the request); a workload without ``effective_batch_size`` uses it as given.

    >>> effective_batch(object(), 128)
    128
    """
    fn = getattr(workload, "effective_batch_size", None)
    return int(fn(global_batch_size)) if fn is not None else int(global_batch_size)


class PacelineWorkload(spec.Workload):
    """A workload with its ruleset numbers bound to one ruleset version.

    Args:
        ruleset_version: which table of numbers applies ("0.5" or "0.6").
        time_scale: multiplies the budget and eval period of *dev* workloads, so a slower or
            faster machine than the calibration machine gets a fair budget
            (``paceline run --speed-factor``). Official numbers are never scaled.
    """

    name: ClassVar[str] = ""
    framework: ClassVar[str] = ""
    scale: ClassVar[str] = "dev"
    # Model changes that make this class a variant of its family (e.g. {"activation": "silu"});
    # ``model_overrides`` given to the constructor are applied on top (random variants).
    variant_overrides: ClassVar[dict[str, Any]] = {}

    def __init__(
        self,
        ruleset_version: str = DEFAULT_VERSION,
        time_scale: float = 1.0,
        model_overrides: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_overrides: dict[str, Any] = {
            **type(self).variant_overrides, **(model_overrides or {})
        }
        get_ruleset(ruleset_version)  # validates the version
        self.ruleset_version = str(ruleset_version)
        self.numbers: WorkloadNumbers = self.numbers_for(self.ruleset_version)
        self.time_scale = float(time_scale) if self.scale == "dev" else 1.0
        # "0.6" (default) or "0.5": set by the runner from the submission's API. A v0.5
        # submission gets dropout rates through init_model_fn and, in JAX, pmap-style data.
        self.api_version = "0.6"
        self._init_dropout_rate: float | None = None
        self._init_aux_dropout_rate: float | None = None

    @classmethod
    @abc.abstractmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        """Target, test target, budget, eval period and step hint under ``version``."""

    @classmethod
    def official_numbers(cls, version: str, name: str | None = None) -> WorkloadNumbers:
        """The official AlgoPerf numbers for ``name`` (default: this workload's name)."""
        return get_ruleset(version).workloads[name or cls.name]

    # ---- AlgoPerf properties backed by the numbers ----------------------------------------
    @property
    def workload_name(self) -> str:
        return self.name

    @property
    def base_workload_name(self) -> str:
        return base_workload_name(self.name)

    @property
    def target_metric_name(self) -> str:
        return self.numbers.target_metric_name

    @property
    def validation_target_value(self) -> float:
        return self.numbers.validation_target_value

    @property
    def test_target_value(self) -> float:
        return self.numbers.test_target_value

    @property
    def metric_minimized(self) -> bool:
        return self.numbers.metric_minimized

    @property
    def max_allowed_runtime_sec(self) -> float:
        return self.numbers.max_allowed_runtime_sec * self.time_scale

    @property
    def eval_period_time_sec(self) -> float:
        return self.numbers.eval_period_time_sec * self.time_scale

    @property
    def step_hint(self) -> int:
        return self.numbers.step_hint

    def _beats(self, value: float | None, target: float) -> bool:
        if value is None or not math.isfinite(float(value)):
            return False
        return value < target if self.metric_minimized else value > target

    def has_reached_validation_target(self, eval_result: dict[str, float]) -> bool:
        value = eval_result.get(f"validation/{self.target_metric_name}")
        return self._beats(value, self.validation_target_value)

    def has_reached_test_target(self, eval_result: dict[str, float]) -> bool:
        value = eval_result.get(f"test/{self.target_metric_name}")
        return self._beats(value, self.test_target_value)

    def effective_batch_size(self, requested: int) -> int:
        """The batch size this workload really uses for ``requested`` (dev scale may scale it)."""
        return int(requested)

    # ---- v0.5 API: dropout rates given at init ----------------------------------------------
    def set_init_dropout(self, dropout_rate: float | None, aux_dropout_rate: float | None) -> None:
        """Remember the v0.5-style dropout rates passed to ``init_model_fn``."""
        self._init_dropout_rate = dropout_rate
        self._init_aux_dropout_rate = aux_dropout_rate

    def resolve_dropout(self, dropout_rate: float | None, default: float) -> float:
        """The rate ``model_fn`` should use: explicit, else v0.5 init rate, else default."""
        if dropout_rate is not None:
            return float(dropout_rate)
        if self._init_dropout_rate is not None:
            return float(self._init_dropout_rate)
        return float(default)

    # ---- metadata ---------------------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """Every public property with a primitive value, keyed ``workload.<name>`` as AlgoPerf."""
        out: dict[str, Any] = {}
        for attr in sorted(dir(type(self))):
            if attr.startswith("_") or not isinstance(getattr(type(self), attr), property):
                continue
            try:
                value = getattr(self, attr)
            except Exception:  # noqa: BLE001 - AlgoPerf skips properties that raise
                continue
            if isinstance(value, bool | int | float | str) or value is None:
                out[f"workload.{attr}"] = value
        return out
