"""Errors a user can cause. The CLI prints their message as one sentence and exits non-zero."""

import traceback
from pathlib import Path


class PacelineError(Exception):
    """A problem with the user's input (a path, a file, a submission, a flag).

    The message must be one plain sentence saying what is wrong and, where possible, what to
    do about it. The CLI prints it without a traceback and exits with status 2.
    """

    exit_code = 2


class SubmissionError(PacelineError):
    """The submission module cannot be imported or does not follow the API."""


class SearchSpaceError(PacelineError):
    """The tuning search space JSON is malformed."""


class UnknownWorkloadError(PacelineError):
    """No registered workload has that name at that scale and framework."""


class MixedTargetsError(PacelineError):
    """Runs scored together were timed against different targets (a recalibration between)."""


def raised_at(exc: BaseException) -> str:
    """`` (at file.py:12)``: the innermost frame ``exc`` was raised in ('' if none)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f" (at {Path(frames[-1].filename).name}:{frames[-1].lineno})" if frames else ""


def describe_exception(exc: BaseException, where: bool = True) -> str:
    """``ValueError: bad shape (at sub.py:12)``: one line naming an exception (and where)."""
    return f"{type(exc).__name__}: {exc}{raised_at(exc) if where else ''}"
