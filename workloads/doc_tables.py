"""Numbers tables in the docs, generated from the code so that they cannot drift.

``docs/workloads.md`` holds the index of every dev workload and each family page
``docs/workloads/<family>.md`` its own numbers, between two marker lines::

    <!-- paceline-numbers: begin -->
    ...generated table...
    <!-- paceline-numbers: end -->

The tables come from the numbers the runner reads (the families' generated blocks) and say
where each set of numbers came from (``calibration.json``). ``paceline targets --write``
refreshes them; by hand::

    python -m workloads.doc_tables            # rewrite the tables
    python -m workloads.doc_tables --check    # exit 1 and name the stale files
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

BEGIN = "<!-- paceline-numbers: begin -->"
END = "<!-- paceline-numbers: end -->"
# README.md and docs/workloads.md: which families run at which scale, in which framework
SCALES_BEGIN = "<!-- paceline-scales: begin -->"
SCALES_END = "<!-- paceline-scales: end -->"
DOCS = Path(__file__).resolve().parent.parent / "docs"


def _registry():
    from sdk.registry import workloads

    return workloads()


def _class(name: str, framework: str = "pytorch"):
    registry = _registry()
    entry = registry.entry(name)
    fw = framework if framework in entry.classes["dev"] else entry.frameworks("dev")[0]
    return registry.workload_class(name, "dev", fw)


def source(name: str) -> str:
    """Where a dev workload's targets come from: its own procedure run, its base's, or a hand.

    A workload with a procedure record whose code overrides the recorded targets (mnist, a
    development workload like AlgoPerf's own) reads "hand-set (procedure: ...)".
    """
    from workloads.calibration_record import read_record
    from workloads.target_setting import numbers_from_record

    entry = _registry().entry(name)
    record = read_record(name)
    if record is not None:
        recorded, shipped = numbers_from_record(record), _class(name).numbers_for("0.5")
        if (recorded.validation_target_value, recorded.test_target_value) != (
                shipped.validation_target_value, shipped.test_target_value):
            return f"hand-set (procedure: {_target(recorded)})"
        return "procedure"
    if entry.base is not None:
        return "base's targets"
    return "hand-set"


def _target(n) -> str:
    test = "none" if n.test_target_value is None else f"{n.test_target_value:g}"
    return f"{n.validation_target_value:g} / {test}"


def index_table() -> str:
    """The markdown table of every dev workload (docs/workloads.md)."""
    rows = ["| workload | variant of | description | metric | target (val / test) | "
            "budget (s) | eval period (s) | step hint | targets from | docs |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    registry = _registry()
    names = registry.names(scale="dev")
    for name in sorted(names, key=lambda n: (registry.entry(n).base or n, n)):
        entry = registry.entry(name)
        n = _class(name).numbers_for("0.5")
        family = entry.base or name
        arrow = "↓" if n.metric_minimized else "↑"
        rows.append(
            f"| `{name}` | {entry.base or ''} | {entry.description} | "
            f"{n.target_metric_name} {arrow} | {_target(n)} | {n.max_allowed_runtime_sec:g} | "
            f"{n.eval_period_time_sec:g} | {n.step_hint} | {source(name)} | "
            f"[{family}](workloads/{family}.md) |")
    return "\n".join(rows)


def family_table(family: str) -> str:
    """The numbers of a family's base and variants under every ruleset version."""
    from sdk.rulesets import VERSIONS, version_label

    registry = _registry()
    names = [family] + sorted(n for n in registry.names(scale="dev")
                              if registry.entry(n).base == family)
    metric = _class(family).numbers_for("0.5")
    arrow = "lower is better" if metric.metric_minimized else "higher is better"
    frameworks = registry.entry(family).frameworks("dev")
    rows = [f"Validation metric: `{metric.target_metric_name}` ({arrow}). Budgets are "
            "seconds on the 2-core calibration machine (the dev clock, docs/runner.md); where "
            "the frameworks' budgets differ (the official step shares of later rules, "
            f"docs/scoring.md) they read {' / '.join(frameworks)}.", "",
            "| workload | rules | target (val / test) | budget (s) | eval period (s) | "
            "step hint | targets from |",
            "|---|---|---|---|---|---|---|"]
    for name in names:
        classes = [_class(name, fw) for fw in frameworks]
        for version in VERSIONS:
            each = [cls.numbers_for(version) for cls in classes]
            n = each[0]
            rows.append(f"| `{name}` | {version_label(version)} | {_target(n)} | "
                        f"{_per_framework(e.max_allowed_runtime_sec for e in each)} | "
                        f"{_per_framework(e.eval_period_time_sec for e in each)} | "
                        f"{n.step_hint} | {source(name)} |")
    return "\n".join(rows)


def _per_framework(values: Iterable[float]) -> str:
    """One number where every framework has it, else each framework's, slash-separated."""
    values = list(values)
    return f"{values[0]:g}" if len(set(values)) == 1 else " / ".join(f"{v:g}" for v in values)


def scales_table() -> str:
    """Every workload family: the frameworks it runs in at each scale, and its variants."""
    registry = _registry()
    names = registry.names()
    families = sorted({registry.entry(n).base or n for n in names})
    rows = ["| family | dev scale | official scale | official variants |", "|---|---|---|---|"]
    for family in families:
        entry = registry.entry(family)
        variants = [n for n in names if registry.entry(n).base == family
                    and registry.entry(n).official_variant
                    and registry.entry(n).frameworks("official")]
        cells = [", ".join(entry.frameworks(scale)) or "—" for scale in ("dev", "official")]
        rows.append(f"| `{family}` | {cells[0]} | {cells[1]} | {len(variants)} |")
    return "\n".join(rows)


def _replace_block(text: str, table: str, path: Path,
                   begin: str = BEGIN, end: str = END) -> str:
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{path} has no '{begin}' ... '{end}' block to fill.")
    return pattern.sub(lambda _: f"{begin}\n{table}\n{end}", text, count=1)


def expected(docs: Path = DOCS) -> dict[Path, str]:
    """Every generated doc file, as it should read now."""
    out: dict[Path, str] = {}
    index = docs / "workloads.md"
    scales = scales_table()
    out[index] = _replace_block(_replace_block(index.read_text(), index_table(), index),
                                scales, index, SCALES_BEGIN, SCALES_END)
    readme = docs.parent / "README.md"
    if readme.is_file() and SCALES_BEGIN in readme.read_text():
        out[readme] = _replace_block(readme.read_text(), scales, readme,
                                     SCALES_BEGIN, SCALES_END)
    registry = _registry()
    for family in sorted({registry.entry(n).base or n for n in registry.names(scale="dev")}):
        page = docs / "workloads" / f"{family}.md"
        if page.is_file():
            out[page] = _replace_block(page.read_text(), family_table(family), page)
    return out


def stale(docs: Path = DOCS) -> list[Path]:
    return [path for path, text in expected(docs).items() if path.read_text() != text]


def refresh(docs: Path = DOCS) -> list[Path]:
    """Rewrite the stale tables; returns the files changed (none when docs/ is absent)."""
    if not (docs / "workloads.md").is_file():
        return []
    from sdk.trial_logs import atomic_write_text

    changed = []
    for path, text in expected(docs).items():
        if path.read_text() != text:
            atomic_write_text(path, text)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only report stale files (exit 1 if any)")
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    if args.check:
        bad = stale(args.docs)
        for path in bad:
            print(f"stale numbers table: {path} (run python -m workloads.doc_tables)")
        return 1 if bad else 0
    for path in refresh(args.docs):
        print(f"rewrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
