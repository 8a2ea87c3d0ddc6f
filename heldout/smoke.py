"""Does a variant build and train? A few update steps with a baseline, no evals, no clock.

Used by the tests for every catalog variant and by ``paceline heldout variants --check`` for
random ones: the model is built from the variant's config, the baseline takes ``steps``
updates on real batches, and the loss on the first batch must stay finite while the
parameters move.

    paceline heldout variants --workloads ogbg --count 2 --check
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from sdk import rng as prng
from sdk import spec
from sdk.registry import baselines, workloads
from sdk.search_space import SearchSpace, generate_search


@dataclass(frozen=True)
class SmokeResult:
    workload: str
    steps: int
    loss_before: float
    loss_after: float
    params_changed: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return math.isfinite(self.loss_before) and math.isfinite(self.loss_after) and \
            self.params_changed


def _loss(workload: Any, params: Any, model_state: Any, batch: dict, rng: Any) -> float:
    logits, _ = workload.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
    out = workload.loss_fn(label_batch=batch["targets"], logits_batch=logits,
                           mask_batch=batch.get("weights"))
    return float(out["summed"]) / max(float(out["n_valid_examples"]), 1.0)


def _snapshot(params: Any, framework: str) -> list[Any]:
    if framework == "pytorch":
        return [p.detach().clone() for p in params.parameters()]
    import jax
    import numpy as np

    return [np.asarray(x).copy() for x in jax.tree_util.tree_leaves(params)]


def _changed(before: list[Any], params: Any, framework: str) -> bool:
    after = _snapshot(params, framework)
    if framework == "pytorch":
        return any(not bool((a == b).all()) for a, b in zip(before, after, strict=True))
    return any((a != b).any() for a, b in zip(before, after, strict=True))


def train_steps(
    name: str,
    scale: str = "dev",
    framework: str = "pytorch",
    steps: int = 2,
    baseline: str = "nadamw",
    data_dir: str | None = None,
    batch_size: int | None = None,
    model_overrides: dict[str, Any] | None = None,
    seed: int = 0,
) -> SmokeResult:
    """Build ``name`` and take ``steps`` updates of ``baseline`` (its first search point)."""
    from sdk.frameworks.adapters import get_adapter
    from sdk.submission import load_submission

    started = time.time()
    adapter = get_adapter(framework)
    adapter.setup(None)
    prng.set_framework(framework)
    workload = workloads().create(name, scale, framework, model_overrides=model_overrides)
    submission = load_submission(baseline, framework, "external")
    workload.api_version = submission.api_version
    hp = generate_search(SearchSpace.load(baselines().entry(baseline).search_space), 1)[0]
    data_rng, opt_rng, model_rng, key = prng.split(prng.PRNGKey(seed), 4)
    size = batch_size or submission.batch_size(workload.name)
    queue = workload._build_input_queue(data_rng, "train", data_dir, size)
    adapter.seed(model_rng)
    params, model_state = workload.init_model_fn(model_rng)
    optimizer_state = submission.init_optimizer_state(
        workload=workload, model_params=params, model_state=model_state, hyperparameters=hp,
        rng=opt_rng)
    first = next(queue)
    before_params = _snapshot(params, framework)
    loss_before = _loss(workload, params, model_state, first, key)
    batch = first
    extra = {"train_state": {"accumulated_submission_time": 0.0}} \
        if submission.wants_train_state else {}
    for step in range(steps):
        step_rng = prng.fold_in(key, step)
        optimizer_state, params, model_state = submission.update_params(
            workload=workload, current_param_container=params,
            current_params_types=workload.model_params_types, model_state=model_state,
            hyperparameters=hp, batch=batch, loss_type=workload.loss_type,
            optimizer_state=optimizer_state, eval_results=[], global_step=step, rng=step_rng,
            **extra)
        batch = next(queue)
    loss_after = _loss(workload, params, model_state, first, key)
    return SmokeResult(name, steps, loss_before, loss_after,
                       _changed(before_params, params, framework), time.time() - started)
