"""No code or documentation cites the notes paceline was written from, which are not in the
repository: a fact cites the AlgoPerf upstream file it comes from instead (e.g. AlgoPerf's
``algoperf/workloads/ogbg/workload.py``).

    nice -n 15 .venv/bin/python -m pytest -q tests/test_no_private_citations.py
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Spelled in pieces so this file does not cite them itself.
NOTES = ("algoperf-" + "spec", "official-" + "workloads")
SKIP = {".venv", ".git", "build", "dist", "node_modules", "__pycache__"}


def _files() -> list[Path]:
    out = []
    for suffix in ("*.py", "*.md"):
        for path in ROOT.rglob(suffix):
            parts = set(path.relative_to(ROOT).parts)
            if not parts & SKIP and not any(p.endswith(".egg-info") for p in parts):
                out.append(path)
    return sorted(out)


def citing_lines(paths: list[Path]) -> list[str]:
    """``path:line`` of every line in ``paths`` naming one of the notes."""
    found = []
    for path in paths:
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if any(note in line for note in NOTES):
                found.append(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{number}")
    return found


def test_no_file_cites_the_notes() -> None:
    files = _files()
    assert any(p.name == "runner.py" for p in files) and any(p.suffix == ".md" for p in files)
    found = citing_lines(files)
    assert not found, f"cite AlgoPerf's upstream path instead: {found}"


def test_a_citation_is_found(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text(f"# numbers from {NOTES[0]}.md §6.1\n")
    (tmp_path / "y.md").write_text(f"see `{NOTES[1]}.md`\nno citation here\n")
    assert len(citing_lines([tmp_path / "x.py", tmp_path / "y.md"])) == 2
