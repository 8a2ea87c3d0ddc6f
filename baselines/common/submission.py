"""The AlgoPerf submission modules of a declared baseline, made when they are imported.

``baselines.nadamw.pytorch_self`` has no file. When it is imported, the finder installed here
sees that ``baselines.nadamw`` holds a :class:`~baselines.common.baseline.Baseline` as
``BASELINE`` and fills a fresh module with the AlgoPerf API (``get_batch_size``,
``init_optimizer_state``, ``update_params``, ``prepare_for_eval``, ``data_selection``) for
that framework and ruleset, driven by the framework's one training step
(:mod:`baselines.common.pytorch_step`, :mod:`baselines.common.jax_step`). Under the
self-tuning ruleset the functions use the declaration's fixed point instead of the
``hyperparameters`` the runner passes (``None``).

    .venv/bin/python -c "import baselines.nadamw.jax_self as m; print(m.__doc__)"
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from baselines.common.baseline import FRAMEWORKS, RULESETS, Baseline, get_batch_size


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``<package>.<framework>_<ruleset>`` where ``<package>.BASELINE`` declares it."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:  # noqa: ANN401
        del path, target
        package, _, leaf = fullname.rpartition(".")
        baseline = getattr(sys.modules.get(package), "BASELINE", None)
        which = _split(leaf)
        if not isinstance(baseline, Baseline) or which is None:
            return None
        framework, ruleset = which
        if framework not in baseline.modules.get(ruleset, {}):
            return None
        return importlib.util.spec_from_loader(fullname, self,
                                               origin=sys.modules[package].__file__)

    def create_module(self, spec: Any) -> None:  # noqa: ANN401
        return None

    def exec_module(self, module: ModuleType) -> None:
        package, _, leaf = module.__name__.rpartition(".")
        framework, ruleset = _split(leaf)
        baseline = sys.modules[package].BASELINE
        module.__file__ = module.__spec__.origin
        module.__doc__ = (f"{baseline.name} baseline, {framework}, {ruleset}-tuning ruleset "
                          f"(made from {package}.BASELINE by baselines.common.submission).\n\n"
                          f"    paceline run --workload mnist --framework {framework} "
                          f"--submission {baseline.name} --ruleset {ruleset}\n")
        module.__dict__.update(submission_functions(baseline, framework, ruleset))


def _split(leaf: str) -> tuple[str, str] | None:
    framework, _, ruleset = leaf.partition("_")
    return (framework, ruleset) if framework in FRAMEWORKS and ruleset in RULESETS else None


def install() -> None:
    """Make declared baselines' submission modules importable (once per process)."""
    if not any(isinstance(finder, _Finder) for finder in sys.meta_path):
        sys.meta_path.append(_Finder())


def submission_functions(baseline: Baseline, framework: str,
                         ruleset: str) -> dict[str, Callable[..., Any]]:
    """The AlgoPerf functions of ``baseline`` in ``framework`` under ``ruleset``."""
    step = importlib.import_module(f"baselines.common.{framework}_step")
    fixed = baseline.fixed_point() if ruleset == "self" else None

    def point(hyperparameters: Any) -> Any:  # noqa: ANN401
        return hyperparameters if fixed is None else fixed

    def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):  # noqa: ANN001, ANN202
        del model_state, rng
        state = step.init_optimizer_state(baseline, workload, model_params,
                                          point(hyperparameters))
        if fixed is not None and baseline.budget_guard:
            _add_budget_guard(step.extras(state), workload, hyperparameters)
        return state

    def update_params(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN202
                      hyperparameters, batch, loss_type, optimizer_state, eval_results,
                      global_step, rng):
        del current_params_types, loss_type, eval_results
        return step.update_params(baseline, workload, current_param_container, model_state,
                                  point(hyperparameters), batch, optimizer_state, global_step,
                                  rng)

    def prepare_for_eval(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN202
                         hyperparameters, loss_type, optimizer_state, eval_results,
                         global_step, rng):
        del workload, current_params_types, hyperparameters, loss_type, eval_results
        del global_step, rng
        return step.prepare_for_eval(baseline, current_param_container, model_state,
                                     optimizer_state)

    functions = {"get_batch_size": get_batch_size, "data_selection": data_selection,
                 "init_optimizer_state": init_optimizer_state,
                 "update_params": update_params, "prepare_for_eval": prepare_for_eval}
    if fixed is not None and baseline.budget_guard:
        functions["update_params"] = _guarded(update_params, step.extras)
    return functions


def _add_budget_guard(extras: dict[str, Any], workload: Any, hyperparameters: Any) -> None:
    from self_tuning import BudgetView, EndOfBudgetGuard

    extras["budget"] = BudgetView.for_workload(workload, hyperparameters)
    extras["guard"] = EndOfBudgetGuard()


def _guarded(update: Callable[..., Any], extras: Callable[[Any], dict]) -> Callable[..., Any]:
    """``update`` behind the budget: the guard ends training while a final evaluation counts."""

    def update_params(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN202
                      hyperparameters, batch, loss_type, optimizer_state, eval_results,
                      global_step, rng, train_state=None):
        kept = extras(optimizer_state)
        kept["guard"].check(kept["budget"].observe(global_step, eval_results, train_state))
        out = update(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, batch, loss_type, optimizer_state, eval_results,
                     global_step, rng)
        kept["budget"].finish_step()
        return out

    return update_params


def data_selection(workload, input_queue, optimizer_state, current_param_container,  # noqa: ANN001, ANN201
                   model_state, hyperparameters, global_step, rng):
    """The next batch of the input queue, as every baseline selects it."""
    del workload, optimizer_state, current_param_container, model_state, hyperparameters
    del global_step, rng
    return next(input_queue)
