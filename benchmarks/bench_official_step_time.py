"""Step time, peak memory and parameter count of the official PyTorch workloads, optionally
side by side with AlgoPerf's own implementation of each workload on the same device and batch.

Each workload trains ``--steps`` steps of the NAdamW baseline (the first point of its search
space) on one synthetic batch of the official shapes (random values; the batch is reused, so
no input pipeline is timed), through the AlgoPerf API: ``init_model_fn``,
``init_optimizer_state``, then ``update_params`` each step. The first tenth of the steps (at
least one) warms up (cuDNN autotuning, allocator growth) and is not timed; the rest are timed
between two device synchronisations. Peak memory is ``torch.cuda.max_memory_allocated`` on a
GPU and the process's peak resident set on a CPU. Every (workload, implementation) pair runs
in its own process, so peaks and imports do not mix.

With ``--algoperf PATH`` (a checkout of mlcommons/algorithmic-efficiency with its PyTorch
requirements installed, kept outside this repository), the same batch also trains AlgoPerf's
workload class with AlgoPerf's NAdamW baseline
(``algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py``), and the table adds
its figures and the ratio of the two step times.

    .venv/bin/python benchmarks/bench_official_step_time.py                # every workload, GPU
    .venv/bin/python benchmarks/bench_official_step_time.py --algoperf ~/algorithmic-efficiency
    .venv/bin/python benchmarks/bench_official_step_time.py --workloads ogbg wmt --steps 300
    .venv/bin/python benchmarks/bench_official_step_time.py --workloads mnist ogbg --steps 2 \\
        --batch-scale 0.01                                                 # a quick CPU check

``--batch-scale`` multiplies the baseline's official batch size (at least one example), for a
device with less memory or a CPU; the table says which batch ran.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # run as a script: the repository's packages
    sys.path.insert(0, str(REPO))

SIDES = ("paceline", "algoperf")
# AlgoPerf's NAdamW baseline for external tuning, relative to a checkout's root.
ALGOPERF_NADAMW = "algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py"


# ---- synthetic batches of the official shapes ----------------------------------------------
def _family(name: str) -> str:
    """The family a workload or official variant belongs to (variants extend its name)."""
    matches = [family for family in _MAKERS if name.startswith(family)]
    if not matches:
        from sdk.errors import PacelineError

        raise PacelineError(f"No synthetic official batch for workload '{name}'.")
    return max(matches, key=len)


def synthetic_batch(name: str, batch_size: int, seed: int = 0) -> dict[str, Any]:
    """One numpy training batch of ``name``'s official shapes, laid out as the workload's own
    official reader yields it (random values)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    return _MAKERS[_family(name)](rng, batch_size)


def _images(rng: Any, b: int) -> dict[str, Any]:
    return {"inputs": rng.standard_normal((b, 224, 224, 3), dtype="float32"),
            "targets": rng.integers(0, 1000, b)}


def _criteo(rng: Any, b: int) -> dict[str, Any]:
    import numpy as np

    from workloads.criteo1tb import config

    dense = np.log1p(rng.integers(0, 1000, (b, 13))).astype(np.float32)
    ids = rng.integers(0, config.OFFICIAL.vocab_size, (b, 26)).astype(np.float32)
    return {"inputs": np.concatenate([dense, ids], axis=1),
            "targets": rng.integers(0, 2, b).astype(np.float32)}


def _fastmri(rng: Any, b: int) -> dict[str, Any]:
    image = (b, 320, 320)
    return {"inputs": rng.standard_normal(image, dtype="float32"),
            "targets": rng.standard_normal(image, dtype="float32"),
            "mean": rng.random(b, dtype="float32"), "std": 1 + rng.random(b, dtype="float32"),
            "volume_max": 5 + rng.random(b, dtype="float32")}


