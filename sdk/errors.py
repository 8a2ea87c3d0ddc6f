"""Errors a user can cause. The CLI prints their message as one sentence and exits non-zero."""


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
