"""`paceline check`: import a submission the way a run would and report API problems.

    paceline check my_algo/submission.py --tuning-search-space my_algo/tuning_search_space.json

Exit status 0 when everything is in order, 2 with one sentence per problem otherwise.
"""

from __future__ import annotations

import argparse
import sys

from sdk.cli.command import Command
from sdk.errors import PacelineError


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("submission", help="submission .py file, its folder, or a baseline name")
    p.add_argument("--tuning-search-space", metavar="JSON")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch",
                   help="which framework's baseline to check when given a baseline name")
    p.add_argument("--ruleset", choices=["external", "self"], default="external")
    p.add_argument("--workload", default="mnist",
                   help="workload name to ask get_batch_size about (default mnist)")


def run(args: argparse.Namespace) -> int:
    from sdk.search_space import SearchSpace, generate_search
    from sdk.submission import load_submission

    problems: list[str] = []
    submission = load_submission(args.submission, args.framework, args.ruleset)
    problems.extend(submission.check())
    if submission.get_batch_size is not None and callable(submission.get_batch_size):
        try:
            submission.batch_size(args.workload)
        except PacelineError as exc:
            problems.append(str(exc))
    if args.tuning_search_space:
        try:
            space = SearchSpace.load(args.tuning_search_space)
            generate_search(space, 5)
        except PacelineError as exc:
            problems.append(str(exc))
    if problems:
        for problem in problems:
            print(f"paceline check: {problem}", file=sys.stderr)
        return 2
    hooks = ["prepare_for_eval"] if submission.prepare_for_eval else []
    if submission.wants_train_state:
        hooks.append("train_state")
    print(f"{submission.name}: OK (API v{submission.api_version}"
          f"{'; uses ' + ', '.join(hooks) if hooks else ''}).")
    return 0


COMMAND = Command(
    name="check",
    help="check that a submission (and its search space) follows the AlgoPerf API",
    description=__doc__,
    configure=configure,
    run=run,
)
