"""Quasi-random points against AlgoPerf's own generator.

The reference vectors below were produced by running AlgoPerf's ``algoperf/halton.py``
(``generate_search``, commit 2c90454f) with its final shuffle disabled, so they list the points
in Halton order; only the values are kept here.

    .venv/bin/python -m pytest tests/test_search_space_halton.py -q
"""

from __future__ import annotations

import pytest

from sdk.search_space import SearchSpace, generate_search

MNIST_DEV = {
    "learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
    "one_minus_beta_1": {"min": 0.9, "max": 0.999, "scaling": "log"},
    "epsilon": {"feasible_points": [1e-8, 1e-5, 1e-3]},
}
NADAMW_ARCHIVED = {
    "learning_rate": {"min": 1e-4, "max": 1e-2, "scaling": "log"},
    "one_minus_beta1": {"min": 4e-3, "max": 0.1, "scaling": "log"},
    "beta2": {"feasible_points": [0.999]},
    "warmup_factor": {"feasible_points": [0.05]},
    "weight_decay": {"min": 5e-3, "max": 1.0, "scaling": "log"},
    "label_smoothing": {"feasible_points": [0.1, 0.2]},
    "dropout_rate": {"feasible_points": [0.0, 0.1]},
}
ONE_LINEAR = {"x": {"min": -2.0, "max": 3.0, "scaling": "linear"}}
MIXED = {
    "opt": {"feasible_points": ["adam", "sgd", "lion", "shampoo"]},
    "lr": {"min": 1e-5, "max": 1.0, "scaling": "log"},
    "wd": {"min": 0.0, "max": 0.5, "scaling": "linear"},
    "warmup": {"feasible_points": [0.0, 0.02, 0.05, 0.1, 0.2]},
}

MNIST_8 = [
    (0.00018805814126031094, 0.9261041856291229, 1e-08),
    (0.004102837916179185, 0.9980795034695658, 0.001),
    (0.0003264380984723828, 0.9218860746682127, 1e-05),
    (0.00022388974765184526, 0.9359885294276069, 1e-05),
    (0.00021867482734955852, 0.9457775312698341, 0.001),
    (0.004487236251595049, 0.9289598501204891, 0.001),
    (0.001731682182338991, 0.9113762798169422, 0.001),
    (0.0005560594270350488, 0.9479890955301097, 1e-08),
]
NADAMW_5 = [
    (0.0019814680146414726, 0.045677535963609565, 0.999, 0.05, 0.010340635370188849, 0.1, 0.0),
    (0.0002366315233112939, 0.007676940273940445, 0.999, 0.05, 0.358796133013872, 0.2, 0.1),
    (0.0009554263254837416, 0.05281759963218209, 0.999, 0.05, 0.01950318659958426, 0.1, 0.0),
    (0.00010054778177688589, 0.005702987383013654, 0.999, 0.05, 0.012638327613865154, 0.1, 0.0),
    (0.00019766560226064676, 0.040447795913733486, 0.999, 0.05, 0.012300240728935494, 0.1, 0.1),
]
LINEAR_7 = [(-0.5693786135809058,), (2.150096663916571,), (-0.1960183714012902,),
            (0.3741128092243411,), (2.3720946457531005,), (1.8625083692647042,),
            (2.6142742623020405,)]
MIXED_6 = [
    ("lion", 4.8498727991829236e-05, 0.13698721863266816, 0.02),
    ("shampoo", 0.10782287331597222, 0.49558335291547584, 0.2),
    ("sgd", 0.00019253163480435743, 0.11511539767641177, 0.02),
    ("lion", 7.500418858533615e-05, 0.18785191853093874, 0.05),
    ("sgd", 7.07126284701566e-05, 0.23769932443124397, 0.2),
    ("shampoo", 0.13487993221159209, 0.15173798160316654, 0.1),
]

CASES = [
    ("mnist-3", MNIST_DEV, 3, MNIST_8[:3]),
    ("mnist-5", MNIST_DEV, 5, MNIST_8[:5]),
    ("mnist-8", MNIST_DEV, 8, MNIST_8),
    ("nadamw-5", NADAMW_ARCHIVED, 5, NADAMW_5),
    ("linear-1", ONE_LINEAR, 1, LINEAR_7[:1]),
    ("linear-7", ONE_LINEAR, 7, LINEAR_7),
    ("mixed-6", MIXED, 6, MIXED_6),
]


def _values(points) -> list[tuple]:  # noqa: ANN001
    return [tuple(p) for p in points]


def _close(a: tuple, b: tuple) -> bool:
    return all(x == y if isinstance(y, str) else x == pytest.approx(y, rel=1e-12, abs=0)
               for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(("space", "n", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_points_match_algoperf_in_halton_order(space, n, expected) -> None:  # noqa: ANN001
    points = generate_search(SearchSpace.from_json(space), n, seed=None)
    assert len(points) == n
    for got, want in zip(_values(points), expected, strict=True):
        assert _close(got, want), (got, want)
    assert list(points[0]._fields) == list(space)


@pytest.mark.parametrize(("space", "n", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_seeded_order_is_a_reproducible_permutation(space, n, expected) -> None:  # noqa: ANN001
    parsed = SearchSpace.from_json(space)
    a = _values(generate_search(parsed, n, seed=7))
    assert a == _values(generate_search(parsed, n, seed=7))
    assert sorted(map(repr, a)) == sorted(map(repr, _values(generate_search(parsed, n, None))))
    assert len(a) == len(expected)


def test_different_seeds_give_different_orders_of_the_same_set() -> None:
    space = SearchSpace.from_json(MNIST_DEV)
    orders = {tuple(map(repr, _values(generate_search(space, 8, seed=s)))) for s in range(6)}
    assert len(orders) > 1
    assert {frozenset(o) for o in orders} == {frozenset(map(repr, MNIST_8))}


def test_list_form_keeps_file_order_and_truncates() -> None:
    points = [{"lr": 0.1, "wd": 0.0}, {"lr": 0.01, "wd": 0.1}, {"lr": 0.001, "wd": 0.2}]
    space = SearchSpace.from_json(points)
    assert [p.lr for p in generate_search(space, 2, seed=3)] == [0.1, 0.01]
    assert [p.lr for p in generate_search(space, 5, seed=3)] == [0.1, 0.01, 0.001]
