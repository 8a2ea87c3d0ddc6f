"""The benchmark's held-out draw and new draws (`paceline heldout draw`)."""

from __future__ import annotations

import json

import pytest

from heldout.catalog import dataset_of, official_catalog
from heldout.draw import draw, draw_probability, draw_seeds, official_seed
from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.rulesets import HELD_OUT_CANDIDATES

# The six held-out workloads the v0.5 competition was scored with (published in
# scoring/algoperf_v05/held_out_workloads_algoperf_v05.json), written out here on purpose.
PUBLISHED_V05 = [
    "librispeech_conformer_layernorm",
    "imagenet_resnet_large_bn_init",
    "ogbg_model_size",
    "wmt_glu_tanh",
    "fastmri_tanh",
    "criteo1tb_embed_init",
]


def test_the_official_seed_reproduces_the_published_draw():
    assert official_seed("0.5") == 3438810845
    assert draw(official_seed()) == PUBLISHED_V05


def test_v06_has_no_draw():
    with pytest.raises(PacelineError, match="no held-out workloads"):
        official_seed("0.6")


@pytest.mark.parametrize("seed", [0, 1, 7, 2**40])
def test_a_new_draw_takes_one_candidate_per_dataset_in_order(seed):
    held_out = draw(seed)
    assert len(held_out) == len(HELD_OUT_CANDIDATES)
    for name, candidates in zip(held_out, HELD_OUT_CANDIDATES.values(), strict=True):
        assert name in candidates
    assert draw(seed) == held_out


def test_draws_spread_over_every_candidate():
    seen = {d: set() for d in HELD_OUT_CANDIDATES}
    for seed in draw_seeds(0, 400):
        for dataset, name in zip(HELD_OUT_CANDIDATES, draw(seed), strict=True):
            seen[dataset].add(name)
    assert seen == {d: set(v) for d, v in HELD_OUT_CANDIDATES.items()}


def test_draw_probability_and_datasets():
    assert draw_probability(HELD_OUT_CANDIDATES, "ogbg_silu") == pytest.approx(1 / 3)
    assert draw_probability(HELD_OUT_CANDIDATES, "librispeech_conformer_gelu") == 0
    assert dataset_of("librispeech_deepspeech_tanh") == "librispeech"
    assert dataset_of("imagenet_vit") == "imagenet"


def test_catalog_lists_the_24_official_variants():
    entries = official_catalog()
    assert len(entries) == 24
    dropped = [e.name for e in entries if not e.candidate]
    assert dropped == ["librispeech_conformer_gelu"]
    assert {e.dataset for e in entries} == set(HELD_OUT_CANDIDATES)


def test_bad_seeds_and_counts_are_one_sentence_errors():
    with pytest.raises(PacelineError, match="non-negative"):
        draw(-1)
    with pytest.raises(PacelineError, match="at least 1"):
        draw_seeds(0, 0)


def test_cli_prints_and_writes_the_published_draw(tmp_path, capsys):
    out = tmp_path / "draw.json"
    assert main(["heldout", "draw", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "published v0.5 competition draw" in text
    assert "imagenet_vit, librispeech_deepspeech" in text  # bases left without a variant
    data = json.loads(out.read_text())
    assert data == {"seed": 3438810845, "held_out_workloads": PUBLISHED_V05,
                    "published_v05": True}


def test_cli_new_draw(tmp_path, capsys):
    out = tmp_path / "d.json"
    assert main(["heldout", "draw", "--seed", "7", "--json", str(out)]) == 0
    assert "published" not in capsys.readouterr().out
    assert json.loads(out.read_text())["held_out_workloads"] == draw(7)


def test_cli_simulation_needs_a_submission(capsys):
    assert main(["heldout"]) == 2
    assert "Pass --submission" in capsys.readouterr().err


def test_draw_and_catalog_import_no_framework():
    import subprocess
    import sys

    code = ("import sys\nfrom sdk.cli.main import main\nmain(['heldout', 'draw'])\n"
            "main(['heldout', 'catalog'])\n"
            "print(sorted(m for m in ('torch', 'jax', 'pandas') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"
