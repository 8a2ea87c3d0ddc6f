"""Reference timings carry their spread over studies, and a run is placed inside or outside it."""

from __future__ import annotations

import math

from sdk.references import Spread, reference_spread

DATA = {"baselines": {
    "nadamw": {
        "mnist": {"time_to_target_sec": 10.0, "study_times": [9.0, 10.0, 12.0]},
        "ogbg": {"time_to_target_sec": 40.0, "study_times": [40.0, None, 38.0]},
        "wmt": {"time_to_target_sec": None, "study_times": [None, None]},
    },
    "old": {"mnist": {"time_to_target_sec": 7.5}},
}}


def test_the_spread_is_read_from_study_times():
    spread = reference_spread(DATA)
    assert spread["nadamw"]["mnist"] == Spread(10.0, 9.0, 12.0, 3, 0)
    assert spread["nadamw"]["ogbg"] == Spread(40.0, 38.0, 40.0, 3, 1)
    assert spread["nadamw"]["wmt"].misses == 2
    assert spread["old"]["mnist"] == Spread(7.5, 7.5, 7.5, 1, 0)  # files without study_times
    assert set(reference_spread(DATA, ["wmt"])["nadamw"]) == {"wmt"}


def test_a_run_is_placed_against_the_spread():
    mnist = Spread(10.0, 9.0, 12.0, 3, 0)
    assert mnist.place(9.5) == "inside"
    assert mnist.place(8.0) == "faster"
    assert mnist.place(13.0) == "slower"
    assert mnist.place(math.inf) == "slower"
    some_missed = Spread(40.0, 38.0, 40.0, 3, 1)
    assert some_missed.place(55.0) == "inside"  # a study of the reference missed too
    assert some_missed.place(math.inf) == "inside"
    never = Spread(math.inf, math.inf, math.inf, 2, 2)
    assert never.place(30.0) == "faster"
    assert "[9.0-12.0]" in mnist.text() and "n=3" in mnist.text()
    assert never.text().startswith("miss")
    assert some_missed.text() == "40.0 [38.0-40.0] (n=3, 1 missed)"
    assert Spread(math.inf, 21.7, 21.7, 3, 2).text() == "miss [21.7] (n=3, 2 missed)"
