"""What a submission sees of a workload: AlgoPerf's public interface and nothing else.

The runner hands every submission call (``init_optimizer_state``, ``data_selection``,
``update_params``, ``prepare_for_eval``) a :class:`WorkloadView` of the workload instead of the
workload itself. Through the view a submission reads the numbers (``step_hint``,
``num_train_examples``, ``target_metric_name``, ``max_allowed_runtime_sec``, ...), the parameter
shapes and types, and calls the fixed functions (``model_fn``, ``loss_fn``, ``init_model_fn``,
``output_activation_fn``, ``is_output_params``, ...), exactly as a submission does with an
AlgoPerf workload. It cannot reach:

* any private name (``_data``, ``_build_input_queue``, ``_eval_batches``, ``_eval_iters``,
  ``_data_dir``, ...): reading one raises :class:`AttributeError` saying why;
* the runner's own calls (``eval_model``, ``attach_metrics_logger``, ``set_init_dropout``) or
  anything named like a data location (``data_dir``, ``dataset``, ...);
* the trial's logger: ``metrics_logger`` is a :class:`TrainMetricsLogger` that takes train-side
  scalars only and refuses evaluation rows.

Methods come back as plain functions (no ``__self__`` leading to the workload), attributes a
submission sets land on the view, never on the workload, the view cannot be pickled, and
``copy.copy``/``copy.deepcopy`` give the view itself (so a copied optimizer state that holds it
still works). Python is no sandbox: code that goes out of its way (``gc``, frame or closure
introspection, ``object.__getattribute__``) can still find the workload. The view closes every
route the API offers; what ``paceline score`` checks is in ``docs/security.md``.

    >>> view = WorkloadView(workload)          # doctest: +SKIP
    >>> view.step_hint, view.model_fn          # doctest: +SKIP
    >>> view._build_input_queue                # doctest: +SKIP
    AttributeError: ...
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

from sdk import spec

# Public workload members that belong to the runner, not to submissions.
RUNNER_ONLY = frozenset({"eval_model", "attach_metrics_logger", "set_init_dropout"})
# Public names that would point at data on disk or at evaluation batches.
_DATA_NAMES = re.compile(r"data_?dir|data_?path|dataset|cache_?dir|eval_batches|input_queue")
# Metric names the runner writes in evaluation rows; a submission may not log them.
_EVAL_PREFIXES = ("validation/", "test/")
_RUNNER_METRICS = frozenset({
    "score", "total_duration", "accumulated_submission_time", "accumulated_eval_time",
    "accumulated_logging_time", "global_step", "preemption_count",
})


_MISSING = object()


def _slot(obj: Any, name: str) -> Any:
    return object.__getattribute__(obj, name)


def _is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class _Sealed:
    """Refuses private attribute names and pickling; a copy is the object itself."""

    __slots__ = ()
    _what = "object"

    def __getattribute__(self, name: str) -> Any:
        if _is_dunder(name):
            return object.__getattribute__(self, name)
        if name.startswith("_"):
            raise AttributeError(
                f"{name!r} is not part of the AlgoPerf API: a submission sees the public "
                f"interface of the {type(self)._what} only (see docs/security.md)."
            )
        return object.__getattribute__(self, name)

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(f"A {type(self)._what} a submission is given cannot be pickled.")

    def __copy__(self) -> Any:
        return self  # a copy would have to reach inside; the object itself is as good

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self

    def __reduce__(self) -> Any:
        return self.__reduce_ex__(2)

    def __getstate__(self) -> Any:
        return self.__reduce_ex__(2)


class TrainMetricsLogger(_Sealed):
    """``workload.metrics_logger`` as a submission sees it: train-side scalars only.

    Rows go to ``measurements.csv`` and TensorBoard as with AlgoPerf's logger; evaluation rows
    (``is_eval=True``) and metrics named like the runner's evaluation columns
    (``validation/...``, ``test/...``, ``score``, ``accumulated_submission_time``, ...) are
    refused with :class:`PermissionError`, which fails the trial with that sentence.
    """

    __slots__ = ("_logger",)
    _what = "metrics logger"

    def __init__(self, logger: Any) -> None:
        object.__setattr__(self, "_logger", logger)

    def append_scalar_metrics(self, metrics: dict[str, Any], global_step: int,
                              preemption_count: int | None = None,
                              is_eval: bool = False) -> None:
        """Log ``metrics`` at ``global_step`` (the preemption count is the runner's)."""
        del preemption_count
        if is_eval:
            raise PermissionError("A submission may log train-side metrics only; evaluation "
                                  "rows (is_eval=True) are written by the runner.")
        reserved = sorted(str(k) for k in metrics
                          if str(k).startswith(_EVAL_PREFIXES) or str(k) in _RUNNER_METRICS)
        if reserved:
            raise PermissionError(f"A submission may not log {', '.join(reserved)}: those "
                                  "names belong to the runner's evaluation rows.")
        _slot(self, "_logger").append_scalar_metrics(dict(metrics), global_step)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("The metrics logger a submission is given is read-only.")

    def __repr__(self) -> str:
        return "<paceline train-side metrics logger>"


def _plain_function(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` as a function with its name, doc and signature but no ``__self__``."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return method(*args, **kwargs)

    call.__name__ = getattr(method, "__name__", "function")
    call.__qualname__ = call.__name__
    call.__doc__ = getattr(method, "__doc__", None)
    try:
        call.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        pass
    return call


class WorkloadView(_Sealed):
    """A workload as a submission may see it (the module docstring says what is hidden).

    One view per trial: JAX submissions pass the workload as a static argument of a jitted
    function, so the same object must come back every step (hashing is by identity).

    Args:
        workload: the real workload, which the runner keeps using for its own calls.
    """

    __slots__ = ("_workload", "_cache", "_own", "_checked")
    _what = "workload"

    def __init__(self, workload: Any) -> None:
        object.__setattr__(self, "_workload", workload)
        # methods as functions, the train-side logger, what the submission set on the view
        object.__setattr__(self, "_cache", {"metrics_logger": None})
        object.__setattr__(self, "_own", set())  # names the submission set
        object.__setattr__(self, "_checked", set())  # public names found not to be refused

    def __getattribute__(self, name: str) -> Any:
        get = object.__getattribute__  # the hot path: a submission reads model_fn every step
        cached = get(self, "_cache").get(name, _MISSING)
        if cached is not _MISSING:
            return cached
        if name.startswith("_"):
            return _Sealed.__getattribute__(self, name)
        checked = get(self, "_checked")
        if name not in checked:
            if name in RUNNER_ONLY or _DATA_NAMES.search(name):
                raise AttributeError(f"{name!r} belongs to the runner, not to submissions: a "
                                     "submission sees AlgoPerf's workload API only (see "
                                     "docs/security.md).")
            checked.add(name)
        workload = get(self, "_workload")
        try:
            value = getattr(workload, name)
        except AttributeError:
            raise AttributeError(f"The {type(workload).__name__} workload has no attribute "
                                 f"{name!r}.") from None
        if callable(value) and getattr(value, "__self__", None) is not None:
            value = get(self, "_cache")[name] = _plain_function(value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            raise AttributeError(f"A submission may not set {name!r} on the workload.")
        _slot(self, "_own").add(name)
        _slot(self, "_cache")[name] = value

    def __delattr__(self, name: str) -> None:
        own = _slot(self, "_own")
        if name not in own:
            raise AttributeError(f"A submission may delete only what it set ({name!r}).")
        own.discard(name)
        del _slot(self, "_cache")[name]

    def __dir__(self) -> list[str]:
        workload = _slot(self, "_workload")
        names = {n for n in dir(workload) if not n.startswith("_")
                 and n not in RUNNER_ONLY and not _DATA_NAMES.search(n)}
        return sorted(names | set(_slot(self, "_own")) | {"metrics_logger"})

    def __repr__(self) -> str:
        workload = _slot(self, "_workload")
        name = getattr(workload, "name", "") or type(workload).__name__
        framework = getattr(workload, "framework", "")
        return f"<workload view of {name}{f' ({framework})' if framework else ''}>"


spec.Workload.register(WorkloadView)  # isinstance(view, spec.Workload) holds, as for AlgoPerf


def attach_train_logger(view: WorkloadView, logger: Any) -> None:
    """The runner's side of ``attach_metrics_logger``: ``view.metrics_logger`` becomes a
    :class:`TrainMetricsLogger` over ``logger`` (``None`` detaches)."""
    if "metrics_logger" not in _slot(view, "_own"):  # unless the submission set its own
        _slot(view, "_cache")["metrics_logger"] = (
            None if logger is None else TrainMetricsLogger(logger))


__all__ = ["RUNNER_ONLY", "TrainMetricsLogger", "WorkloadView", "attach_train_logger"]
