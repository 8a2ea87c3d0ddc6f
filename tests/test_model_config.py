"""The one override step every family's ``make_config`` uses (workloads/common/model_config.py).

    .venv/bin/python -m pytest tests/test_model_config.py -q
"""

from __future__ import annotations

import pytest

from sdk.errors import PacelineError
from workloads.common.model_config import override
from workloads.criteo1tb import config as criteo
from workloads.ogbg import config as ogbg
from workloads.wmt import config as wmt


def test_an_unknown_knob_is_one_sentence_naming_the_known_ones() -> None:
    with pytest.raises(PacelineError, match=r"Unknown ogbg model override\(s\) colour, size; "
                                            r"known: .*latent_dim") as raised:
        override("ogbg", ogbg.DEV, {"size": 1, "colour": "red"})
    assert "\n" not in str(raised.value)


def test_overrides_replace_fields_and_tuple_fields_take_lists() -> None:
    cfg = override("ogbg", ogbg.DEV, {"hidden_dims": [64, 32], "latent_dim": 48},
                   tuples=("hidden_dims",))
    assert cfg.hidden_dims == (64, 32) and cfg.latent_dim == 48
    assert override("ogbg", ogbg.DEV, None) == ogbg.DEV


def test_family_make_config_checks_after_overriding() -> None:
    with pytest.raises(PacelineError, match="multiple of num_heads"):
        wmt.make_config("dev", {"d_model": 30})
    assert wmt.make_config("dev", None, vocab_size=77).vocab_size == 77
    assert wmt.make_config("dev", {"vocab_size": 5}, vocab_size=77).vocab_size == 5
    dims = criteo.make_config("dev", {"mlp_bottom_dims": [128, criteo.DEV.embed_dim]})
    assert dims.mlp_bottom_dims == (128, criteo.DEV.embed_dim)