def _ogbg(rng: Any, b: int) -> dict[str, Any]:
    """``b`` molecules of the official average size (26 atoms, 56 directed bonds), padded to
    the official budgets as the reader pads them."""
    import numpy as np

    from workloads.ogbg import batching

    nodes, edges = batching.OFFICIAL_AVG_NODES_PER_GRAPH, batching.OFFICIAL_AVG_EDGES_PER_GRAPH
    arrays = {"node_features": rng.integers(0, 5, (b * nodes, 9)).astype(np.float32),
              "edge_features": rng.integers(0, 3, (b * edges, 3)).astype(np.float32),
              "senders": rng.integers(0, nodes, b * edges),
              "receivers": rng.integers(0, nodes, b * edges),
              "n_node": np.full(b, nodes), "n_edge": np.full(b, edges),
              "labels": rng.integers(0, 2, (b, 128)).astype(np.float32)}
    split = batching.GraphSplit(arrays, nodes, edges)
    return split.take(np.arange(b), b)


def _wmt(rng: Any, b: int) -> dict[str, Any]:
    """Rows of 256 tokens, each two packed sentence pairs of 128 tokens."""
    import numpy as np

    half = np.arange(128)
    position = np.tile(np.concatenate([half, half]), (b, 1))
    segment = np.tile(np.repeat([1, 2], 128), (b, 1))
    out = {"inputs": rng.integers(3, 32_000, (b, 256)),
           "targets": rng.integers(3, 32_000, (b, 256)),
           "inputs_position": position, "targets_position": position.copy(),
           "inputs_segmentation": segment, "targets_segmentation": segment.copy()}
    out["weights"] = np.ones((b, 256), np.float32)
    return out


def _speech(rng: Any, b: int) -> dict[str, Any]:
    """20-second utterances (320,000 samples) with 256-token transcripts, unpadded."""
    import numpy as np

    audio = (rng.standard_normal((b, 320_000)) * 2000).astype(np.float32)
    ids = rng.integers(1, 1024, (b, 256)).astype(np.float32)
    return {"inputs": (audio, np.zeros_like(audio)), "targets": (ids, np.zeros_like(ids))}


def _lm(rng: Any, b: int) -> dict[str, Any]:
    tokens = rng.integers(0, 50_257, (b, 1025))
    return {"inputs": tokens[:, :-1].astype("int32"), "targets": tokens[:, 1:]}


def _mnist(rng: Any, b: int) -> dict[str, Any]:
    return {"inputs": rng.standard_normal((b, 28, 28, 1), dtype="float32"),
            "targets": rng.integers(0, 10, b)}


_MAKERS = {"criteo1tb": _criteo, "fastmri": _fastmri, "imagenet_resnet": _images,
           "imagenet_vit": _images, "ogbg": _ogbg, "wmt": _wmt, "librispeech_conformer": _speech,
           "librispeech_deepspeech": _speech, "finewebedu_lm": _lm, "mnist": _mnist}


# ---- one implementation, in a worker process ------------------------------------------------
def _nadamw_point() -> dict[str, Any]:
    """The first point of the NAdamW baseline's search space (paceline's copy of it)."""
    points = json.loads((REPO / "baselines" / "nadamw" / "tuning_search_space.json").read_text())
    return points[0]


