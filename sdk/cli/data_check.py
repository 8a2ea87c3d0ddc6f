"""`paceline data check --scale official --data-dir DIR`: does DIR hold usable official data?

    paceline data check --scale official --data-dir ~/data/librispeech
    paceline data check --scale official --data-dir ~/data/mnist --workload mnist

For each workload family asked (``--workload`` names a base workload or a variant, which
stands for its family; default: every family), the family's ``official_data_check`` hook
(:class:`sdk.registry.WorkloadEntry`) is asked what DIR lacks: DIR is the folder that
``paceline run --scale official --workload W --data-dir DIR`` would read. Families without a
hook are listed as having no official reader. Exit status 0 when every asked family is
usable, 1 otherwise, 2 for bad input. Knows no family: it asks the workload registry only.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from sdk.errors import PacelineError

USABLE, MISSING, NO_READER, FAILED = "usable", "missing", "no official reader", "check failed"


@dataclass(frozen=True)
class FamilyCheck:
    """What one family's hook said about a directory: a state and its sentences."""

    family: str
    state: str  # USABLE, MISSING, NO_READER or FAILED
    problems: tuple[str, ...] = ()


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", choices=("official",), default="official",
                   help="which data to check (only the official data has a check)")
    p.add_argument("--data-dir", metavar="DIR", required=True,
                   help="the folder `paceline run --scale official --data-dir` would read")
    p.add_argument("--workload", metavar="W", action="append", default=None,
                   help="check W's family (repeatable; default: every family)")


def families(names: list[str] | None) -> list[str]:
    """The families of ``names`` (a variant stands for its base), in order, each once."""
    from sdk.registry import workloads

    if not names:
        return workloads().names(variants=False)
    out: list[str] = []
    for name in names:
        family = workloads().entry(name).base or name
        if family not in out:
            out.append(family)
    return out


def check_family(family: str, data_dir: Path) -> FamilyCheck:
    """Ask ``family``'s hook about ``data_dir``; a hook that raises is reported, not re-raised
    (one broken check must not hide what the others found)."""
    from sdk.registry import _import_ref, workloads

    ref = workloads().entry(family).official_data_check
    if ref is None:
        return FamilyCheck(family, NO_READER)
    try:
        problems = tuple(_import_ref(ref)(data_dir))
    except Exception as exc:  # noqa: BLE001 - reported in the family's row (see docstring)
        first_line = (str(exc).strip().splitlines() or [""])[0]
        return FamilyCheck(family, FAILED, (f"{ref} raised {type(exc).__name__}: {first_line}",))
    return FamilyCheck(family, MISSING if problems else USABLE, problems)


def _data_dir(text: str) -> Path:
    folder = Path(text).expanduser()
    if not folder.exists():
        raise PacelineError(f"--data-dir {folder} does not exist; pass the folder that holds "
                            "the official data.")
    if not folder.is_dir():
        raise PacelineError(f"--data-dir {folder} is a file, not a folder.")
    return folder


def report(checks: list[FamilyCheck]) -> str:
    """One line per family, then one indented line per problem."""
    width = max(len(c.family) for c in checks)
    lines = []
    for c in checks:
        lines.append(f"{c.family:{width}s}  {c.state}")
        lines += [f"{'':{width}s}    - {problem}" for problem in c.problems]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    folder = _data_dir(args.data_dir)
    checks = [check_family(family, folder) for family in families(args.workload)]
    print(f"official data in {folder}:")
    print(report(checks))
    return 0 if all(c.state == USABLE for c in checks) else 1
