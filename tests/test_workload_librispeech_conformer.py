"""The Conformer workloads: official sizes, every workload training through the real runner,
what each variant changes, and every perturbation-space knob building and training."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
from sdk.submission import load_submission
from workloads.common.speech import data
from workloads.librispeech_conformer import config
from workloads.librispeech_conformer.model_pytorch import ConformerModel

pytestmark = pytest.mark.usefixtures("torch_one_thread")

NAMES = ["librispeech_conformer", "librispeech_conformer_attention_temperature",
         "librispeech_conformer_layernorm", "librispeech_conformer_gelu"]
OFFICIAL_PARAMS = {  # AlgoPerf's algoperf/workloads/librispeech_conformer/librispeech_pytorch/models.py, measured on AlgoPerf's PyTorch models
    "librispeech_conformer": 32_321_792,
    "librispeech_conformer_attention_temperature": 32_321_792,
    "librispeech_conformer_layernorm": 32_317_696,
    "librispeech_conformer_gelu": 32_321_792,
}


def _variant_class(name):
    return workloads().workload_class(name, "dev", "pytorch")


def _tiny_batch(speech_tiny_dir, rows=2):
    d = data.load_dev(speech_tiny_dir)
    b = d.splits["train"].batch(np.arange(rows), d.num_samples, d.num_targets)
    return {k: tuple(torch.from_numpy(x) for x in v) for k, v in b.items()}


@pytest.mark.parametrize("name", NAMES)
def test_official_size_parameter_count(name):
    overrides = _variant_class(name).variant_overrides
    with torch.device("meta"):
        model = ConformerModel(config.make_config(config.OFFICIAL, overrides))
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]
    buffers = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert buffers == 4_096  # masked BatchNorm mean/var, 4 blocks x 512 x 2


@pytest.mark.parametrize("name", NAMES)
def test_trains_through_the_runner(name, speech_tiny_dir):
    w = workloads().create(name, "dev", "pytorch")
    sub = load_submission("nadamw", "pytorch", "external")
    hp = make_hyperparameters({"dropout_rate": 0.1, "label_smoothing": 0.0,
                               "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999,
                               "weight_decay": 0.0, "warmup_factor": 0.0})
    result = train_once(w, sub, hp, 0, get_ruleset("0.5"),
                        RunOptions(data_dir=speech_tiny_dir, max_global_steps=2, tensorboard=False),
                        trial_dir=None)
    assert result.global_step == 2 and result.status == "max_global_steps"
    assert result.num_evals >= 1 and result.target_metric == "wer"
    assert result.best_validation_metric is not None
    assert 0.0 <= result.best_validation_metric and math.isfinite(result.best_validation_metric)


def test_numbers_exist_for_both_rulesets_and_the_metric_is_minimised():
    for name in NAMES:
        for version in ("0.5", "0.6"):
            w = workloads().create(name, "dev", "pytorch", ruleset_version=version)
            assert w.target_metric_name == "wer" and w.metric_minimized
            assert w.max_allowed_runtime_sec > 0 and w.eval_period_time_sec > 0
            assert w.test_target_value > 0 and w.validation_target_value > 0


def test_variants_change_only_their_knob():
    base = workloads().create("librispeech_conformer", "dev", "pytorch").model_config
    expected = {
        "librispeech_conformer_attention_temperature": {"attention_temperature": 1.6},
        "librispeech_conformer_layernorm": {"use_post_layer_norm": False},
        "librispeech_conformer_gelu": {"activation_function_name": "gelu"},
    }
    for name, change in expected.items():
        cfg = workloads().create(name, "dev", "pytorch").model_config
        diff = {k: getattr(cfg, k) for k in vars(base) if getattr(cfg, k) != getattr(base, k)}
        assert diff == change, name


def test_attention_temperature_scales_attention_outputs(speech_tiny_dir):
    batch = _tiny_batch(speech_tiny_dir)
    torch.manual_seed(0)
    plain = ConformerModel(config.DEV).eval()
    warm = ConformerModel(config.make_config(config.DEV, {"attention_temperature": 1.6})).eval()
    warm.load_state_dict(plain.state_dict())
    with torch.no_grad():
        a = plain.conformers[0].mhsa.self_attention
        b = warm.conformers[0].mhsa.self_attention
        x = torch.randn(2, 7, config.DEV.encoder_dim)
        no_pad = torch.zeros(2, 7, dtype=torch.bool)
        # out_proj is affine, so without its bias the output scales with the temperature
        scaled = b(x, no_pad) - b.out_proj.bias
        torch.testing.assert_close(scaled, 1.6 * (a(x, no_pad) - a.out_proj.bias),
                                   rtol=1e-4, atol=1e-5)
        assert not torch.allclose(plain(*batch["inputs"], 0.0)[0], warm(*batch["inputs"], 0.0)[0])


def _knob_settings():
    settings = []
    for knob, rule in config.PERTURBATION_SPACE.items():
        values = rule.get("feasible_points") or [rule["min"], rule["max"]]
        settings += [{knob: v} for v in values]
    space = SearchSpace.from_json(config.PERTURBATION_SPACE)
    settings += [p._asdict() for p in generate_search(space, 4, seed=0)]  # knobs combined
    return settings


@pytest.mark.parametrize("overrides", _knob_settings(), ids=lambda o: json.dumps(o))
def test_every_perturbation_builds_and_trains(overrides, speech_tiny_dir):
    w = workloads().create("librispeech_conformer", "dev", "pytorch", model_overrides=overrides)
    w._speech_data(speech_tiny_dir)
    params, state = w.init_model_fn(np.array([0, 1], np.uint32))
    batch = _tiny_batch(speech_tiny_dir)
    before = [p.detach().clone() for p in params.parameters()]
    opt = torch.optim.SGD(params.parameters(), lr=0.05)
    (logits, pads), state = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, None,
                                       update_batch_norm=True)
    loss = w.loss_fn(batch["targets"], (logits, pads))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    assert torch.isfinite(loss["summed"])
    assert any(not torch.equal(a, b) for a, b in zip(before, params.parameters(), strict=True))


def test_bad_overrides_say_what_is_wrong():
    with pytest.raises(PacelineError, match="Unknown Conformer model override"):
        workloads().create("librispeech_conformer", "dev", "pytorch",
                           model_overrides={"num_layers": 3})
    with pytest.raises(PacelineError, match="activation"):
        config.make_config(config.DEV, {"activation_function_name": "softsign"})
    with pytest.raises(PacelineError, match="divisible"):
        config.make_config(config.DEV, {"encoder_dim": 90})


def test_dropout_defaults_and_the_v05_init_rates(speech_tiny_dir):
    w = workloads().create("librispeech_conformer", "dev", "pytorch")
    assert w._dropout_rates(None) == (0.1, 0.1)  # model_fn's default, as officially
    assert w._dropout_rates(0.0) == (0.0, 0.0)
    w.set_init_dropout(0.2, 0.3)  # v0.5: dropout_rate residual, aux_dropout_rate input
    assert w._dropout_rates(None) == (0.2, 0.3)


def test_eval_is_deterministic_and_frozen_batch_norm_stays_frozen(speech_tiny_dir):
    w = workloads().create("librispeech_conformer", "dev", "pytorch")
    w._speech_data(speech_tiny_dir)
    params, state = w.init_model_fn(np.array([0, 1], np.uint32))
    batch = _tiny_batch(speech_tiny_dir)
    bn = params.conformers[0].conv.bn
    before = bn.running_mean.clone()
    w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, None, update_batch_norm=False)
    torch.testing.assert_close(bn.running_mean, before)
    w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, None, update_batch_norm=True)
    assert not torch.equal(bn.running_mean, before)
    (a, _), _ = w.model_fn(params, batch, state, spec.ForwardPassMode.EVAL, None, False)
    (b, _), _ = w.model_fn(params, batch, state, spec.ForwardPassMode.EVAL, None, False)
    torch.testing.assert_close(a, b)
    assert w.is_output_params("lin.weight") and not w.is_output_params("ln.scale")
    types = w.model_params_types
    assert types["conformers.0.conv.bn.scale"] == spec.ParameterType.BATCH_NORM_SCALE
    assert types["conformers.0.mhsa.self_attention.in_proj.weight"] == \
        spec.ParameterType.ATTENTION_QKV