def _train_steps(workload: Any, submission: Any, hyperparameters: Any, batch: dict[str, Any],
                 steps: int, rng: Any) -> float:
    """Seconds per timed ``update_params`` step (after the warm-up steps)."""
    import torch

    params, state = workload.init_model_fn(rng)
    opt = submission.init_optimizer_state(workload, params, state, hyperparameters, rng)
    warmup = max(1, steps // 10)
    start = 0.0
    for step in range(steps):
        if step == warmup:
            _sync(torch)
            start = time.perf_counter()
        opt, params, state = submission.update_params(
            workload=workload, current_param_container=params,
            current_params_types=workload.model_params_types, model_state=state,
            hyperparameters=hyperparameters, batch=batch, loss_type=workload.loss_type,
            optimizer_state=opt, eval_results=[], global_step=step, rng=rng)
    _sync(torch)
    workload.bench_parameters = sum(p.numel() for p in params.parameters())
    return (time.perf_counter() - start) / max(steps - warmup, 1)


def _sync(torch: Any) -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_mib() -> float:
    import resource

    import torch

    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_paceline(name: str, batch_size: int, steps: int) -> dict[str, Any]:
    from sdk.registry import workloads
    from sdk.search_space import make_hyperparameters
    from sdk.submission import load_submission
    from workloads.common.torch_base import device

    workload = workloads().create(name, "official", "pytorch", ruleset_version="latest")
    submission = load_submission("nadamw", "pytorch", "external")
    batch = workload._to_device(synthetic_batch(name, batch_size), device())
    seconds = _train_steps(workload, submission, make_hyperparameters(_nadamw_point()), batch,
                           steps, [0, 0])
    return {"step_ms": seconds * 1000, "peak_mib": _peak_mib(),
            "parameters": workload.bench_parameters}


def _algoperf_modules(root: Path) -> tuple[Any, Any]:
    """AlgoPerf's workload registry and its PyTorch NAdamW baseline, imported from ``root``."""
    import importlib
    import importlib.util

    sys.path.insert(0, str(root))
    registry = importlib.import_module("algoperf.workloads.workloads")
    spec = importlib.util.spec_from_file_location("algoperf_nadamw", root / ALGOPERF_NADAMW)
    nadamw = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nadamw)
    return registry, nadamw


def run_algoperf(name: str, batch_size: int, steps: int, root: Path) -> dict[str, Any]:
    """The same steps through AlgoPerf's own workload class and NAdamW baseline; the batch is
    paceline's synthetic batch on the device (AlgoPerf's PyTorch batches have its layout)."""
    import collections

    from sdk.registry import workloads as paceline_workloads
    from workloads.common.torch_base import device

    registry, nadamw = _algoperf_modules(root)
    if name not in registry.WORKLOADS:
        raise LookupError(f"AlgoPerf at {root} has no workload '{name}'")
    row = registry.WORKLOADS[name]
    path = f"{registry.BASE_WORKLOADS_DIR}{row['workload_path']}_pytorch/workload.py"
    workload = registry.import_workload(workload_path=path,
                                        workload_class_name=row["workload_class_name"],
                                        workload_init_kwargs={})
    point = _nadamw_point()
    hyperparameters = collections.namedtuple("Hyperparameters", point)(**point)
    ours = paceline_workloads().create(name, "official", "pytorch", ruleset_version="latest")
    batch = ours._to_device(synthetic_batch(name, batch_size), device())
    seconds = _train_steps(workload, nadamw, hyperparameters, batch, steps, _algoperf_key())
    return {"step_ms": seconds * 1000, "peak_mib": _peak_mib(),
            "parameters": workload.bench_parameters}


def _algoperf_key() -> Any:
    from algoperf import random_utils

    return random_utils.PRNGKey(0)


def worker(args: argparse.Namespace) -> None:
    """Run one (workload, implementation) pair and write its figures as JSON."""
    if args.worker == "paceline":
        row = run_paceline(args.worker_workload, args.worker_batch, args.steps)
    else:
        row = run_algoperf(args.worker_workload, args.worker_batch, args.steps,
                           Path(args.algoperf))
    Path(args.worker_out).write_text(json.dumps(row))


# ---- the table ------------------------------------------------------------------------------
def batch_size_of(name: str, scale: float) -> int:
    """The NAdamW baseline's official batch of ``name``, times ``scale`` (at least 1)."""
    from baselines.common.baseline import BATCH_SIZES

    return max(1, round(BATCH_SIZES[_family(name)] * scale))


