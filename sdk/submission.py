"""Loading a submission module and checking it against the AlgoPerf API.

A submission is a Python file (or a registered baseline's name) that defines
``get_batch_size``, ``init_optimizer_state``, ``update_params``, ``data_selection`` and, from
v0.6, optionally ``prepare_for_eval`` (AlgoPerf's ``submission_runner.py``).

    >>> sub = load_submission("path/to/submission.py")  # doctest: +SKIP
    >>> sub.batch_size("imagenet_resnet_silu")           # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sdk import compat
from sdk.errors import SubmissionError
from sdk.registry import baselines
from sdk.rulesets import base_workload_name

# function -> the parameter names AlgoPerf passes (by keyword)
REQUIRED = {
    "get_batch_size": ("workload_name",),
    "init_optimizer_state": (
        "workload", "model_params", "model_state", "hyperparameters", "rng",
    ),
    "update_params": (
        "workload", "current_param_container", "current_params_types", "model_state",
        "hyperparameters", "batch", "loss_type", "optimizer_state", "eval_results",
        "global_step", "rng",
    ),
    "data_selection": (
        "workload", "input_queue", "optimizer_state", "current_param_container",
        "model_state", "hyperparameters", "global_step", "rng",
    ),
}
OPTIONAL = {
    "prepare_for_eval": (
        "workload", "current_param_container", "current_params_types", "model_state",
        "hyperparameters", "loss_type", "optimizer_state", "eval_results", "global_step", "rng",
    ),
}


def _positive_size(function: str, workload_name: str, size: Any) -> int:
    """``size`` if it is a positive int; one sentence naming the function otherwise."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise SubmissionError(f"{function}({workload_name!r}) returned {size!r}; it must return "
                              "a positive int.")
    return size


@dataclass
class Submission:
    """An imported submission with its API generation and optional hooks resolved."""

    module: ModuleType
    name: str
    path: Path | None
    api_version: str  # "0.5" (algorithmic_efficiency) or "0.6" (algoperf / paceline)
    baseline: str | None = None
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        m = self.module
        self.init_optimizer_state = getattr(m, "init_optimizer_state", None)
        self.update_params = getattr(m, "update_params", None)
        self.data_selection = getattr(m, "data_selection", None)
        self.get_batch_size = getattr(m, "get_batch_size", None)
        self.prepare_for_eval = getattr(m, "prepare_for_eval", None)
        self.get_eval_batch_size = getattr(m, "get_eval_batch_size", None)
        self.wants_train_state = False
        if callable(self.update_params):
            try:
                params = inspect.signature(self.update_params).parameters
                self.wants_train_state = "train_state" in params
            except (TypeError, ValueError):
                pass

    def batch_size(self, workload_name: str) -> int:
        """``get_batch_size(name)``, retried with the base workload name on ``ValueError``."""
        try:
            size = self.get_batch_size(workload_name)
        except ValueError:
            base = base_workload_name(workload_name)
            if base == workload_name:
                raise SubmissionError(
                    f"get_batch_size({workload_name!r}) raised ValueError: the submission does "
                    f"not support workload {workload_name!r}."
                ) from None
            size = self.get_batch_size(base)
        except Exception as exc:  # noqa: BLE001 - user code
            raise SubmissionError(
                f"get_batch_size({workload_name!r}) failed: {type(exc).__name__}: {exc}."
            ) from exc
        return _positive_size("get_batch_size", workload_name, size)

    def eval_batch_size(self, workload_name: str, default: int) -> int:
        """``get_eval_batch_size(name)`` if the submission defines it, else ``default``."""
        if self.get_eval_batch_size is None:
            return default
        try:
            size = self.get_eval_batch_size(workload_name)
        except Exception as exc:  # noqa: BLE001 - user code
            raise SubmissionError(
                f"get_eval_batch_size({workload_name!r}) failed: {type(exc).__name__}: {exc}."
            ) from exc
        return _positive_size("get_eval_batch_size", workload_name, size)

    def check(self) -> list[str]:
        """Problems with the module's functions and signatures, as plain sentences."""
        problems = list(self.problems)
        for fn_name, expected in {**REQUIRED, **OPTIONAL}.items():
            fn = getattr(self.module, fn_name, None)
            if fn is None:
                if fn_name in REQUIRED:
                    problems.append(f"The submission does not define {fn_name}().")
                continue
            if not callable(fn):
                problems.append(f"{fn_name} is not a function.")
                continue
            problems.extend(_signature_problems(fn_name, fn, expected))
        # missing functions first: they are the most fundamental problem
        return sorted(problems, key=lambda p: "does not define" not in p)


