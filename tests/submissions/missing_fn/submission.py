from algoperf import spec


def get_batch_size(workload_name):
    return 8


def init_optimizer_state(workload, model_params, model_state, hyperparameters):
    return {}


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
