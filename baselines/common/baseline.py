"""A baseline, declared once: its optimizer per framework, its schedule, its search space and
its self-tuning point.

A :class:`Baseline` is the registry entry itself (a :class:`~sdk.registry.BaselineEntry`), so
``paceline`` finds it by name. Its AlgoPerf submission modules,
``<package>.<framework>_<ruleset>`` (``baselines.nadamw.pytorch_external``, ...), have no file:
they are made from the declaration when imported (:mod:`baselines.common.submission`), with
the one training step per framework of :mod:`baselines.common.pytorch_step` and
:mod:`baselines.common.jax_step`. Torch, JAX and optax are imported only by the builders, so
declaring a baseline costs nothing at start-up.

    paceline run --workload mnist --submission nadamw
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk.registry import BaselineEntry

FRAMEWORKS = ("pytorch", "jax")
RULESETS = ("external", "self")
SEARCH_SPACE_FILE = "tuning_search_space.json"

# AlgoPerf's baseline batch sizes (algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py), shared by every baseline; other
# names raise ValueError so the runner retries with the base workload's name.
BATCH_SIZES = {
    "criteo1tb": 262_144,
    "fastmri": 32,
    "imagenet_resnet": 1024,
    "imagenet_resnet_silu": 512,
    "imagenet_resnet_gelu": 512,
    "imagenet_vit": 1024,
    "librispeech_conformer": 256,
    "librispeech_deepspeech": 256,
    "ogbg": 512,
    "wmt": 128,
    "finewebedu_lm": 64,  # AlgoPerf's reference algorithms' get_batch_size
    "mnist": 16,
}


def get_batch_size(workload_name: str) -> int:
    if workload_name not in BATCH_SIZES:
        raise ValueError(f"Unsupported workload name: {workload_name}.")
    return BATCH_SIZES[workload_name]


def hyper(hyperparameters: Any, name: str, default: Any) -> Any:  # noqa: ANN401
    """An optional hyperparameter (AlgoPerf baselines look these up with hasattr)."""
    return getattr(hyperparameters, name, default) if hyperparameters is not None else default


@dataclass(frozen=True)
class Baseline(BaselineEntry):
    """One baseline. Fields besides the registry entry's (``name``, ``search_space``,
    ``description``; ``modules`` is filled in from ``package``; ``name`` defaults to the
    package's last part and ``search_space`` to its ``tuning_search_space.json``, if there is
    one):

    Args:
        package: the package whose ``__init__.py`` holds the declaration as ``BASELINE``
            (pass ``__name__``); the submission modules are made under it.
        builders: shorthand for a shipped optimizer: ``"adamw"`` means ``build_adamw`` of
            :mod:`baselines.common.pytorch_optimizers` and of
            :mod:`baselines.common.jax_optimizers` (in place of ``pytorch`` and ``jax``).
        pytorch: ``(params, hyperparameters, step_hint) -> torch.optim.Optimizer``, or its
            ``"module:function"`` name (imported when a trial starts).
        jax: ``(learning_rate, hyperparameters, step_hint) -> optax.GradientTransformation``
            (or its name); ``learning_rate`` is the schedule (a function of optax's count)
            when there is one.
        schedule: ``(hyperparameters, step_hint) -> step -> learning rate``
            (:mod:`baselines.common.schedules`), or ``None`` when the optimizer schedules
            itself.
        self_tuning_point: the hyperparameters of the self-tuning ruleset (no point: no
            self-tuning submission).
        eval_point: the optimizer evaluates at another point than it trains at (schedule-free):
            the PyTorch optimizer has ``train()``/``eval()``; the JAX builder returns the update
            function itself, returning new parameters, with ``init``, ``to_train``,
            ``to_eval``, an ``eval_point`` guard and ``extras`` (see
            ``baselines/schedule_free_adamw/jax_optimizer.py``).
        budget_guard: the self-tuning submission stops training while a final evaluation
            still counts (:class:`self_tuning.EndOfBudgetGuard`).
    """

    name: str = ""
    modules: dict[str, dict[str, str]] = field(default_factory=dict)
    package: str = ""
    builders: str = ""
    pytorch: Callable[..., Any] | str | None = None
    jax: Callable[..., Any] | str | None = None
    schedule: Callable[[Any, int], Callable[[Any], Any]] | None = None
    self_tuning_point: Mapping[str, Any] | None = None
    eval_point: bool = False
    budget_guard: bool = False

    def __post_init__(self) -> None:
        if not self.package:
            raise ValueError(f"Baseline {self.name!r} needs package=__name__ (the module "
                             "that holds it as BASELINE).")
        for key, value in self._defaults().items():
            object.__setattr__(self, key, value)
        frameworks = [fw for fw in FRAMEWORKS if getattr(self, fw) is not None]
        rulesets = RULESETS if self.self_tuning_point is not None else RULESETS[:1]
        object.__setattr__(self, "modules", {
            ruleset: {fw: f"{self.package}.{fw}_{ruleset}" for fw in frameworks}
            for ruleset in rulesets
        })

    def _defaults(self) -> dict[str, Any]:
        """The fields left out that the package or ``builders`` fills in."""
        out: dict[str, Any] = {}
        if not self.name:
            out["name"] = self.package.rpartition(".")[2]
        module_file = getattr(sys.modules.get(self.package), "__file__", None)
        if self.search_space is None and module_file:
            space = Path(module_file).with_name(SEARCH_SPACE_FILE)
            if space.is_file():
                out["search_space"] = space
        if self.builders:
            if self.pytorch is not None or self.jax is not None:
                raise ValueError(f"Baseline {self.package!r}: builders= replaces pytorch= "
                                 "and jax=; give one or the other.")
            for fw in FRAMEWORKS:
                out[fw] = f"baselines.common.{fw}_optimizers:build_{self.builders}"
        return out

    def optimizer(self, framework: str) -> Callable[..., Any]:
        """The optimizer builder for ``framework`` (a ``"module:function"`` name is imported
        now)."""
        builder = getattr(self, framework)
        if not isinstance(builder, str):
            return builder
        module, _, attr = builder.partition(":")
        return getattr(importlib.import_module(module), attr)

    def fixed_point(self) -> Any:  # noqa: ANN401
        """The self-tuning point as AlgoPerf's ``Hyperparameters`` namedtuple."""
        from sdk.search_space import make_hyperparameters

        return make_hyperparameters(dict(self.self_tuning_point))
