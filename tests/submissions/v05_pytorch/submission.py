"""A v0.5-style PyTorch submission: imports `algorithmic_efficiency`, no prepare_for_eval,
no train_state; dropout reaches the model through init_model_fn (the runner's job)."""

import torch
from algorithmic_efficiency import spec
from algorithmic_efficiency.pytorch_utils import pytorch_setup

USE_PYTORCH_DDP = pytorch_setup()[0]
INIT_DROPOUT = []


def get_batch_size(workload_name):
    return {"mnist": 64}[workload_name]


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    INIT_DROPOUT.append(workload.resolve_dropout(None, -1.0))
    return {"optimizer": torch.optim.Adam(model_params.parameters(),
                                          lr=hyperparameters.learning_rate)}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    model = current_param_container
    optimizer_state["optimizer"].zero_grad()
    logits, new_state = workload.model_fn(model, batch, model_state, spec.ForwardPassMode.TRAIN,
                                          rng, True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    optimizer_state["optimizer"].step()
    return optimizer_state, model, new_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
