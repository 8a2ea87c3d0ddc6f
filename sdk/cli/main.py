"""`paceline`: the one command line of the kit.

    paceline --help
    paceline run --workload mnist --framework pytorch --submission nadamw
    paceline score experiments/dev/external_tuning/nadamw

Built-in subcommands live in ``sdk/cli``; the other packages add theirs through the
``paceline.commands`` entry-point group, so this module imports nothing concrete. Only the
module of the subcommand being run is imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from importlib import metadata
from typing import NoReturn

from sdk.cli.command import Command
from sdk.errors import PacelineError

# name -> "module:attribute" for the subcommands sdk itself provides.
BUILTIN_COMMANDS = {
    "run": "sdk.cli.run_cmd:COMMAND",
    "check": "sdk.cli.check_cmd:COMMAND",
    "score": "sdk.cli.score_cmd:COMMAND",
    "reference": "sdk.cli.reference_cmd:COMMAND",
    "workloads": "sdk.cli.workloads_cmd:COMMAND",
}


def _command_table() -> dict[str, str]:
    table = dict(BUILTIN_COMMANDS)
    for entry in metadata.entry_points(group="paceline.commands"):
        table.setdefault(entry.name, entry.value)
    return table


def _load(ref: str) -> Command:
    module_name, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module_name), attr)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error: ``paceline run: argument --trials: ...; see --help``."""

    def error(self, message: str) -> NoReturn:
        # "argument --trials: must be at least 1, not 0" reads "--trials must be at least 1..."
        message = re.sub(r"^argument (\S+): (must )", r"\1 \2", message.rstrip("."))
        self.exit(2, f"{self.prog}: {message}; see `{self.prog} --help`.\n")


def _build_parser(commands: dict[str, Command], broken: dict[str, str]) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="paceline",
        description="Develop, tune and score training algorithms for AlgoPerf.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, command in commands.items():
        p = sub.add_parser(
            name,
            help=command.help,
            description=command.description or command.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(p)
        p.set_defaults(_command=command)
    for name, reason in broken.items():
        sub.add_parser(name, help=f"(unavailable: {reason})")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    table = _command_table()
    first = next((a for a in argv if not a.startswith("-")), None)
    wanted = [first] if first in table else sorted(table)
    commands: dict[str, Command] = {}
    broken: dict[str, str] = {}
    for name in wanted:
        try:
            commands[name] = _load(table[name])
        except (ImportError, AttributeError) as exc:
            if name == first:
                raise
            broken[name] = f"{type(exc).__name__}: {exc}"
    parser = _build_parser(commands, broken)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a bad flag that argparse has explained in one line
        return exc.code if isinstance(exc.code, int) else 2
    args._argv = argv  # the command line as given, for records of how a file was made
    if getattr(args, "_command", None) is None:
        parser.print_help()
        return 0 if not argv else 2
    try:
        return int(args._command.run(args) or 0)
    except PacelineError as exc:
        print(f"paceline {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:  # the reader left (`paceline ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141  # a shell's status for a process ended by SIGPIPE
    except (OSError, MemoryError) as exc:
        sentence = user_error(exc)
        if sentence is None or os.environ.get("PACELINE_TRACEBACK"):
            raise
        print(f"paceline {args.command}: {sentence}", file=sys.stderr)
        return PacelineError.exit_code
    except KeyboardInterrupt:
        print(f"paceline {args.command}: interrupted; finished work is kept, "
              f"{_how_to_continue(args)}.", file=sys.stderr)
        return 130


def _how_to_continue(args: argparse.Namespace) -> str:
    """What to type after Ctrl-C: commands with --resume need it; `tune` resumes by itself."""
    if getattr(args, "resume", False):
        return "rerun the same command to continue"
    if hasattr(args, "resume"):
        return "rerun with --resume to continue"
    return "rerun the same command to continue"


def user_error(exc: BaseException) -> str | None:
    """One sentence for an error a user's input can cause and no reader caught, else None.

    The error boundary of the CLI: file-system errors that name a path (an output folder that
    is missing, read-only or a file; a path under /proc) and running out of memory. Malformed
    files are caught where they are read (:mod:`sdk.input_files`), which can name the file.
    Every other exception is a bug in paceline or in the submission and keeps its traceback;
    ``PACELINE_TRACEBACK=1`` shows the traceback anyway.
    """
    if isinstance(exc, OSError) and exc.filename is not None:
        where = exc.filename if exc.filename2 is None else f"{exc.filename} -> {exc.filename2}"
        reason = exc.strerror or type(exc).__name__
        return f"Cannot use {where} ({reason}); check the path and its permissions."
    if isinstance(exc, MemoryError):
        return ("Out of memory; a flag asks for more than this machine holds (--trials, "
                "--draws?) or an input file is too large.")
    return None


if __name__ == "__main__":
    sys.exit(main())
