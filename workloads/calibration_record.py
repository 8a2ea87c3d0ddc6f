"""A workload family's provenance record and the generated numbers block in its code.

``paceline targets W --scale dev --write`` stores everything behind a dev workload's numbers
in ``workloads/<family>/calibration.json`` (one entry per workload of the family: the
command, the machine, every trial, the reruns, the derived numbers, the measured step time)
and rewrites the workload's entry in the family's ``numbers.json`` (the v0.5 numbers as data,
read by :func:`workloads.common.numbers.load_dev_numbers`), or, in a family whose numbers are
code, the block between two marker lines::

    # paceline-targets: begin mnist
    DEV_NUMBERS = WorkloadNumbers(...)
    # paceline-targets: end mnist

The code stays the one place the runner reads numbers from; the record says where they came
from, and ``paceline calibrate`` compares this machine's step times with the recorded ones.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import WorkloadNumbers
from sdk.trial_logs import atomic_write_json, atomic_write_text

RECORD_FILE = "calibration.json"
NUMBERS_FILE = "numbers.json"
BEGIN = "# paceline-targets: begin {name}"
END = "# paceline-targets: end {name}"
NUMBER_FIELDS = ("target_metric_name", "validation_target_value", "test_target_value",
                 "max_allowed_runtime_sec", "eval_period_time_sec", "step_hint",
                 "metric_minimized")


def family_dir(name: str) -> Path:
    """The folder of the package that implements workload ``name`` at dev scale."""
    entry = workloads().entry(name)
    classes = entry.classes.get("dev") or next(iter(entry.classes.values()), {})
    if not classes:
        raise PacelineError(f"Workload {name!r} has no implementation to locate.")
    module = next(iter(classes.values())).partition(":")[0]
    spec = importlib.util.find_spec(module.rpartition(".")[0] or module)
    if spec is None or not spec.submodule_search_locations:
        raise PacelineError(f"Cannot find the package folder of workload {name!r} ({module}).")
    return Path(next(iter(spec.submodule_search_locations)))


def record_path(name: str) -> Path:
    return family_dir(name) / RECORD_FILE


def read_family_record(folder: Path) -> dict[str, Any]:
    path = Path(folder) / RECORD_FILE
    if not path.is_file():
        return {"workloads": {}}
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PacelineError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                            f"fix or delete it and rerun `paceline targets`.") from None
    data.setdefault("workloads", {})
    return data


def read_record(name: str) -> dict[str, Any] | None:
    """The recorded calibration of workload ``name``, or ``None``."""
    try:
        folder = family_dir(name)
    except PacelineError:
        return None
    return read_family_record(folder)["workloads"].get(name)


def write_record(name: str, record: dict[str, Any], folder: Path | None = None) -> Path:
    """Store ``record`` as workload ``name``'s entry, keeping the family's other entries."""
    folder = Path(folder) if folder is not None else family_dir(name)
    data = read_family_record(folder)
    data["about"] = ("Provenance of this family's dev-scale numbers, written by `paceline "
                     "targets --write` (docs/targets.md). Do not edit by hand.")
    data["workloads"][name] = record
    data["workloads"] = dict(sorted(data["workloads"].items()))
    path = folder / RECORD_FILE
    atomic_write_json(path, data)
    return path


def numbers_code(numbers: WorkloadNumbers, variable: str, indent: str = "") -> str:
    """Python source assigning ``numbers`` to ``variable`` (what goes between the markers)."""
    lines = [f"{indent}{variable} = WorkloadNumbers("]
    for f in NUMBER_FIELDS:
        lines.append(f"{indent}    {f}={getattr(numbers, f)!r},")
    lines.append(f"{indent})")
    return "\n".join(lines)


_ASSIGN = re.compile(r"^\s*([A-Za-z_][A-Za-z_0-9]*)\s*(?::[^=]*)?=")


def rewrite_block(name: str, numbers: WorkloadNumbers, comment: str,
                  folder: Path | None = None) -> Path | None:
    """Replace the generated numbers of ``name``; the file rewritten, ``None`` if it has none.

    The family's ``numbers.json`` entry when it has one (:func:`rewrite_entry`), else the block
    in its code:
    The block keeps its variable name and indentation; everything between the markers is
    regenerated. A marker without its partner is an error (nothing is changed).
    """
    folder = Path(folder) if folder is not None else family_dir(name)
    data_file = rewrite_entry(folder / NUMBERS_FILE, name, numbers, comment)
    if data_file is not None:
        return data_file
    begin, end = BEGIN.format(name=name), END.format(name=name)
    for path in sorted(folder.glob("*.py")):
        lines = path.read_text().splitlines(keepends=True)
        starts = [i for i, line in enumerate(lines) if line.strip() == begin]
        if not starts:
            continue
        stops = [i for i, line in enumerate(lines) if line.strip() == end]
        if len(starts) != 1 or len(stops) != 1 or stops[0] < starts[0]:
            raise PacelineError(f"{path} must have exactly one '{begin}' line followed by one "
                                f"'{end}' line; nothing was rewritten.")
        i, j = starts[0], stops[0]
        indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
        variable = next((m.group(1) for line in lines[i + 1 : j]
                         if (m := _ASSIGN.match(line)) and not line.lstrip().startswith("#")),
                        "DEV_NUMBERS")
        body = [f"{indent}# {c}\n" for c in comment.splitlines()]
        body.append(numbers_code(numbers, variable, indent) + "\n")
        atomic_write_text(path, "".join(lines[: i + 1] + body + lines[j:]))
        return path
    return None


def rewrite_entry(path: Path, name: str, numbers: WorkloadNumbers, comment: str) -> Path | None:
    """Write workload ``name``'s entry in a family's ``numbers.json``; ``None`` if there is none.

    An entry keeps its place (the base workload first); a new workload of the family (a new
    variant) is added last. ``comment`` says where the numbers came from.
    """
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    data.setdefault("workloads", {})[name] = {"comment": comment,
                               **{f: getattr(numbers, f) for f in NUMBER_FIELDS}}
    atomic_write_json(path, data)
    return path
