"""Adam in PyTorch for any workload, a small batch a step: the official-scale runs of the
tests (fastmri, imagenet, wmt) train it for a few steps on a CPU.

It asserts that ``update_params`` gets the workload's own loss type, and it reads the learning
rate from the hyperparameters when a search space gives them (1e-3 when self-tuning).
"""

import torch
from algoperf import spec


def get_batch_size(workload_name):
    return 1 if workload_name.startswith("wmt") else 2  # one packed wmt row is a long step


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    lr = hyperparameters.learning_rate if hyperparameters is not None else 1e-3
    return {"optimizer": torch.optim.Adam(model_params.parameters(), lr=lr)}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results, global_step,
                  rng, train_state=None):
    assert loss_type == workload.loss_type
    model = current_param_container
    model.train()  # official wmt leaves dropout to the submission, as AlgoPerf's baselines
    opt = optimizer_state["optimizer"]
    opt.zero_grad()
    out, new_state = workload.model_fn(model, batch, model_state, spec.ForwardPassMode.TRAIN,
                                       rng, update_batch_norm=True)
    loss = workload.loss_fn(batch["targets"], out, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    return optimizer_state, model, new_state


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
