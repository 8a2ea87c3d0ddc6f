"""Leaderboard entries on disk: finding AlgoPerf submission folders and what they need.

    paceline leaderboard run ../submissions_algorithms/submissions/self_tuning --ruleset self

An *entry* is a folder holding ``submission.py`` (the layout of
``mlcommons/submissions_algorithms``: ``submissions/<ruleset>/<name>/submission.py``). Its
name is the folder's name, which is how dev results are matched with the official logs. The
code is read where it lies and never copied.

    >>> entries = discover_entries("submissions/self_tuning")  # doctest: +SKIP
    >>> entries[0].name, entries[0].framework, entries[0].framework_source  # doctest: +SKIP
    ('ademamix', 'pytorch', 'imports')
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sdk.errors import PacelineError
from sdk.submission import repository_root

# Metadata files entries ship (both spellings exist upstream) and the field naming the framework.
INFO_FILES = ("submission_info.yml", "submission_info.yaml", "submissions_info.yml",
              "submissions_info.yaml")
_FRAMEWORK_LINE = re.compile(r"^\s*framework\s*:\s*[\"']?([A-Za-z]+)[\"']?\s*(#.*)?$",
                             re.MULTILINE | re.IGNORECASE)
_FRAMEWORKS = {"jax": "jax", "pytorch": "pytorch", "torch": "pytorch"}
# top-level module -> framework, for entries without a metadata file
_IMPORTS = {"jax": "jax", "flax": "jax", "optax": "jax", "jaxlib": "jax", "torch": "pytorch"}
# How deep below PATH to look for submission folders.
MAX_DEPTH = 4


@dataclass(frozen=True)
class Entry:
    """One submission folder and what paceline learned about it without importing it."""

    name: str
    folder: Path
    framework: str | None  # "jax" / "pytorch"; None when it cannot be told
    framework_source: str  # the info file's name, "imports", or why it is unknown
    search_space: Path | None  # the sibling tuning_search_space.json, if any
    import_root: Path | None  # the folder holding the top-level `submissions` folder

    @property
    def submission(self) -> Path:
        return self.folder / "submission.py"


def discover_entries(path: str | Path) -> list[Entry]:
    """Every submission folder at or below ``path`` (sorted by name), or one clear error.

    Two entries with the same folder name are an error: names match dev with official results.
    """
    root = Path(path)
    if not root.exists():
        raise PacelineError(f"{root} does not exist; pass a folder of AlgoPerf submissions "
                            "(e.g. a clone of mlcommons/submissions_algorithms).")
    if not root.is_dir():
        raise PacelineError(f"{root} is not a folder; pass a folder of AlgoPerf submissions.")
    folders = [root] if (root / "submission.py").is_file() else sorted(
        {p.parent for p in _find(root, MAX_DEPTH)})
    if not folders:
        raise PacelineError(f"No submission.py found in {root} or up to {MAX_DEPTH} levels "
                            "below it; pass a folder of AlgoPerf submission folders.")
    seen: dict[str, Path] = {}
    for folder in folders:
        if folder.name in seen:
            raise PacelineError(f"Two entries are named {folder.name!r} ({seen[folder.name]} and "
                                f"{folder}); pass a path that holds only one of them.")
        seen[folder.name] = folder
    return sorted((describe_entry(f) for f in folders), key=lambda e: e.name)


def _find(folder: Path, depth: int) -> list[Path]:
    """``submission.py`` files below ``folder`` (not in hidden or cache folders)."""
    out = []
    try:
        children = sorted(folder.iterdir())
    except OSError:
        return out
    for child in children:
        if child.name.startswith((".", "__")):
            continue
        if child.is_dir() and not child.is_symlink():
            if (child / "submission.py").is_file():
                out.append(child / "submission.py")
            elif depth > 1:
                out.extend(_find(child, depth - 1))
    return out


def describe_entry(folder: Path) -> Entry:
    """The entry in ``folder``: name, framework (info file, else imports), search space."""
    folder = Path(folder).resolve()
    framework, source = detect_framework(folder)
    space = folder / "tuning_search_space.json"
    return Entry(name=folder.name, folder=folder, framework=framework, framework_source=source,
                 search_space=space if space.is_file() else None,
                 import_root=repository_root(folder / "submission.py"))


def detect_framework(folder: Path) -> tuple[str | None, str]:
    """``(framework, where it was read)``: the ``framework:`` field of the entry's info file,
    else the frameworks its Python files import (jax / flax / optax against torch).

    Info files are read as text, one ``framework: JAX`` line (upstream files are YAML, some
    of them conda environments without the field).
    """
    for name in INFO_FILES:
        info = folder / name
        if not info.is_file():
            continue
        try:
            text = info.read_text(errors="replace")
        except OSError:
            continue
        found = _FRAMEWORK_LINE.search(text)
        if found and found.group(1).lower() in _FRAMEWORKS:
            return _FRAMEWORKS[found.group(1).lower()], name
    seen: set[str] = set()
    for py in sorted(folder.rglob("*.py")):
        seen |= _imported_frameworks(py)
    if len(seen) == 1:
        return seen.pop(), "imports"
    if not seen:
        return None, "no info file with a framework field and no jax or torch import"
    return None, "imports both jax and torch and no info file names the framework"


def _imported_frameworks(path: Path) -> set[str]:
    try:
        tree = ast.parse(path.read_text(errors="replace"))
    except (OSError, SyntaxError, ValueError):
        return set()
    found = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top in _IMPORTS:
                found.add(_IMPORTS[top])
    return found


def upstream(path: str | Path) -> dict[str, str]:
    """``{"repository", "commit", "path"}`` of ``path`` inside a git clone ("unknown" outside
    one): where an entry was built from."""
    path = Path(path).resolve()
    folder = path if path.is_dir() else path.parent

    def git(*argv: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(folder), *argv], capture_output=True,
                                  text=True, timeout=30, check=False)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else None

    top = git("rev-parse", "--show-toplevel")
    commit = git("rev-parse", "HEAD")
    if top is None or commit is None:
        return {"repository": "unknown", "commit": "unknown", "path": str(path)}
    remote = git("config", "--get", "remote.origin.url") or top
    try:
        relative = str(path.relative_to(Path(top).resolve()))
    except ValueError:
        relative = str(path)
    return {"repository": remote, "commit": commit, "path": relative}


def unmet_requirements(folder: str | Path) -> list[str]:
    """What the entry's ``requirements.txt`` asks for that this environment lacks.

    AlgoPerf's leaderboard installs each entry's own requirements (``schedule_free_adamw_jax``
    asks for ``optax==0.2.6`` where AlgoPerf pins 0.2.2), so an entry run without them may fail
    or differ from its official run. One phrase per unmet line, e.g. ``"optax==0.2.6 (installed:
    0.2.2)"``; lines that are not plain requirements (options, URLs, markers that do not apply)
    are ignored. Nothing is installed.
    """
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import InvalidRequirement, Requirement

    path = Path(folder) / "requirements.txt"
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    unmet = []
    for line in lines:
        text = line.split("#", 1)[0].strip()
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue  # blank, an option such as -r / --index-url, or a URL
        if req.marker is not None and not req.marker.evaluate():
            continue
        try:
            have = version(req.name)
        except PackageNotFoundError:
            unmet.append(f"{text} (not installed)")
            continue
        if req.specifier and not req.specifier.contains(have, prereleases=True):
            unmet.append(f"{text} (installed: {have})")
    return unmet
