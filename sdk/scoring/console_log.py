"""Eval results from an AlgoPerf console log (``submission_runner`` output), for old runs that
kept only the ``.log`` file.

The runner prints ``--- Tuning run <i>/<n> ---`` before each trial and, at its end,
``Metrics: {'eval_results': [(step, {...}), ...], 'global_step': N}`` (a Python repr, possibly
with ``DeviceArray(...)``/``Array(...)`` wrappers and ``nan``). This reads every trial's evals
into ``{metric: [value per eval]}``. Unlike the reference parser, which turns ``nan`` into 0
(a 0 loss would count as reaching a minimised target), NaN stays NaN.

    >>> read_console_log("adamw_fastmri_jax_04-18-2023-13-10-58.log")["1"]["score"][:1]
    ... # doctest: +SKIP
    [64.92480111122131]
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError
from sdk.scoring.reader import TIME_COLUMNS, Curve

TRIAL_LINE = re.compile(r".* --- Tuning run (\d+)/(\d+) ---")
METRICS_LINE = re.compile(r".* Metrics: (\{.*\})\s*$")
_WRAPPERS = {"DeviceArray", "Array", "array", "float32", "float64", "np.float32", "np.float64"}
_NAMES = {"nan": math.nan, "inf": math.inf, "NaN": math.nan, "Infinity": math.inf,
          "True": True, "False": False, "None": None}


def _value(node: ast.AST, where: str) -> Any:
    """Evaluate a literal, allowing nan/inf names and array wrappers; nothing else runs."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        v = _value(node.operand, where)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Dict):
        return {_value(k, where): _value(v, where) for k, v in zip(node.keys, node.values,
                                                                  strict=True)}
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(e, where) for e in node.elts]
    if isinstance(node, ast.Call) and ast.unparse(node.func) in _WRAPPERS and node.args:
        return _value(node.args[0], where)
    raise PacelineError(f"{where}: cannot read {ast.unparse(node)!r} in the Metrics line.")


def parse_metrics_line(text: str, where: str = "Metrics line") -> dict[str, list[Any]]:
    """``{metric: [value per eval]}`` from the dict printed after ``Metrics:``."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise PacelineError(f"{where}: the Metrics line is not a readable Python dict.") from None
    data = _value(tree.body, where)
    if not isinstance(data, dict) or not isinstance(data.get("eval_results"), list):
        raise PacelineError(f"{where}: the Metrics line has no 'eval_results' list.")
    evals = [e for item in data["eval_results"] for e in (item if isinstance(item, list)
                                                          else [item]) if isinstance(e, dict)]
    out: dict[str, list[Any]] = {}
    for i, e in enumerate(evals):
        for key, value in e.items():
            out.setdefault(key, [math.nan] * i).append(value)
        for column in out.values():
            if len(column) < i + 1:
                column.append(math.nan)
    return out


def read_console_log(path: str | Path) -> dict[str, dict[str, list[Any]]]:
    """Every trial's evals in a console log, keyed by the trial number as text (``'1'``)."""
    path = Path(path)
    trial = "0"
    trials: dict[str, dict[str, list[Any]]] = {}
    try:
        with open(path, errors="replace") as f:
            for n, line in enumerate(f, start=1):
                if m := TRIAL_LINE.match(line):
                    trial = m.group(1)
                elif m := METRICS_LINE.match(line):
                    trials[trial] = parse_metrics_line(m.group(1), f"{path}:{n}")
    except OSError as exc:
        raise PacelineError(f"Cannot read {path} ({exc.strerror}).") from None
    if not trials:
        raise PacelineError(f"{path} has no 'Metrics:' line, so it holds no finished trial.")
    return trials


def log_curve(evals: dict[str, list[Any]], metric_column: str) -> Curve:
    """One trial's evals from :func:`read_console_log` as a :class:`Curve` to score."""
    if metric_column not in evals:
        raise PacelineError(f"The log has no {metric_column!r} values; it has "
                            f"{', '.join(sorted(evals))}.")
    time_column = next((c for c in TIME_COLUMNS if c in evals), None)
    if time_column is None:
        raise PacelineError("The log has neither 'score' nor 'accumulated_submission_time'.")
    n = len(evals[metric_column])
    steps = evals.get("global_step", [math.nan] * n)
    return Curve(np.asarray(evals[metric_column], dtype=float),
                 np.asarray(evals[time_column], dtype=float),
                 np.asarray(steps, dtype=float), time_column)
