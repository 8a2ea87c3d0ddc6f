"""Search-space JSON problems end in one sentence that names the parameter and the problem.

    .venv/bin/python -m pytest tests/test_search_space_validation.py -q
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.errors import PacelineError, SearchSpaceError
from sdk.search_space import SearchSpace

BAD = [
    ({"lr": 0.1}, ["'lr'", "must be an object"]),
    ({"lr": {"min": 1e-4, "max": 1e-2}}, ["'lr'", "missing scaling"]),
    ({"lr": {"max": 1e-2, "scaling": "log"}}, ["'lr'", "missing min"]),
    ({"lr": {"min": 1e-2, "max": 1e-4, "scaling": "log"}}, ["'lr'", "larger than max"]),
    ({"lr": {"min": 0.0, "max": 1e-2, "scaling": "log"}}, ["'lr'", "log scaling needs min > 0"]),
    ({"lr": {"min": 1e-4, "max": 1e-2, "scaling": "cubic"}}, ["'lr'", "'linear' or 'log'"]),
    ({"lr": {"min": "a", "max": 1e-2, "scaling": "log"}}, ["'lr'", "finite numbers"]),
    ({"lr": {"min": 1e-4, "max": 1e-2, "scaling": "log", "step": 2}}, ["'lr'", "unknown keys"]),
    ({"eps": {"feasible_points": []}}, ["'eps'", "non-empty list"]),
    ({"eps": {"feasible_points": 1e-8}}, ["'eps'", "non-empty list"]),
    ({"eps": {"feasible_points": [1], "min": 0}}, ["'eps'", "mixes feasible_points"]),
    ({}, ["no hyperparameters"]),
    ([], ["list of points is empty"]),
    ([{"lr": 0.1}, 3], ["every point in the list must be a JSON object"]),
    ([{"lr": 0.1, "wd": 0.0}, {"lr": 0.2}], ["point 2", "lacks ['wd']"]),
    ([{"lr": 0.1}, {"lr": 0.2, "wd": 1}], ["point 2", "adds ['wd']"]),
    ("lr", ["JSON object of hyperparameters or a list of points"]),
]


@pytest.mark.parametrize(("data", "words"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_spaces_name_the_parameter_and_the_problem(data, words) -> None:  # noqa: ANN001
    with pytest.raises(SearchSpaceError) as info:
        SearchSpace.from_json(data, source="space.json")
    message = str(info.value)
    assert isinstance(info.value, PacelineError)
    assert message.startswith("space.json")
    assert "\n" not in message
    for word in words:
        assert word in message


def test_files_that_are_missing_or_not_json(tmp_path: Path) -> None:
    with pytest.raises(SearchSpaceError, match="does not exist"):
        SearchSpace.load(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"lr": {"min": 1e-4,}}')
    with pytest.raises(SearchSpaceError, match=r"not valid JSON .* line 1"):
        SearchSpace.load(bad)


def test_every_algoperf_form_round_trips(tmp_path: Path) -> None:
    dict_form = {
        "learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
        "warmup": {"min": 0.0, "max": 0.2, "scaling": "linear"},
        "fixed": {"min": 0.5, "max": 0.5, "scaling": "linear"},
        "opt": {"feasible_points": ["adam", "sgd"]},
        "nesterov": {"feasible_points": [True, False]},
    }
    list_form = [{"lr": 0.1, "opt": "adam"}, {"lr": 0.01, "opt": "sgd"}]
    for data in (dict_form, list_form):
        path = tmp_path / "space.json"
        path.write_text(json.dumps(data))
        space = SearchSpace.load(path)
        assert space.to_json() == data
        assert SearchSpace.from_json(space.to_json(), source=str(path)) == space
