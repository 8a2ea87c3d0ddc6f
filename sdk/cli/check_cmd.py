"""`paceline check`: import a submission the way a run would and report every problem at once.

    paceline check my_algo/submission.py                      # uses my_algo/tuning_search_space.json
    paceline check my_algo/submission.py --tuning-search-space space.json --smoke

What it checks, each problem one line ``paceline check: ...`` on stderr:

* the file imports (a syntax error is located in your file: ``file:line:col: SyntaxError``);
* the API functions exist with the parameters the runner passes;
* ``get_batch_size`` answers for mnist and every workload of the dev suite;
* the search space (``--tuning-search-space``, else ``tuning_search_space.json`` beside the
  submission, as ``paceline run`` picks it up) is valid, and names every hyperparameter the
  submission reads (found in its source: ``hyperparameters.x``, ``getattr(hyperparameters,
  "x")``, ``hyperparameters._asdict()["x"]``);
* with ``--smoke``, a few steps on mnist dev with the space's first point run through the real
  runner.

Notes (a space name the submission never reads, which file was used) go to stdout and do not
fail. Exit status 0 when there is no problem, 2 otherwise.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.errors import PacelineError
from sdk.rulesets import DEFAULT_VERSION, VERSION_CHOICES, resolve_version

SMOKE_STEPS = 20
# hyperparameters the runner itself reads (model initialisation), so never "unused"
RUNNER_READS = {"dropout_rate", "aux_dropout_rate"}


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission .py file, its folder, or a baseline name")
    p.add_argument("--tuning-search-space", metavar="JSON",
                   help="search space (default: tuning_search_space.json beside the "
                        "submission, or a baseline's own)")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch",
                   help="which framework's baseline to check when given a baseline name")
    p.add_argument("--ruleset", choices=["external", "self"], default="external")
    p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                   default=DEFAULT_VERSION,
                   help="rules the --smoke run follows")
    p.add_argument("--workload", action="append", metavar="NAME",
                   help="also ask get_batch_size about this workload (repeatable; mnist and "
                        "the dev suite are always asked)")
    p.add_argument("--smoke", action="store_true",
                   help=f"also train a few steps on mnist dev (--smoke-steps, default "
                        f"{SMOKE_STEPS}) with the space's first point, through the real runner")
    p.add_argument("--smoke-steps", type=int, default=SMOKE_STEPS, metavar="N")


class Report:
    """Problems (fail the check) and notes (do not), printed together at the end."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []

    def problem(self, text: str) -> None:
        self.problems.append(text)

    def note(self, text: str) -> None:
        self.notes.append(text)


def run(args: argparse.Namespace) -> int:
    from sdk.submission import load_submission

    if args.smoke_steps < 1:
        raise PacelineError(f"--smoke-steps must be at least 1, got {args.smoke_steps}.")
    if args.ruleset == "self" and args.tuning_search_space:
        raise PacelineError(
            "The self-tuning ruleset takes no search space; drop --tuning-search-space.")
    report = Report()
    try:
        submission = load_submission(args.submission, args.framework, args.ruleset)
    except PacelineError as exc:
        submission = None
        report.problem(str(exc))
    space, names = None, None
    if args.ruleset == "external":
        space, names = check_search_space(args, submission, report)
    if submission is not None:
        api = submission.check()
        for problem in api:
            report.problem(problem)
        check_batch_sizes(submission, args.workload or [], report)
        if not any("does not define" in p or "is not a function" in p for p in api):
            check_hyperparameter_names(submission, args.ruleset, names, space_label(args, space),
                                       report)
        if args.smoke and not report.problems:
            smoke(args, submission, space, report)
        elif args.smoke:
            report.note("--smoke skipped: fix the problems above first.")
    return finish(report, submission)


def finish(report: Report, submission: Any) -> int:
    # search-space problems last: the most specific, and what the space's author fixes
    problems = sorted(report.problems, key=lambda p: p.startswith(SPACE_MARK))
    for problem in problems:
        print(f"paceline check: {problem.removeprefix(SPACE_MARK)}", file=sys.stderr)
    for note in report.notes:
        print(f"paceline check: note: {note}")
    if problems:
        return 2
    hooks = ["prepare_for_eval"] if submission.prepare_for_eval else []
    if submission.wants_train_state:
        hooks.append("train_state")
    print(f"{submission.name}: OK (API v{submission.api_version}"
          f"{'; uses ' + ', '.join(hooks) if hooks else ''}).")
    return 0


# ---- the search space ------------------------------------------------------------------------

SPACE_MARK = "\0space\0"  # sorts search-space problems to the end of the report


def space_path(args: argparse.Namespace, submission: Any) -> Path | None:
    """The space ``paceline run`` would use: the flag, the baseline's, or the sibling file."""
    if args.tuning_search_space:
        return Path(args.tuning_search_space)
    if submission is None:
        sibling = Path(args.submission)
        sibling = (sibling if sibling.is_dir() else sibling.parent) / "tuning_search_space.json"
        return sibling if sibling.is_file() else None
    if submission.baseline is not None:
        from sdk.registry import baselines

        return baselines().entry(submission.baseline).search_space
    if submission.path is not None:
        sibling = submission.path.parent / "tuning_search_space.json"
        if sibling.is_file():
            return sibling
    return None


