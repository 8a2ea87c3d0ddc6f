"""An AlgoPerf v0.6-style PyTorch submission (SGD with momentum), written against `algoperf`.

It imports a sibling module by its flat name, as several real submissions do.
"""

import torch
from algoperf import spec
from algoperf.pytorch_utils import pytorch_setup
from sgd_helpers import lr_at  # sibling module

USE_PYTORCH_DDP, RANK, DEVICE, N_GPUS = pytorch_setup()
SEEN_TRAIN_STATE = []


def get_batch_size(workload_name):
    return 32 if workload_name == "mnist" else 16  # paceline check asks about every workload


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    opt = torch.optim.SGD(model_params.parameters(), lr=hyperparameters.learning_rate,
                          momentum=0.9)
    return {"optimizer": opt}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng, train_state=None):
    assert loss_type == spec.LossType.SOFTMAX_CROSS_ENTROPY
    SEEN_TRAIN_STATE.append(train_state is not None)
    model = current_param_container
    opt = optimizer_state["optimizer"]
    opt.zero_grad()
    logits, new_state = workload.model_fn(model, batch, model_state, spec.ForwardPassMode.TRAIN,
                                          rng, update_batch_norm=True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    for group in opt.param_groups:
        group["lr"] = lr_at(global_step, hyperparameters.learning_rate, workload.step_hint)
    opt.step()
    return optimizer_state, model, new_state


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
