"""Every catalog variant builds and trains; random variants are seeded, valid workloads."""

from __future__ import annotations

import re

import pytest

from heldout import catalog
from heldout.perturb import generate, perturbation_space, variant_name
from heldout.random_variants import register, registered
from heldout.smoke import train_steps
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import VARIANT_TARGETS, base_workload_name

DEV_VARIANTS = [n for n in workloads().names(scale="dev", variants=True)
                if workloads().entry(n).official_variant]
FAMILIES_WITH_SPACES = []
for _base in sorted({workloads().entry(n).base for n in DEV_VARIANTS}):
    try:
        perturbation_space(_base)
        FAMILIES_WITH_SPACES.append(_base)
    except PacelineError:
        pass
SMOKE_BATCH = 8  # small batches: the test checks building and updating, not speed


def test_registered_variants_are_official_ones_with_their_base():
    assert DEV_VARIANTS, "no dev variants registered"
    for name in DEV_VARIANTS:
        entry = workloads().entry(name)
        assert name in VARIANT_TARGETS
        assert entry.base == base_workload_name(name)
        assert catalog.official_variants_of(entry.base, "dev").count(name) == 1


@pytest.mark.parametrize("name", DEV_VARIANTS)
def test_every_catalog_variant_builds_and_trains_a_few_steps(name):
    result = train_steps(name, "dev", "pytorch", steps=2, batch_size=SMOKE_BATCH)
    assert result.ok, result
    base = workloads().create(workloads().entry(name).base, "dev", "pytorch")
    variant = workloads().create(name, "dev", "pytorch")
    assert variant.model_overrides and variant.model_overrides != base.model_overrides
    assert variant.max_allowed_runtime_sec == base.max_allowed_runtime_sec  # base's budget


@pytest.mark.parametrize("base", FAMILIES_WITH_SPACES)
def test_random_variants_are_seeded_distinct_and_inside_the_space(base):
    one = generate(base, 3, seed=11)
    again = generate(base, 3, seed=11)
    other = generate(base, 3, seed=12)
    assert [v.name for v in one] == [v.name for v in again]
    assert [v.overrides for v in one] == [v.overrides for v in again]
    assert [v.name for v in one] != [v.name for v in other]
    assert len({v.name for v in one}) == 3
    space = perturbation_space(base)
    config = workloads().create(base, "dev", "pytorch").model_config
    for v in one:
        assert re.fullmatch(rf"{base}~[0-9a-f]{{6}}", v.name)  # a plain directory name
        assert base_workload_name(v.name) == base
        assert v.name == variant_name(base, v.overrides)
        assert 1 <= len(v.overrides) <= 2
        for knob, value in v.overrides.items():
            k = space[knob]
            if k.is_choice:
                assert value in [list(c) if isinstance(c, tuple) else c for c in k.choices]
                current = getattr(config, knob)
                assert value != (list(current) if isinstance(current, tuple) else current)
            else:
                assert k.low <= value <= k.high


@pytest.mark.parametrize("base", FAMILIES_WITH_SPACES)
def test_a_random_variant_is_an_ordinary_workload_that_trains(base):
    variant = generate(base, 1, seed=3)[0]
    register(variant)
    entry = workloads().entry(variant.name)
    assert entry.base == base and not entry.official_variant
    assert registered(variant.name) is variant
    w = workloads().create(variant.name, "dev", "pytorch")
    assert w.name == w.workload_name == variant.name
    assert w.base_workload_name == base
    for knob, value in variant.overrides.items():
        got = getattr(w.model_config, knob)
        assert (list(got) if isinstance(got, tuple) else got) == value
    result = train_steps(variant.name, "dev", "pytorch", steps=2, batch_size=SMOKE_BATCH)
    assert result.ok, result


def test_a_family_without_a_perturbation_space_is_a_clear_error():
    with pytest.raises(PacelineError, match="no perturbation space"):
        generate("mnist", 1, seed=0)


def test_unknown_random_variant_is_a_clear_error():
    from heldout.random_variants import variant_class

    with pytest.raises(PacelineError, match="not registered"):
        variant_class("ogbg~000000", "dev", "pytorch")


def test_knob_spellings_are_normalised():
    from heldout.perturb import _knob

    assert _knob("a", {"choices": (1, 2)}, "x").choices == (1, 2)
    assert _knob("a", {"feasible_points": [1, 2]}, "x").choices == (1, 2)
    for raw in ({"range": (0.5, 2.0), "scale": "log"}, {"low": 0.5, "high": 2.0, "log": True},
                {"min": 0.5, "max": 2.0, "scaling": "log"}):
        k = _knob("a", raw, "x")
        assert (k.low, k.high, k.log) == (0.5, 2.0, True)
    with pytest.raises(PacelineError, match="needs choices"):
        _knob("a", {"values": 3}, "x")


def test_candidate_pools_group_by_dataset_and_reuse_recorded_targets(tmp_path):
    from dataclasses import replace as dc_replace

    from heldout.simulate import choose_candidates, save_random_records

    record = tmp_path / "random_variants.json"
    pool = choose_candidates(["ogbg", "imagenet_resnet", "imagenet_vit"], "dev", "pytorch",
                             "both", 1, 0, (1, 2), record)
    assert list(pool.by_dataset) == ["imagenet", "ogbg"]  # the draw's dataset order
    imagenet = pool.by_dataset["imagenet"]
    assert imagenet[:3] == ("imagenet_resnet_silu", "imagenet_resnet_gelu",
                            "imagenet_resnet_large_bn_init")
    assert sum("~" in n for n in imagenet) == 2 and len(imagenet) == 8
    assert all(not v.numbers for v in pool.random)

    numbers = workloads().workload_class("ogbg", "dev", "pytorch").numbers_for("0.5")
    ogbg_random = next(v for v in pool.random if v.base == "ogbg")
    ogbg_random.numbers = {"0.5": dc_replace(numbers, validation_target_value=0.123)}
    save_random_records(record, {v.name: v for v in pool.random})
    again = choose_candidates(["ogbg"], "dev", "pytorch", "random", 1, 0, (1, 2), record)
    assert again.random[0].name == ogbg_random.name
    assert again.random[0].numbers["0.5"].validation_target_value == 0.123
    assert workloads().create(ogbg_random.name, "dev", "pytorch").validation_target_value \
        == 0.123

    only_official = choose_candidates(["ogbg"], "dev", "pytorch", "official", 1, 0, (1,))
    assert only_official.names == ["ogbg_gelu", "ogbg_silu", "ogbg_model_size"]


@pytest.mark.slow
def test_a_simulation_with_random_variants_sets_their_targets_first(tmp_path, capsys):
    import json

    from sdk.cli.main import main

    out = tmp_path / "h.json"
    assert main(["heldout", "--submission", "nadamw", "--workloads", "ogbg", "--variants",
                 "random", "--random-per-base", "1", "--max-global-steps", "30",
                 "--experiment-dir", str(tmp_path), "--no-tensorboard", "--no-checkpoints",
                 "--reference", "nadamw", "--draws", "20", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    (variant,) = data["random_variants"]
    assert variant["targets_from"]["rule"] == "quick"
    assert variant["numbers"]["0.5"]["max_allowed_runtime_sec"] == \
        workloads().create("ogbg", "dev", "pytorch").max_allowed_runtime_sec
    assert [v["name"] for v in data["workloads"]["ogbg"]["variants"]] == [variant["name"]]
    assert (tmp_path / "dev" / "heldout" / "reference" / "external_tuning" / "nadamw").is_dir()