def space_label(args: argparse.Namespace, space: Any) -> str:
    return space.source if space is not None else (args.tuning_search_space or "the space")


def check_search_space(args: argparse.Namespace, submission: Any,
                       report: Report) -> tuple[Any, set[str] | None]:
    """The loaded space (``None`` if invalid) and the names it declares (``None`` if unknown)."""
    from sdk.input_files import read_json
    from sdk.search_space import MAX_FILE_BYTES, SearchSpace, space_problems

    path = space_path(args, submission)
    if path is None and submission is None:
        return None, None  # the submission's own problem says it all
    if path is None:
        report.problem(SPACE_MARK + "External tuning needs a search space: pass "
                       "--tuning-search-space JSON, or put tuning_search_space.json beside "
                       "the submission, or use --ruleset self.")
        return None, None
    if not args.tuning_search_space:
        report.note(f"using the search space {path}.")
    if not Path(path).is_file():
        report.problem(SPACE_MARK + f"Search space file {str(path)!r} does not exist.")
        return None, None
    try:
        data = read_json(path, "search space", limit=MAX_FILE_BYTES, unique_keys=True)
    except PacelineError as exc:
        report.problem(SPACE_MARK + str(exc))
        return None, None
    problems = space_problems(data, str(path))
    for problem in problems:
        report.problem(SPACE_MARK + problem)
    names = _declared_names(data)
    if problems:
        return None, names
    return SearchSpace.from_json(data, source=str(path)), names


def _declared_names(data: Any) -> set[str] | None:
    if isinstance(data, dict):
        keys = list(data)
    elif isinstance(data, list) and data and isinstance(data[0], dict):
        keys = list(data[0])
    else:
        return None
    return set(keys) if all(isinstance(k, str) and k.isidentifier() for k in keys) else None


def check_hyperparameter_names(submission: Any, ruleset: str, names: set[str] | None,
                               label: str, report: Report) -> None:
    """Cross-check the names the submission reads (statically) with the space's."""
    from sdk.submission_lint import hyperparameter_reads

    reads = hyperparameter_reads(submission)
    if ruleset == "self":
        read = reads.read_when_none()
        if read:
            listed = ", ".join(f"{n} ({r.where})" for n, r in sorted(read.items()))
            report.note(f"under --ruleset self hyperparameters is None, but the submission "
                        f"reads {listed}; that raises AttributeError.")
        return
    if names is None:
        return
    missing = {n: r for n, r in reads.required().items() if n not in names}
    if missing:
        listed = ", ".join(f"{n} ({r.where})" for n, r in sorted(missing.items()))
        report.problem(f"the submission reads hyperparameters {listed}, which {label} does "
                       "not define; the run would fail with AttributeError.")
    unused = sorted(names - reads.names() - RUNNER_READS)
    if unused and reads.complete:
        report.note(f"{label} defines {', '.join(unused)}, which the submission never reads.")
    elif not reads.complete:
        report.note(f"hyperparameters is passed where check cannot follow it "
                    f"({reads.escapes[0]}); names read there are not checked.")


# ---- get_batch_size --------------------------------------------------------------------------

def check_batch_sizes(submission: Any, extra: list[str], report: Report) -> None:
    """Ask ``get_batch_size`` about mnist, the dev suite and ``extra``; one line per failure."""
    from sdk.registry import workloads

    if not callable(submission.get_batch_size):
        return
    names = ["mnist", *workloads().names(scale="dev", scored=True, variants=False), *extra]
    for name in dict.fromkeys(names):
        try:
            submission.batch_size(name)
        except PacelineError as exc:
            report.problem(f"workload {name}: {exc}")


# ---- --smoke ---------------------------------------------------------------------------------

def smoke(args: argparse.Namespace, submission: Any, space: Any, report: Report) -> None:
    """A few steps on mnist dev through the real runner; its failure reason is a problem."""
    from sdk.experiment import TrialSpec, run_trial
    from sdk.rulesets import get_ruleset
    from sdk.runner import RunOptions
    from sdk.search_space import generate_search
    from sdk.trial_status import FAILURES

    point = None
    if args.ruleset == "external":
        if space is None:
            return  # already reported
        point = dict(generate_search(space, 1, seed=None)[0]._asdict())
    options = RunOptions(ruleset=args.ruleset, max_global_steps=args.smoke_steps,
                         save_checkpoints=False, tensorboard=False, progress=False,
                         clock="dev", clock_scale=1.0, threads=1)
    with tempfile.TemporaryDirectory(prefix="paceline_check_") as tmp:
        spec = TrialSpec(workload="mnist", framework=args.framework, scale="dev", study=0,
                         trial=1, hyperparameters=point, rng_seed=0,
                         trial_dir=Path(tmp) / "trial_1")
        result = run_trial(spec, submission, get_ruleset(args.ruleset_version), options)
    if result.status in FAILURES:
        report.problem(f"--smoke: mnist dev {result.status} at step {result.global_step}: "
                       f"{result.reason}")
    else:
        report.note(f"--smoke: {result.global_step} steps on mnist dev ran ({result.status}).")


COMMAND = Command(
    name="check",
    help="check a submission, its search space and (--smoke) a few training steps",
    description=__doc__,
    configure=configure,
    run=run,
)
