"""The walk-throughs of docs/extending.md, built from the page's own code blocks and each run
briefly: the CLI command is found through a fake ``paceline.commands`` entry point and run by
``main``; the workload variant row is registered in a temporary registry, its class built and
trained two steps; the search strategy module, saved in a package built like
``external_tuning/strategies/``, is found by name and runs a two-trial ``paceline tune``. (The
one-file baseline is built and trained by tests/test_baselines_recipe.py.)

    pytest tests/test_extending_docs.py -q
"""

from __future__ import annotations

import csv
import math
import re
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest

from sdk import registry
from sdk.cli.main import main
from workloads.common.variants import Row, register_family, row_classes, rows_of

DOC = Path(__file__).resolve().parents[1] / "docs" / "extending.md"


def doc_block(section: str, language: str) -> str:
    """The first ``language`` code block of the doc's ``## section``."""
    text = DOC.read_text().split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", text, re.S)
    assert found, f"no {language} block in {section!r}"
    return found.group(1)


# ---- a CLI command -------------------------------------------------------------------------
@pytest.fixture
def command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The doc's command module on sys.path, announced by a fake entry point."""
    toml = doc_block("Adding a CLI command", "toml").splitlines()
    assert toml[0] == '[project.entry-points."paceline.commands"]'
    name, _, ref = (part.strip().strip('"') for part in toml[1].partition(" = "))
    module = ref.partition(":")[0]
    (tmp_path / f"{module}.py").write_text(doc_block("Adding a CLI command", "python"))
    monkeypatch.syspath_prepend(str(tmp_path))
    fake = metadata.EntryPoint(name, ref, "paceline.commands")
    real = metadata.entry_points

    def entry_points(**kwargs: str) -> object:
        found = list(real(**kwargs))
        return found + [fake] if kwargs.get("group") == fake.group else found

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    return name


def test_the_doc_command_runs_by_name(command: str, capsys: pytest.CaptureFixture) -> None:
    assert main([command, "--budget", "3600", "--step-time", "0.25"]) == 0
    out = capsys.readouterr().out
    assert out == "14400 steps fit in 3600 s.\n"
    assert out.strip() in DOC.read_text(), "the doc shows what the command prints"


@pytest.mark.parametrize("argv", [["--budget", "3600", "--step-time", "0"],
                                  ["--budget", "an hour", "--step-time", "0.25"]])