def measure(name: str, side: str, args: argparse.Namespace, batch: int) -> dict[str, Any]:
    """One worker process; its figures, or ``{"error": last line of its output}``."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "row.json"
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", side,
               "--worker-workload", name, "--worker-batch", str(batch), "--worker-out",
               str(out), "--steps", str(args.steps)]
        if args.algoperf:
            cmd += ["--algoperf", str(args.algoperf)]
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
        if done.returncode == 0 and out.is_file():
            return json.loads(out.read_text())
        lines = (done.stderr or done.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {done.returncode}"}


def table_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    def cells(fig: dict[str, Any] | None) -> list[str]:
        if fig is None:
            return ["-", "-", "-"]
        if "error" in fig:
            return [f"failed: {fig['error'][:60]}", "-", "-"]
        return [f"{fig['step_ms']:.1f}", f"{fig['peak_mib']:.0f}", f"{fig['parameters']:,}"]

    rows = []
    for r in results:
        ours, theirs = r["paceline"], r.get("algoperf")
        ratio = "-"
        if theirs and "error" not in theirs and "error" not in ours:
            ratio = f"{ours['step_ms'] / theirs['step_ms']:.2f}"
        rows.append([r["workload"], str(r["batch_size"]), *cells(ours), *cells(theirs), ratio])
    return rows


HEADER = ["workload", "batch", "paceline ms/step", "paceline peak MiB", "paceline params",
          "AlgoPerf ms/step", "AlgoPerf peak MiB", "AlgoPerf params", "paceline / AlgoPerf"]


def default_workloads() -> list[str]:
    """Every base workload with an official PyTorch class (the scored suite and the 2026
    rules' language model)."""
    from sdk.registry import workloads

    return [n for n in workloads().names(scale="official", scored=True, variants=False)
            if "pytorch" in workloads().entry(n).frameworks("official")]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workloads", nargs="+", help="default: every official PyTorch workload")
    p.add_argument("--steps", type=int, default=300, help="steps per workload (default 300)")
    p.add_argument("--batch-scale", type=float, default=1.0,
                   help="fraction of the baseline's official batch size (default 1)")
    p.add_argument("--algoperf", type=Path,
                   help="a checkout of mlcommons/algorithmic-efficiency to compare against")
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    for hidden in ("--worker", "--worker-workload", "--worker-out"):
        p.add_argument(hidden, help=argparse.SUPPRESS)
    p.add_argument("--worker-batch", type=int, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    from sdk.errors import PacelineError

    if args.steps < 2:
        raise PacelineError("--steps must be at least 2 (one warm-up step, one timed).")
    if not args.batch_scale > 0:
        raise PacelineError("--batch-scale must be a positive number.")
    if args.algoperf and not (args.algoperf / ALGOPERF_NADAMW).is_file():
        raise PacelineError(f"--algoperf {args.algoperf} is not a checkout of "
                            f"mlcommons/algorithmic-efficiency (no {ALGOPERF_NADAMW}).")
    for name in args.workloads:
        _family(name)


def main(argv: list[str] | None = None) -> int:
    from sdk.errors import PacelineError
    from sdk.text_tables import format_table

    args = parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    try:
        args.workloads = args.workloads or default_workloads()
        check_args(args)
    except PacelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results = []
    for name in args.workloads:
        batch = batch_size_of(name, args.batch_scale)
        row = {"workload": name, "batch_size": batch,
               "paceline": measure(name, "paceline", args, batch)}
        if args.algoperf:
            row["algoperf"] = measure(name, "algoperf", args, batch)
        results.append(row)
        print(f"{name}: {row}", file=sys.stderr, flush=True)
    print(format_table(HEADER, table_rows(results)))
    print(f"\n{_device_name()}; {args.steps} steps per workload, NAdamW (first search-space "
          "point), one synthetic batch of the official shapes.")
    if args.json:
        args.json.write_text(json.dumps({"device": _device_name(), "steps": args.steps,
                                         "rows": results}, indent=1))
    return 0


def _device_name() -> str:
    import torch

    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    return "CPU (no GPU visible)"


if __name__ == "__main__":
    sys.exit(main())
