"""How much code is duplicated: pairs of six or more identical lines, per top-level folder.

    .venv/bin/python benchmarks/bench_duplication.py                  # every folder
    .venv/bin/python benchmarks/bench_duplication.py baselines        # one folder's files
    .venv/bin/python benchmarks/bench_duplication.py --show baselines  # and list its pairs

The scan is pylint's similarity checker (symilar, the ``duplicate-code`` check) over every
``*.py`` file of the repository: comments, docstrings and import lines are ignored, and each
run of at least ``--min-lines`` (default 6) identical lines shared by two files counts as one
pair. A pair whose two files lie in the same top-level folder (``baselines/``,
``workloads/``, ``sdk/``, ...) counts for that folder; one across folders counts as
``(across folders)``. Issue #17 uses this count to show where the repetition sits.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from pylint.checkers.symilar import Symilar

ROOT = Path(__file__).resolve().parents[1]
SKIPPED = {"build", "dist", "paceline.egg-info", "node_modules", "__pycache__"}
ACROSS = "(across folders)"


def python_files(root: Path, folders: list[str]) -> list[Path]:
    """The repository's ``*.py`` files (or those under ``folders``), hidden folders skipped."""
    tops = [root / f for f in folders] if folders else [root]
    found = (p for top in tops for p in top.rglob("*.py"))
    return sorted(p for p in found
                  if not any(part.startswith(".") or part in SKIPPED
                             for part in p.relative_to(root).parts))


def duplicate_pairs(files: list[Path], min_lines: int, root: Path = ROOT
                    ) -> Iterator[tuple[str, str, int]]:
    """``(file, other file, lines)`` for each run of ``min_lines`` or more shared lines."""
    sim = Symilar(min_lines=min_lines, ignore_comments=True, ignore_docstrings=True,
                  ignore_imports=True)
    for path in files:
        with open(path, encoding="utf-8") as stream:
            sim.append_stream(str(path.relative_to(root)), stream)
    for common in sim._iter_sims():  # noqa: SLF001 - symilar's public API only prints
        yield common.fst_lset.name, common.snd_lset.name, common.cmn_lines_nb


def folder_of(a: str, b: str) -> str:
    """The top-level folder both files lie in, or ``ACROSS``."""
    top_a, top_b = Path(a).parts[0], Path(b).parts[0]
    if top_a != top_b:
        return ACROSS
    return top_a + "/" if len(Path(a).parts) > 1 else "(root)"


def count_by_folder(pairs: list[tuple[str, str, int]]) -> Counter[str]:
    return Counter(folder_of(a, b) for a, b, _ in pairs)


def print_table(counts: Counter[str], n_files: int) -> None:
    width = max([len(k) for k in counts] + [len("folder")])
    print(f"{'folder':{width}s}  pairs")
    for folder, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{folder:{width}s}  {n:5d}")
    print(f"{'total':{width}s}  {sum(counts.values()):5d}   ({n_files} files scanned)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", help="scan only these top-level folders")
    parser.add_argument("--min-lines", type=int, default=6)
    parser.add_argument("--show", action="append", default=[], metavar="FOLDER",
                        help="also list the pairs counted for FOLDER (repeatable)")
    args = parser.parse_args(argv)
    files = python_files(ROOT, args.folders)
    pairs = list(duplicate_pairs(files, args.min_lines))
    print_table(count_by_folder(pairs), len(files))
    shown = {f.rstrip("/") + "/" for f in args.show}
    for a, b, n in sorted(pairs):
        if folder_of(a, b) in shown:
            print(f"  {n:3d} lines  {a}  ~  {b}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
