"""A simulated clock, a workload and a submission driven by it, for exact timing tests.

Every "computation" advances the clock by a fixed amount instead of taking real time, so a
test can check to the microsecond which work the runner counts as submission time.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from sdk import spec
from sdk.rulesets import WorkloadNumbers
from sdk.submission import Submission
from sdk.workload import PacelineWorkload

# The tiny LibriSpeech dev data set of the speech tests (utterances per split; conftest's
# ``speech_tiny_dir`` builds it once per session).
SPEECH_TINY = {"train": 6, "validation": 3, "test": 3}


class FakeClock:
    def __init__(self, start: float = 1_000_000.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Costs:
    step: float = 1.0  # seconds per update_params
    select: float = 0.0  # seconds per data_selection
    eval: float = 5.0  # seconds per evaluation (must not be counted)
    prepare: float = 0.0  # seconds per prepare_for_eval (must be counted)


class ClockWorkload(PacelineWorkload):
    """A workload whose validation loss after ``s`` steps is ``1 / (1 + s)``."""

    name = "clock"
    framework = "pytorch"
    scale = "dev"

    def __init__(self, clock: FakeClock, costs: Costs, numbers: WorkloadNumbers,
                 **kwargs: Any) -> None:
        self._numbers = numbers
        super().__init__(**kwargs)
        self.clock, self.costs = clock, costs
        self.eval_steps: list[int] = []

    def numbers_for(self, version: str) -> WorkloadNumbers:  # type: ignore[override]
        return self._numbers

    loss_type = spec.LossType.MEAN_SQUARED_ERROR
    num_train_examples = 10
    num_eval_train_examples = 10
    num_validation_examples = 10
    num_test_examples = 10
    eval_batch_size = 10
    train_mean = 0.0
    train_stddev = 1.0

    def _build_input_queue(self, data_rng, split, data_dir, global_batch_size, cache=None,
                           repeat_final_dataset=None, num_batches=None):
        return ({"inputs": i, "targets": i} for i in itertools.count())

    def init_model_fn(self, rng, dropout_rate=None, aux_dropout_rate=None):
        self._param_shapes, self._param_types = {"w": spec.ShapeTuple((1,))}, {
            "w": spec.ParameterType.WEIGHT}
        return {"steps": 0}, None

    def is_output_params(self, param_key):
        return True

    def model_fn(self, params, augmented_and_preprocessed_input_batch, model_state, mode, rng,
                 update_batch_norm, dropout_rate=None):
        return None, model_state

    def loss_fn(self, label_batch, logits_batch, mask_batch=None, label_smoothing=0.0):
        return {"summed": 0.0, "n_valid_examples": 1, "per_example": [0.0]}

    def _eval_model_on_split(self, split, num_examples, global_batch_size, params, model_state,
                             rng, data_dir, global_step=0):
        if split == "validation":
            self.eval_steps.append(global_step)
        self.clock.advance(self.costs.eval / 3)
        return {"loss": 1.0 / (1 + params["steps"])}


def numbers(target: float = 0.0, test_target: float = 0.0, budget: float = 100.0,
            period: float = 10.0) -> WorkloadNumbers:
    return WorkloadNumbers("loss", target, test_target, budget, period, 100, True)


class ClockSubmissionModule:
    """The five submission functions; each advances the clock by its cost."""

    def __init__(self, clock: FakeClock, costs: Costs, complete_at: int | None = None,
                 with_prepare: bool = True) -> None:
        self.clock, self.costs, self.complete_at = clock, costs, complete_at
        self.prepare_calls = 0
        self.train_states: list[dict[str, Any]] = []
        if not with_prepare:
            self.prepare_for_eval = None

    def get_batch_size(self, workload_name):
        return 1

    def init_optimizer_state(self, workload, model_params, model_state, hyperparameters, rng):
        return {}

    def data_selection(self, workload, input_queue, optimizer_state, current_param_container,
                       model_state, hyperparameters, global_step, rng):
        self.clock.advance(self.costs.select)
        return next(input_queue)

    def update_params(self, workload, current_param_container, current_params_types,
                      model_state, hyperparameters, batch, loss_type, optimizer_state,
                      eval_results, global_step, rng, train_state=None):
        if self.complete_at is not None and global_step >= self.complete_at:
            raise spec.TrainingCompleteError()
        self.clock.advance(self.costs.step)
        if train_state is not None:
            self.train_states.append(dict(train_state))
        params = {"steps": current_param_container["steps"] + 1}
        return optimizer_state, params, model_state

    def prepare_for_eval(self, workload, current_param_container, current_params_types,
                         model_state, hyperparameters, loss_type, optimizer_state, eval_results,
                         global_step, rng):
        self.prepare_calls += 1
        self.clock.advance(self.costs.prepare)
        return optimizer_state, current_param_container, model_state


def clock_submission(module: ClockSubmissionModule, api_version: str = "0.6") -> Submission:
    return Submission(module=module, name="clock", path=None, api_version=api_version)  # type: ignore[arg-type]
