"""Checks on flags, run before any work: argparse types for counts and factors, output paths.

A bad value ends in one sentence and exit status 2 before anything is trained or written:

    p.add_argument("--trials", type=positive_int(MAX_TRIALS), default=1)
    p.add_argument("--speed-factor", type=finite_positive_float)
    ...
    check_output_paths(args, "json", "html")   # in run(), before the work starts
    exclusive(args, "resume", "overwrite")
"""

from __future__ import annotations

import argparse
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from sdk.errors import PacelineError

# Upper bounds that keep a typo from allocating or planning for hours: far beyond any study
# the rules ask for (AlgoPerf runs 5 studies of 5 trials), far below a MemoryError.
MAX_STUDIES = 1000
MAX_TRIALS = 100_000
MAX_DRAWS = 1_000_000
MAX_WORKERS = 1024
MAX_JOBS = 1024
MAX_THREADS = 4096

# How messages name an output file, by flag.
OUTPUT_LABELS = {"--json": "the JSON summary", "--plot": "the plot", "--html": "the HTML report",
                 "--out": "the output file"}


def positive_int(upper: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from 1 to ``upper`` (inclusive)."""
    return bounded_int(1, upper)


def bounded_int(lower: int, upper: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from ``lower`` to ``upper`` (inclusive)."""
    span = f"at least {lower}" + (f" and at most {upper}" if upper is not None else "")

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
        if value < lower or (upper is not None and value > upper):
            raise argparse.ArgumentTypeError(f"must be {span}, not {value}")
        return value

    parse.__name__ = "whole number"
    return parse


def finite_positive_float(text: str) -> float:
    """An argparse type: a finite number greater than zero (a factor, a duration)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive, finite number, not {text!r}")
    return value


def exclusive(args: argparse.Namespace, *flags: str) -> None:
    """Refuse two or more of ``flags`` (attribute names) set together."""
    given = [f for f in flags if getattr(args, f, None)]
    if len(given) > 1:
        names = " and ".join("--" + f.replace("_", "-") for f in given)
        raise PacelineError(f"{names} cannot be used together; pass one of them.")


def check_output_path(path: str | Path | None, flag: str, create_parent: bool = False) -> None:
    """Refuse, before any work, an output file that could not be written at the end.

    The path must not be a folder, and its parent must be an existing, writable folder (or,
    with ``create_parent``, a folder paceline can create); ``-`` (standard output, for the
    flags that take it) passes.
    """
    if path is None or str(path) == "-":  # "-": standard output, where a flag allows it
        return
    p = Path(path)
    what = f"{OUTPUT_LABELS.get(flag, 'the output')} {str(path)!r} ({flag})"
    if str(path) == "" or p.is_dir():
        raise PacelineError(f"Cannot write {what}: it is a folder or empty; give a file name.")
    parent = p.parent if str(p.parent) else Path(".")
    if create_parent:
        check_output_dir(parent, flag)
        return
    if not parent.is_dir():
        raise PacelineError(f"Cannot write {what}: the folder {parent} does not exist; create "
                            "it first.")
    if p.exists() and not os.access(p, os.W_OK):
        raise PacelineError(f"Cannot write {what}: permission denied.")
    _probe_writable(parent, what)


def check_output_paths(args: argparse.Namespace, *attrs: str) -> None:
    """:func:`check_output_path` for each flag attribute of ``args`` (``json`` is --json)."""
    for attr in attrs:
        check_output_path(getattr(args, attr, None), "--" + attr.replace("_", "-"))


def check_output_dir(path: str | Path, flag: str) -> None:
    """Refuse a folder paceline must create or write into that cannot be one.

    ``path`` may not exist yet; its nearest existing ancestor must be a writable folder.
    """
    p = Path(path)
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    what = f"the folder {str(path)!r} ({flag})"
    if probe.exists() and not probe.is_dir():
        raise PacelineError(f"Cannot write in {what}: {probe} is a file, not a folder.")
    if probe.exists():
        _probe_writable(probe, what)


def _probe_writable(folder: Path, what: str) -> None:
    """Create and remove an empty file in ``folder``: the one test that also holds for root
    and for special file systems such as /proc, where permission bits do not tell."""
    try:
        fd, name = tempfile.mkstemp(prefix=".paceline-probe-", dir=folder)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise PacelineError(f"Cannot write {what}: {folder} does not take new files "
                            f"({reason}).") from None
    os.close(fd)
    os.unlink(name)


def check_run_flags(args: argparse.Namespace) -> None:
    """The checks `run`, `tune` and `heldout` share, before a submission is even imported."""
    exclusive(args, "resume", "overwrite")
    check_output_paths(args, "json")
    if getattr(args, "wandb", False):
        from sdk.trackers import require_wandb

        require_wandb()
    if getattr(args, "experiment_dir", None) is not None:
        check_output_dir(args.experiment_dir, "--experiment-dir")