def _signature_problems(fn_name: str, fn: Any, expected: tuple[str, ...]) -> list[str]:
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    params = sig.parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return []
    problems = []
    missing = [name for name in expected if name not in params]
    if missing:
        problems.append(
            f"{fn_name}() lacks parameter(s) {', '.join(missing)}; the runner passes "
            f"{', '.join(expected)} by keyword."
        )
    allowed = set(expected) | ({"train_state"} if fn_name == "update_params" else set())
    for name, p in params.items():
        if name in allowed or p.default is not p.empty or p.kind == p.VAR_POSITIONAL:
            continue
        problems.append(
            f"{fn_name}() has a required parameter {name!r} that the runner never passes."
        )
    return problems


def _module_name_for(path: Path) -> tuple[str, Path]:
    """The dotted name under which to import ``path`` and the folder to put on sys.path.

    A file inside packages (folders with ``__init__.py``) is imported as part of them, so its
    relative and package-absolute imports work, as when AlgoPerf imports it from the repo
    root.
    """
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def repository_root(path: Path) -> Path | None:
    """The folder that holds the ``submissions`` folder ``path`` lies in, if any.

    AlgoPerf runs submissions from the root of ``mlcommons/submissions_algorithms``, so an
    entry may import ``from submissions.self_tuning.<name>.<module> import ...``; that root
    is put on ``sys.path`` (at the end, so it shadows nothing) when the file is imported.
    """
    for folder in Path(path).resolve().parents:
        if folder.name == "submissions" and folder.parent != folder:
            return folder.parent
    return None


def _import_file(path: Path, import_root: Path | None = None) -> ModuleType:
    module_name, root = _module_name_for(path)
    for entry in (str(path.parent), str(root), os.getcwd()):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    repo_root = import_root or repository_root(path)
    if repo_root is not None and str(repo_root) not in sys.path:
        sys.path.append(str(repo_root))
    if "." in module_name:
        return importlib.import_module(module_name)
    unique = f"paceline_submission_{path.stem}"
    spec = importlib.util.spec_from_file_location(unique, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[unique] = module
    spec.loader.exec_module(module)
    return module


def _describe_import_error(where: str, exc: BaseException, path: Path | None = None) -> str:
    """One sentence locating an import failure in the user's code, not in paceline's.

    A syntax error reads as a compiler's would, ``file:line:col: SyntaxError: msg``; any other
    error names the last line of the submission's own folder that was running when it raised.
    """
    if isinstance(exc, SyntaxError) and exc.filename and exc.filename != "<string>":
        return f"{exc.filename}:{exc.lineno}:{exc.offset}: {type(exc).__name__}: {exc.msg.rstrip('.')}."
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "importlib" not in f.filename]
    if path is not None:
        folder = str(path.resolve().parent) + os.sep
        frames = [f for f in frames if f.filename.startswith(folder)] or frames
        at = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    else:
        at = f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""
    return f"Could not import submission {where}: {type(exc).__name__}: {exc}{at}."


def resolve_submission_ref(ref: str, framework: str, ruleset: str) -> tuple[str, str | None]:
    """``(module-or-path, baseline name)`` for a file path or a registered baseline name."""
    p = Path(ref)
    if p.suffix == ".py" or os.sep in ref or p.exists():
        if p.is_dir():
            p = p / "submission.py"
        if not p.is_file():
            raise SubmissionError(f"Submission file {str(p)!r} does not exist.")
        return str(p.resolve()), None
    if ref in baselines():
        return baselines().module_name(ref, ruleset, framework), ref
    known = ", ".join(baselines().names()) or "none"
    raise SubmissionError(
        f"{ref!r} is neither a submission file nor a registered baseline (baselines: {known})."
    )


def load_submission(
    ref: str, framework: str = "pytorch", ruleset: str = "external", keep_aliases: bool = True,
    import_root: str | Path | None = None,
) -> Submission:
    """Import a submission (file path or baseline name) with the AlgoPerf aliases active.

    ``import_root``: a folder to put on ``sys.path`` for imports from a repository root
    (default: :func:`repository_root` of the file). Raises :class:`SubmissionError` with one
    sentence when it cannot be imported.
    """
    target, baseline = resolve_submission_ref(ref, framework, ruleset)
    with compat.aliases(keep=keep_aliases) as record:
        try:
            if baseline is not None:
                module = importlib.import_module(target)
                path = Path(module.__file__) if getattr(module, "__file__", None) else None
            else:
                path = Path(target)
                module = _import_file(path, Path(import_root) if import_root else None)
        except SubmissionError:
            raise
        except BaseException as exc:  # noqa: BLE001 - any failure in user code
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise SubmissionError(_describe_import_error(
                ref, exc, Path(target) if baseline is None else None)) from exc
    api = getattr(module, "PACELINE_API_VERSION", None) or record.api_version
    name = baseline or (path.parent.name if path and path.stem == "submission" else path.stem)
    return Submission(module=module, name=name, path=path, api_version=str(api), baseline=baseline)