def test_bad_input_to_the_doc_command_is_one_sentence_and_exit_2(
        command: str, argv: list[str], capsys: pytest.CaptureFixture) -> None:
    assert main([command, *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"paceline {command}: ") and err.count("\n") == 1
    assert "Traceback" not in err
    if argv[-1] == "0":
        assert err.strip() in DOC.read_text(), "the doc shows the error as printed"


# ---- a workload variant --------------------------------------------------------------------
@pytest.fixture
def variant(monkeypatch: pytest.MonkeyPatch) -> Iterator[Row]:
    """The doc's row, registered with mnist's in a temporary registry and made by the factory."""
    import workloads.mnist.pytorch as mnist_pytorch
    from workloads.mnist.entries import ROWS

    (row,) = rows_of(tomllib.loads(doc_block("Adding a workload variant", "toml")))
    monkeypatch.setattr(registry, "_WORKLOADS",
                        registry._Registry("paceline.workloads", "workload", _loaded=True))
    register_family("mnist", (*ROWS, row), prepare="workloads.mnist.data:prepare", scored=False)
    monkeypatch.setattr(mnist_pytorch, "__getattr__", row_classes(
        mnist_pytorch.__name__, (*ROWS, row), mnist_pytorch.MnistPyTorchWorkload))
    yield row
    vars(mnist_pytorch).pop(row.classes["dev"]["pytorch"], None)


def test_the_doc_variant_is_one_row_the_registry_resolves(variant: Row) -> None:
    entry = registry.workloads().entry(variant.name)
    assert entry.base == "mnist" and not entry.scored
    assert variant.name in registry.workloads().names(scale="dev", variants=True)
    cls = registry.workloads().workload_class(variant.name, "dev", "pytorch")
    assert cls.__name__ == variant.classes["dev"]["pytorch"]
    assert (cls.name, cls.scale, cls.framework) == (variant.name, "dev", "pytorch")
    workload = cls()
    assert workload.eval_batch_size == variant.attributes["batch"]["dev_eval"]
    model, _ = workload.init_model_fn(np.array([0, 1]))
    assert sum(p.numel() for p in model.parameters()) > 0


def test_the_doc_variant_trains_two_steps(variant: Row, tmp_path: Path) -> None:
    from sdk.rulesets import get_ruleset
    from sdk.runner import RunOptions, train_once
    from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
    from sdk.submission import load_submission

    workload = registry.workloads().create(variant.name, "dev", "pytorch")
    space = SearchSpace.load(registry.baselines().entry("nadamw").search_space)
    point = make_hyperparameters(generate_search(space, 1, seed=0)[0]._asdict())
    result = train_once(workload, load_submission("nadamw", "pytorch", "external"), point, 0,
                        get_ruleset("0.5"),
                        RunOptions(max_global_steps=2, tensorboard=False,
                                   save_checkpoints=False, threads=1), tmp_path)
    assert result.status == "max_global_steps" and result.global_step == 2
    with open(tmp_path / "eval_measurements.csv", newline="") as f:
        losses = [float(row["validation/loss"]) for row in csv.DictReader(f)]
    assert losses and all(math.isfinite(x) for x in losses)


# ---- a built-in search strategy ---------------------------------------------------------------
STRATEGY_DOC = DOC.parent / "external_tuning.md"


@pytest.fixture
def packaged_strategy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The walk-through's module saved in a package built like external_tuning/strategies/
    (which imports every module it holds), imported with no other file changed; its name."""
    import importlib

    text = STRATEGY_DOC.read_text().split("## Adding a search strategy\n", 1)[1]
    module = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert '"my_searches:RandomSearch"' in module
    package = tmp_path / "my_strategies"
    package.mkdir()
    (package / "__init__.py").write_text(
        "from external_tuning.strategies import import_modules\n\n"
        "MODULES = import_modules(__name__, __path__)\n")
    (package / "random_search.py").write_text(
        module.replace('"my_searches:', '"my_strategies.random_search:'))
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.search_strategies().names()  # the built-in ones, loaded before the copy is made
    monkeypatch.setattr(registry._SEARCH_STRATEGIES, "entries",
                        dict(registry._SEARCH_STRATEGIES.entries))
    assert importlib.import_module("my_strategies").MODULES == ["my_strategies.random_search"]
    yield "random"
    for name in ("my_strategies", "my_strategies.random_search"):
        sys.modules.pop(name, None)


def test_a_module_in_a_strategies_package_is_found_by_name(packaged_strategy: str) -> None:
    cls = registry.search_strategies().strategy_class(packaged_strategy)
    assert cls.__module__ == "my_strategies.random_search" and cls.__name__ == "RandomSearch"


def test_the_packaged_strategy_runs_a_short_study(packaged_strategy: str,
                                                  tmp_path: Path) -> None:
    """`paceline tune --search random`: two trials of two steps on mnist, at the strategy's
    points, with nothing but the module added."""
    import json

    from sdk.search_space import SearchSpace

    space = SearchSpace.load(registry.baselines().entry("adamw").search_space)
    summary = tmp_path / "summary.json"
    assert main(["tune", "--workload", "mnist", "--submission", "adamw", "--search",
                 packaged_strategy, "--studies", "1", "--trials", "2", "--seed", "3",
                 "--max-global-steps", "2", "--threads", "1", "--no-tensorboard",
                 "--no-progress", "--no-checkpoints", "--experiment-dir", str(tmp_path),
                 "--json", str(summary)]) == 0
    trials = json.loads(summary.read_text())["trials"]
    assert len(trials) == 2 and {t["status"] for t in trials} == {"max_global_steps"}
    strategy = registry.search_strategies().strategy_class(packaged_strategy)
    drawn = [json.loads((Path(t["trial_dir"]) / "hparams.json").read_text()) for t in trials]
    seed = strategy.study_seed(3, 0, ("mnist",))
    assert drawn == strategy(space, 2, seed).suggest([], 2), "the trials ran the strategy's draws"


def test_builtin_strategies_need_no_entry_point_of_their_own() -> None:
    """paceline declares one entry point, the package; each of its modules registers a strategy."""
    import tomllib

    import external_tuning.strategies as builtin

    project = tomllib.loads((DOC.parents[1] / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["paceline.search_strategies"] == {
        "paceline": "external_tuning.strategies"}
    files = sorted(p.stem for p in Path(builtin.__file__).parent.glob("*.py")
                   if p.stem != "__init__")
    assert builtin.MODULES == [f"external_tuning.strategies.{f}" for f in files]
    owners = {registry.search_strategies().entry(n).strategy.partition(":")[0]
              for n in registry.search_strategies().names()}
    assert set(builtin.MODULES) <= owners
