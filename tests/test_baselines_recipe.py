"""The "Adding a baseline" walk-through of docs/baselines.md stays true: its file and search
space, written to a temporary package, register through the catalog's discovery and train a
few MNIST steps in both frameworks and both rulesets; and every shipped declaration is found
and makes valid AlgoPerf modules. Fast tests (not marked slow).

    .venv/bin/python -m pytest tests/test_baselines_recipe.py -q
"""

from __future__ import annotations

import csv
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sdk import registry
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
from sdk.submission import load_submission

DOC = Path(__file__).resolve().parents[1] / "docs" / "baselines.md"
STEPS = 3


def recipe() -> tuple[str, str]:
    """The walk-through's Python file and search space, as the page shows them."""
    section = DOC.read_text().split("## Adding a baseline", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    space = re.search(r"```json\n(.*?)```", section, re.S).group(1)
    return code, space


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The example baseline, declared in a temporary package and registered as the catalog
    registers shipped ones."""
    from baselines.catalog import declared

    root = tmp_path_factory.mktemp("recipe")
    folder = root / "recipe_baselines" / "adam_example"
    folder.mkdir(parents=True)
    (folder.parent / "__init__.py").write_text("")
    code, space = recipe()
    (folder / "__init__.py").write_text(code)
    (folder / "tuning_search_space.json").write_text(space)
    sys.path.insert(0, str(root))
    entries = registry.baselines()  # the shipped ones load first, so nothing overrides ours
    entries.names()
    try:
        [entry] = declared("recipe_baselines", folder.parent)
        entries.register(entry)
        yield entry
    finally:
        registry._BASELINES.entries.pop("adam_example", None)  # noqa: SLF001
        sys.path.remove(str(root))


def test_the_recipe_declares_one_baseline_with_both_rulesets(example: Any) -> None:
    assert example.name == "adam_example"
    assert set(example.modules) == {"external", "self"}
    assert set(example.modules["self"]) == {"pytorch", "jax"}
    assert SearchSpace.load(example.search_space).names


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
@pytest.mark.parametrize("ruleset", ["external", "self"])
def test_the_recipe_trains_on_mnist(example: Any, ruleset: str, framework: str,
                                    tmp_path: Path) -> None:
    from sdk.registry import workloads

    sub = load_submission("adam_example", framework, ruleset)
    assert sub.check() == []
    hp = None
    if ruleset == "external":
        point = generate_search(SearchSpace.load(example.search_space), 1, seed=0)[0]
        hp = make_hyperparameters(point._asdict())
    workload = workloads().create("mnist", "dev", framework)
    result = train_once(workload, sub, hp, 0, get_ruleset("0.5"),
                        RunOptions(ruleset=ruleset, max_global_steps=STEPS, tensorboard=False,
                                   save_checkpoints=False, threads=1), tmp_path)
    assert result.status == "max_global_steps" and result.global_step == STEPS
    with open(tmp_path / "eval_measurements.csv", newline="") as f:
        losses = [float(row["validation/loss"]) for row in csv.DictReader(f)]
    assert losses and all(math.isfinite(x) for x in losses)


def test_every_shipped_baseline_is_found_and_makes_valid_submissions() -> None:
    from baselines.catalog import declared

    names = [entry.name for entry in declared()]
    assert names == ["adamw", "momentum", "nadamw", "nesterov", "schedule_free_adamw",
                     "self_tuning_example"]
    for entry in declared():
        for ruleset, by_framework in entry.modules.items():
            for framework in by_framework:
                sub = load_submission(entry.name, framework, ruleset)
                assert sub.check() == [], (entry.name, ruleset, framework)
                assert sub.batch_size("mnist") == 16


def test_a_declaration_defaults_to_its_package(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """``builders=`` names the shared optimizer pair; ``name`` and ``search_space`` come from
    the package (a search space only where the file exists)."""
    import types

    from baselines.common import Baseline

    for name, with_space in (("with_space", True), ("without_space", False)):
        module = types.ModuleType(f"somewhere.{name}")
        module.__file__ = str(tmp_path / name / "__init__.py")
        (tmp_path / name).mkdir()
        if with_space:
            (tmp_path / name / "tuning_search_space.json").write_text("{}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        entry = Baseline(package=module.__name__, builders="nadamw")
        assert entry.name == name
        assert entry.search_space == (tmp_path / name / "tuning_search_space.json"
                                      if with_space else None)
        assert entry.jax == "baselines.common.jax_optimizers:build_nadamw"
        assert entry.optimizer("pytorch").__name__ == "build_nadamw"
        assert set(entry.modules) == {"external"}
    assert Baseline(name="other", package="somewhere.with_space").name == "other"
    with pytest.raises(ValueError, match="builders= replaces pytorch= and jax="):
        Baseline(package="somewhere.with_space", builders="nadamw", jax=lambda *a: None)
