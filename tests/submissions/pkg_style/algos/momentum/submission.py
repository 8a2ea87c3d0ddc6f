"""A submission inside a package that imports a helper relatively, as real ones do."""

from algoperf import spec

from .helpers import make_optimizer


def get_batch_size(workload_name):
    return 16


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {"optimizer": make_optimizer(model_params, hyperparameters.learning_rate)}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    opt = optimizer_state["optimizer"]
    opt.zero_grad()
    logits, _ = workload.model_fn(current_param_container, batch, model_state,
                                  spec.ForwardPassMode.TRAIN, rng, True)
    loss = workload.loss_fn(batch["targets"], logits)
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
