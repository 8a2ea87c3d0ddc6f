"""Properties of the profile arithmetic (hypothesis) and the spec's reference vectors.

    .venv/bin/python -m pytest tests/test_scoring_properties.py -q
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdk.scoring import (
    apply_heldout_rule,
    benchmark_scores,
    sample_held_out_workloads,
    score_times,
    scoring_rules,
    speedups,
)
from sdk.scoring.time_to_target import first_reaching
from sdk.target_reach import first_reaching_index

V05 = scoring_rules("0.5")
V06 = scoring_rules("0.6")
RULES = st.sampled_from([V05, V06])
TIME = st.one_of(st.floats(1e-3, 1e6), st.just(math.inf), st.just(math.nan))
FINITE = st.floats(1e-3, 1e6)


@st.composite
def tables(draw, rules=None):
    rules = rules or draw(RULES)
    names = draw(st.lists(st.sampled_from("abcdefg"), min_size=1, max_size=5, unique=True))
    columns = rules.scored_workloads
    times = {s: {w: draw(TIME) for w in columns} for s in names}
    return rules, times


def _scores(times, rules):
    result = score_times(times, rules)
    return result.grid, result.exact


def _ratios_row(ratios):
    return {f"w{i}": r for i, r in enumerate(ratios)}


@settings(max_examples=150, deadline=None)
@given(tables(), st.floats(1e-3, 1e3))
def test_scaling_every_time_changes_no_score(table, factor):
    rules, times = table
    scaled = {s: {w: t * factor for w, t in row.items()} for s, row in times.items()}
    for before, after in zip(_scores(times, rules), _scores(scaled, rules), strict=True):
        for s in times:
            assert after[s] == pytest.approx(before[s], abs=1e-12)


def test_a_time_of_zero_is_the_fastest_not_a_division_by_zero():
    # a dev-clock reading of a one-millisecond step can be 0: its ratio is 1, the others' inf
    rules = V06
    times = {"zero": {w: 0.0 for w in rules.scored_workloads},
             "slow": {w: 2.0 for w in rules.scored_workloads}}
    grid, exact = _scores(times, rules)
    assert grid["zero"] == exact["zero"] == pytest.approx(1.0)
    assert grid["slow"] == exact["slow"] == 0.0


@settings(max_examples=100, deadline=None)
@given(tables())
def test_fastest_on_every_workload_scores_one(table):
    rules, times = table
    best = {}
    for w in rules.scored_workloads:
        finite = [t for row in times.values() for t in [row[w]] if math.isfinite(t)]
        best[w] = min(finite) / 2 if finite else 1.0
    times = {**times, "champion": best}
    grid, exact = _scores(times, rules)
    assert grid["champion"] == pytest.approx(1.0, abs=1e-12)
    assert exact["champion"] == pytest.approx(1.0, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(tables(), st.sampled_from([math.inf, math.nan]))
def test_all_misses_score_zero(table, miss):
    rules, times = table
    times = {**times, "loser": {w: miss for w in rules.scored_workloads}}
    grid, exact = _scores(times, rules)
    assert grid["loser"] == 0.0 and exact["loser"] == 0.0


@settings(max_examples=200, deadline=None)
@given(tables(), st.data())
def test_a_smaller_time_never_lowers_that_submissions_score(table, data):
    rules, times = table
    s = data.draw(st.sampled_from(sorted(times)))
    w = data.draw(st.sampled_from(rules.scored_workloads))
    old = times[s][w]
    new = data.draw(st.floats(1e-3, old if math.isfinite(old) else 1e6))
    better = {k: dict(row) for k, row in times.items()}
    better[s][w] = new
    for before, after in zip(_scores(times, rules), _scores(better, rules), strict=True):
        assert after[s] >= before[s] - 1e-12


@settings(max_examples=100, deadline=None)
@given(tables())
def test_scores_lie_in_zero_one_and_grid_is_close_to_exact(table):
    rules, times = table
    grid, exact = _scores(times, rules)
    for s in times:
        assert 0.0 <= grid[s] <= 1.0 + 1e-12 and 0.0 <= exact[s] <= 1.0 + 1e-12
        assert abs(grid[s] - exact[s]) <= 1 / (2 * (rules.tau_grid_points - 1)) + 1e-12


@pytest.mark.parametrize(("ratios", "grid", "exact"), [
    ([1.0] * 8, 1.0, 1.0),
    ([2.0] * 8, 0.6717171717, 2 / 3),
    ([1.0] * 4 + [math.inf] * 4, 0.5, 0.5),
    ([1, 1.5, 2, 2.5, 3, 3.5, 4, math.inf], 0.4393939394, 10.5 / 24),
])
def test_reference_vectors_of_the_spec(ratios, grid, exact):
    times = {"best": {f"w{i}": 1.0 for i in range(8)},
             "s": {f"w{i}": r for i, r in enumerate(ratios)}}
    workloads = [f"w{i}" for i in range(8)]
    assert benchmark_scores(times, workloads)["s"] == pytest.approx(grid, abs=1e-10)
    assert benchmark_scores(times, workloads, method="exact")["s"] == pytest.approx(exact)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.floats(-10, 10), st.just(math.nan)), max_size=30),
       st.floats(-10, 10), st.booleans())
def test_first_reaching_agrees_with_the_runners_rule(values, target, minimized):
    assert first_reaching(np.array(values, dtype=float), target, minimized) == \
        first_reaching_index(values, target, minimized)


def test_held_out_rule_keeps_a_base_only_if_its_variant_counts():
    bases, held_out = ["ogbg", "wmt"], ["ogbg_model_size"]
    times = {
        "a": {"ogbg": 100.0, "ogbg_model_size": 100.0, "wmt": 10.0},
        "b": {"ogbg": 120.0, "ogbg_model_size": 500.0, "wmt": 50.0},  # variant > 4x a's
        "c": {"ogbg": 130.0, "ogbg_model_size": math.inf, "wmt": 10.0},  # variant missed
        "d": {"ogbg": math.inf, "ogbg_model_size": 1.0, "wmt": 10.0},  # base missed
        "e": {"ogbg": 390.0, "wmt": 10.0},  # variant without logs
    }
    kept, why = apply_heldout_rule(times, bases, held_out)
    assert kept["a"]["ogbg"] == 100.0
    assert kept["b"]["ogbg"] == math.inf and kept["b"]["wmt"] == math.inf
    assert kept["c"]["ogbg"] == math.inf and kept["d"]["ogbg"] == math.inf
    assert kept["e"]["ogbg"] == math.inf
    # d's fast variant does not count (its base missed), so b's 500 s is judged against a's
    assert why[("b", "ogbg")] == ("its held-out variant ogbg_model_size took more than 4x the "
                                 "fastest time")
    assert why[("b", "wmt")] == "it took more than 4x the fastest time"
    assert why[("c", "ogbg")] == "its held-out variant ogbg_model_size missed its target"
    assert why[("e", "ogbg")] == "its held-out variant ogbg_model_size has no logs"
    assert ("d", "ogbg") not in why


def test_the_official_held_out_draw_is_reproduced():
    assert sample_held_out_workloads(3438810845) == list(V05.held_out_workloads)
    assert V06.held_out_workloads == ()


def test_speedups_are_geometric_means_with_misses_at_the_budget():
    times = {"base": {"w1": 100.0, "w2": math.inf}, "new": {"w1": 50.0, "w2": 99.0}}
    result = speedups(times, "base", ["w1", "w2"], {"w1": 1000.0, "w2": 199.0})
    assert result["new"].per_workload == {"w1": 2.0, "w2": pytest.approx(200.0 / 99.0)}
    assert result["new"].geomean == pytest.approx(math.sqrt(2.0 * 200.0 / 99.0))
    assert result["base"].geomean == 1.0 and result["base"].time_reduction == 0.0
    assert result["new"].time_reduction == pytest.approx(1 - 1 / result["new"].geomean)
