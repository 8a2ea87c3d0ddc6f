from algoperf import spec
import this_module_does_not_exist  # noqa: F401


def get_batch_size(workload_name):
    return 1
