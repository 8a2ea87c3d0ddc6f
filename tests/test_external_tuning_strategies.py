"""Search strategies as plug-ins: every registered one keeps the contract, and the example of
docs/external_tuning.md ("Adding a search strategy") is found through a fake entry point and
run by `paceline tune --search random --dry-run`.

    pytest tests/test_external_tuning_strategies.py -q
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path

import pytest
from test_external_tuning_support import REPO, SPACE

from sdk import rng as prng
from sdk.cli.main import main
from sdk.registry import _SEARCH_STRATEGIES, search_strategies
from sdk.search_space import SearchSpace

DOC = REPO / "docs" / "external_tuning.md"
SUBMISSION = REPO / "tests" / "submissions" / "algoperf_pytorch" / "submission.py"


def doc_block(language: str) -> str:
    """The first ``language`` code block of the doc's "Adding a search strategy" section."""
    section = DOC.read_text().split("## Adding a search strategy", 1)[1].split("\n## ", 1)[0]
    found = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert found, f"no {language} block in the section"
    return found.group(1)


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The doc's strategy module on sys.path, announced by a fake entry point."""
    (tmp_path / "my_searches.py").write_text(doc_block("python"))
    monkeypatch.syspath_prepend(str(tmp_path))
    toml = doc_block("toml")
    assert '[project.entry-points."paceline.search_strategies"]' in toml
    name, _, module = toml.splitlines()[1].partition(" = ")
    fake = metadata.EntryPoint(name.strip(), module.strip('"'), "paceline.search_strategies")
    real = metadata.entry_points

    def entry_points(**kwargs: str) -> object:
        found = list(real(**kwargs))
        return found + [fake] if kwargs.get("group") == fake.group else found

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    monkeypatch.setattr(_SEARCH_STRATEGIES, "entries", dict(_SEARCH_STRATEGIES.entries))
    monkeypatch.setattr(_SEARCH_STRATEGIES, "_loaded", False)
    return name.strip()


def test_the_doc_example_is_a_search_paceline_tune_finds_by_name(
        plugin: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    space = tmp_path / "space.json"
    space.write_text(json.dumps(SPACE))
    assert main(["tune", "--workload", "mnist", "--submission", str(SUBMISSION),
                 "--tuning-search-space", str(space), "--search", plugin, "--studies", "2",
                 "--trials", "3", "--seed", "7", "--experiment-dir", str(tmp_path / "exp"),
                 "--dry-run", "--json", "-"]) == 0
    plan = json.loads(capsys.readouterr().out)
    strategy = search_strategies().strategy_class(plugin)
    for study in plan["studies"]:
        seed = prng.derive_seed(7, plugin, study["study"], "mnist")
        expected = strategy(SearchSpace.from_json(SPACE), 3, seed).suggest([], 3)
        assert [t["hyperparameters"] for t in study["trials"]] == expected
        assert {t["source"] for t in study["trials"]} == {plugin}
    # the experiment gets its own folder, named after the search
    assert plan["root"].endswith(f"_{plugin}")


def test_an_unknown_search_ends_in_one_sentence_naming_the_known_ones(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["tune", "--workload", "mnist", "--submission", str(SUBMISSION),
                 "--search", "annealing", "--dry-run",
                 "--experiment-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "Unknown search strategy 'annealing'" in err and "quasi-random" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("name", search_strategies().names())
def test_every_registered_strategy_keeps_the_contract(name: str) -> None:
    from external_tuning.tuner import TunerConfig

    cls = search_strategies().strategy_class(name)
    space = SearchSpace.from_json(SPACE)
    strategy = cls.create(space, TunerConfig(name, 4, 3))
    assert strategy.name == name == search_strategies().entry(name).name
    assert isinstance(cls.study_seed(3, 0, ("mnist",)), int)
    preview = strategy.preview([], 2)
    assert len(preview) == 2 and all(isinstance(source, str) for _, source in preview)
    first = strategy.suggest([], 1)
    assert len(first) == 1 and set(first[0]) == set(SPACE)
    assert 1 <= cls.in_flight_limit(4, 3) <= 4
    assert cls.groups(("a", "b"), shared=True) == [("a", "b")]
