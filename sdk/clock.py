"""The clocks a trial's submission time is measured with.

    paceline run --workload mnist --submission nadamw                # dev scale: the dev clock
    paceline run --workload mnist --submission nadamw --clock wall   # AlgoPerf's wall clock

* ``wall`` is AlgoPerf's clock: seconds of real time (the official scale always uses it).
* ``dev`` charges the trial's own CPU time (every thread of this process, the framework held to
  one thread), leaves out one-time compilation (JAX tracing, lowering and compiling;
  ``torch.compile``), and multiplies by this machine's *normalisation*: the calibration
  machine's cost of the reference step (NAdamW's) over this machine's. A dev-clock second
  therefore reads as a second on the calibration machine, whatever else this machine is doing
  and whichever framework runs the trial.

Compilation is reported through ``jax.monitoring`` time spans and ``torch._dynamo``'s compile
callbacks as wall-time intervals. Between two readings the clock knows the CPU and the wall time
that passed and how much of that wall time was compilation; it leaves out the same share of the
CPU time (compilation and the steps around it run on the same single thread).

A clock is a callable returning seconds (the runner only takes differences) plus a
:meth:`report` for the trial's ``meta_data``.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sdk.errors import PacelineError

CLOCKS = ("dev", "wall")
# A trial that got less than this share of a core ran on a machine too busy for CPU time to
# stay put (shared caches and hyper-threads slow the instructions themselves).
MIN_CPU_SHARE = 0.5
# A machine whose canary runs this much slower (or faster) than at calibration has drifted;
# so has one where the probed submission's own step costs this much more or less than probed.
MAX_CANARY_DRIFT = 0.25
MAX_STEP_DRIFT = 0.25


# Environment variables that size numeric libraries' thread pools (read when they load).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                    "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "TF_NUM_INTRAOP_THREADS")
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
_ACTIVE_CLOCK: list[Callable[[], float]] = []


def limit_thread_pools(threads: int) -> None:
    """Size numeric libraries' thread pools through the environment (effective only for the
    libraries loaded after it; older jax versions also read XLA's flags for one thread)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    flags = os.environ.get("XLA_FLAGS", "")
    if threads == 1 and "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_ONE_THREAD}".strip()


def active_clock() -> Callable[[], float] | None:
    """The clock of the trial running in this process (``None`` outside a trial).

    The self-tuning helpers read time through it, so their arithmetic with ``train_state``
    (whose times are this clock's readings) holds under either clock.
    """
    return _ACTIVE_CLOCK[-1] if _ACTIVE_CLOCK else None


def activate(clock: Callable[[], float]) -> None:
    """Make ``clock`` the :func:`active_clock` until :func:`deactivate` (a trial's loop)."""
    _ACTIVE_CLOCK.append(clock)


def deactivate(clock: Callable[[], float]) -> None:
    if clock in _ACTIVE_CLOCK:
        _ACTIVE_CLOCK.remove(clock)


@contextlib.contextmanager
def running_with(clock: Callable[[], float]) -> Iterator[Callable[[], float]]:
    """``with running_with(clock):`` makes ``clock`` the :func:`active_clock` inside."""
    activate(clock)
    try:
        yield clock
    finally:
        deactivate(clock)


# glibc's malloc hands large freed blocks back to the system and by default raises that
# threshold as the process frees large blocks, so the same training step costs up to 20%
# more CPU (page faults) in a fresh process than in one that already evaluated: a dev-clock
# probe and the trial it normalises disagreed by that much. Fixed thresholds make a step
# cost the same in every process (bench_dev_clock.py frameworks; docs/runner.md).
MALLOC_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest on 64-bit
MALLOC_TRIM_THRESHOLD = 512 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters (malloc.h)


def steady_allocator() -> bool:
    """Fix glibc malloc's mmap and trim thresholds in this process; False where there is no
    glibc (macOS, musl), which keeps its allocator as it is."""
    import ctypes
    import ctypes.util

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)
                and mallopt(_M_TRIM_THRESHOLD, MALLOC_TRIM_THRESHOLD))


def hold_to_one_thread(framework: str) -> str | None:
    """Hold ``framework`` to one compute thread in this process (the dev clock's setting).

    PyTorch: one intra-op and one inter-op thread. JAX (XLA's CPU client sizes its thread pool
    from the cores the process may use when the backend starts): the process is pinned to one
    core while the backend starts, then given all its cores back, so the scheduler still moves
    the one thread to a free core. Returns a sentence when it came too late (the framework
    already started with more threads), else ``None``. It also fixes the allocator's
    thresholds (:func:`steady_allocator`), so a step costs the same in every process.
    """
    steady_allocator()
    limit_thread_pools(1)
    if framework == "pytorch":
        import torch

        torch.set_num_threads(1)
        try:
            torch.set_num_interop_threads(1)
        except RuntimeError:
            if torch.get_num_interop_threads() != 1:
                return ("PyTorch's inter-op pool had already started; intra-op work is held to "
                        "one thread")
        return None
    if framework != "jax":
        return None
    if _jax_backend_started():
        return ("JAX had already started its CPU backend in this process, so its thread pool "
                "keeps its size; CPU time is still charged for every thread")
    cores = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    try:
        if cores and len(cores) > 1:
            os.sched_setaffinity(0, {min(cores)})
        import jax

        jax.devices()
    finally:
        if cores and len(cores) > 1:
            unpin_threads(cores)
    return None


def unpin_threads(cores: set[int]) -> None:
    """Give every thread of this process ``cores`` again.

    A thread started while the process was pinned keeps the pin (Linux affinity is per
    thread): XLA's compute threads, started with the backend, would otherwise stay on the
    lowest core, and two JAX trials side by side would share that one core while the other
    idled (seen on 2026-12-06: each trial got 47% of a core).
    """
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:  # no /proc: only the calling thread can be reached
        threads = [0]
    for tid in threads:
        try:
            os.sched_setaffinity(tid, cores)
        except OSError:  # the thread ended meanwhile
            pass


def _jax_backend_started() -> bool:
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", None))
    except ImportError:  # a JAX without that module: assume it started
        return True


def default_clock(scale: str) -> str:
    """The clock a run uses when ``--clock`` is not given: dev at dev scale, else wall."""
    return "dev" if scale == "dev" else "wall"


def check_clock(name: str, scale: str) -> str:
    """``name`` if it may time a run at ``scale``; one sentence otherwise."""
    if name not in CLOCKS:
        raise PacelineError(f"Unknown clock {name!r}; choose one of: {', '.join(CLOCKS)}.")
    if scale == "official" and name != "wall":
        raise PacelineError("The official scale is timed with AlgoPerf's wall clock only; "
                            "drop --clock or pass --clock wall.")
    return name


class WallClock:
    """AlgoPerf's clock: wall seconds, optionally divided by a machine speed factor."""

    name = "wall"

    def __init__(self, scale: float = 1.0, source: str = "none") -> None:
        self.scale = float(scale)
        self.source = source
        self._start_wall = time.time()

    def __call__(self) -> float:
        return time.time() * self.scale

    def report(self) -> dict[str, Any]:
        return {"clock": self.name, "clock_scale": self.scale, "clock_scale_source": self.source,
                "wall_sec": time.time() - self._start_wall}


class _CompileSpans:
    """Wall-time intervals of one-time compilation, fed by the frameworks' own events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._spans: list[tuple[float, float]] = []
        self.total_wall = 0.0
        self.count = 0

    def add(self, start: float, end: float) -> None:
        if end <= start:
            return
        with self._lock:
            self._spans.append((start, end))
            self.count += 1

    def covered(self, lo: float, hi: float) -> float:
        """Seconds of [lo, hi] covered by compilation (overlapping spans counted once);
        spans ending before ``lo`` are dropped."""
        with self._lock:
            spans = sorted(s for s in self._spans if s[1] > lo)
            self._spans = [s for s in spans if s[1] > hi]
        covered, reach = 0.0, lo
        for start, end in spans:
            start, end = max(start, reach), min(end, hi)
            if end > start:
                covered += end - start
                reach = end
        self.total_wall += covered
        return covered


_ACTIVE: list[_CompileSpans] = []
_HOOKED: set[str] = set()


def _on_span(event: str, start: float, end: float, **_: Any) -> None:
    if "/compile/" in event or event.startswith("/jax/core/compile"):
        for spans in _ACTIVE:
            spans.add(start, end)


def _hook_jax() -> None:
    """Listen to JAX's compile-phase time spans (tracing, lowering, backend compile)."""
    if "jax" in _HOOKED:
        return
    try:
        from jax import monitoring
    except ImportError:
        return
    register = getattr(monitoring, "register_event_time_span_listener", None)
    if register is None:
        return
    register(_on_span)
    _HOOKED.add("jax")


def _hook_torch_compile() -> None:
    """Listen to ``torch.compile``'s start and end callbacks."""
    if "torch" in _HOOKED:
        return
    try:
        from torch._dynamo import callback
    except ImportError:
        return
    started: list[float] = []

    def start(*_: Any) -> None:
        started.append(time.time())

    def end(*_: Any) -> None:
        if started:
            _on_span("/torch/compile/", started.pop(), time.time())

    callback.on_compile_start(start)
    callback.on_compile_end(end)
    _HOOKED.add("torch")


def process_cpu_time() -> float:
    """This process's CPU seconds, exact even while a process CPU timer is armed.

    While the dev clock's watchdog (``ITIMER_PROF``, :mod:`sdk.trial_guards`) is armed, Linux
    serves the process CPU clock from a total the scheduler adds a running thread's time to
    only at its ticks (4 ms) and context switches: a 2 ms mnist step read 0 or 4 ms, and a
    trial's first eval rows could read 0.0 s of submission time. Reading the calling thread's
    CPU clock first makes the kernel add that thread's running time to the total.
    """
    time.thread_time()
    return time.process_time()


class DevClock:
    """CPU seconds of this process, less compilation, times this machine's normalisation.

    ``cpu`` and ``wall`` replace the process CPU time and the wall time (tests simulate a busy
    machine with them); ``scale`` is the normalisation (calibration seconds per CPU second).
    Readings start at the wall time the clock was made (epoch seconds, like ``time.time()``):
    the runner, as AlgoPerf's, evaluates at step 1 because its "last eval" starts at 0, and
    ``train_state`` times keep looking like time stamps.
    """

    name = "dev"

    def __init__(self, scale: float = 1.0, source: str = "none",
                 cpu: Callable[[], float] = process_cpu_time,
                 wall: Callable[[], float] = time.time,
                 frameworks: tuple[str, ...] = ("jax",)) -> None:
        if not (scale > 0 and scale < float("inf")):
            raise PacelineError(f"The dev clock's normalisation must be a positive number, "
                                f"got {scale}.")
        self.scale = float(scale)
        self.source = source
        self._cpu, self._wall = cpu, wall
        self.spans = _CompileSpans()
        self._start_cpu = self._last_cpu = cpu()
        self._start_wall = self._last_wall = wall()
        self.origin = self._start_wall
        self.compile_cpu = 0.0
        self._lock = threading.Lock()
        if "jax" in frameworks:
            _hook_jax()
        if "torch_compile" in frameworks:
            _hook_torch_compile()
        _ACTIVE.append(self.spans)

    def __call__(self) -> float:
        with self._lock:
            cpu, wall = self._cpu(), self._wall()
            d_cpu, d_wall = cpu - self._last_cpu, wall - self._last_wall
            compiling = self.spans.covered(self._last_wall, wall) if d_wall > 0 else 0.0
            if compiling > 0 and d_cpu > 0:
                self.compile_cpu += d_cpu * min(1.0, compiling / d_wall)
            self._last_cpu, self._last_wall = cpu, wall
            return self.origin + (cpu - self._start_cpu - self.compile_cpu) * self.scale

    def close(self) -> None:
        """Stop collecting compile spans (the clock still reads)."""
        if self.spans in _ACTIVE:
            _ACTIVE.remove(self.spans)

    def cpu_share(self) -> float | None:
        """CPU seconds per wall second since the clock started (1.0 = one whole core)."""
        wall = self._last_wall - self._start_wall
        return (self._last_cpu - self._start_cpu) / wall if wall > 0 else None

    def report(self) -> dict[str, Any]:
        self()
        share = self.cpu_share()
        return {
            "clock": self.name,
            "clock_scale": self.scale,
            "clock_scale_source": self.source,
            "cpu_sec": self._last_cpu - self._start_cpu,
            "wall_sec": self._last_wall - self._start_wall,
            "cpu_share": round(share, 4) if share is not None else None,
            "compile_events": self.spans.count,
            "compile_wall_sec": self.spans.total_wall,
            "compile_cpu_sec": self.compile_cpu,
        }


@dataclass(frozen=True)
class Normalisation:
    """This machine's dev-clock scale for one workload and framework, and where it came from.

    ``scale`` = calibration machine's reference step seconds / this machine's CPU seconds of
    the same step (``step_cpu_sec``, when known). ``canary_sec`` is the CPU time of a fixed
    piece of work measured when the scale was probed; trials measure it again to notice a
    machine that changed since.
    """

    scale: float
    source: str
    canary_sec: float | None = None
    note: str = ""
    step_cpu_sec: float | None = None  # the probe's CPU seconds per reference step
    probed_with: tuple[str, str] | None = None  # (submission, workload) the probe timed
    # the probe's hyperparameters that set how much work a step does (dropout), as pairs
    probed_work: tuple[tuple[str, Any], ...] = ()


def canary_sec(repeats: int = 5, clock: Callable[[], float] = time.thread_time) -> float:
    """CPU seconds of a fixed, pure-Python piece of work: the fastest of ``repeats`` runs.

    The fastest, not the median: anything else running can only make a run slower, so the
    minimum is what the machine itself does now. The median of three, read once when a
    workload was probed, came out 28-30 ms for two of the ten PyTorch probes of 2026-12-07
    09:43 where every other reading before and after was 20-24 ms, and each of those
    workloads' trials then flagged itself as "ran 25-31% faster" than at calibration (11 of
    72 momentum variant trials) while the probed step had not moved (criteo1tb 60.2 ms at
    09:43, 59.4 at 10:25).

    Read on the calling thread's CPU clock: while a trial's CPU-time guard (``ITIMER_PROF``,
    :mod:`sdk.trial_guards`) is armed, Linux serves the *process* CPU clock from the timer's
    tick-sampled total, so a 20 ms canary read there comes out as 20.0 or 24.0 ms (4 ms
    ticks), far too coarse to notice a machine 20% faster or slower.
    """
    times = []
    for _ in range(repeats):
        t0 = clock()
        total = 0
        for i in range(500_000):
            total += (i * i) % 7
        times.append(clock() - t0)
    return min(times)


def trust_problems(report: dict[str, Any], canary_before: float | None,
                   canary_after: float | None, canary_calibrated: float | None) -> list[str]:
    """Sentences saying why a dev-clock measurement cannot be trusted (empty: it can)."""
    problems = []
    share = report.get("cpu_share")
    if share is not None and report.get("wall_sec", 0) > 1 and share < MIN_CPU_SHARE:
        problems.append(
            f"the trial got {share:.0%} of a core, too busy a machine for CPU time to hold: "
            "rerun it with fewer --jobs or fewer other programs running")
    if canary_calibrated:
        for when, value in (("start", canary_before), ("end", canary_after)):
            if value is None:
                continue
            drift = value / canary_calibrated - 1
            if abs(drift) > MAX_CANARY_DRIFT:
                problems.append(
                    f"at its {when} this machine ran {abs(drift):.0%} "
                    f"{'slower' if drift > 0 else 'faster'} than when its dev clock was "
                    "calibrated: run `paceline calibrate` again, then rerun the trial")
                break
    return problems




# ---- building a trial's clock --------------------------------------------------------------

NORMALISATION_GROUP = "paceline.dev_clock"


def normalisation_for(workload: str, framework: str, data_dir: str | None = None) -> Normalisation:
    """This machine's dev-clock normalisation for ``workload`` in ``framework``.

    Asks the provider registered under the ``paceline.dev_clock`` entry-point group (the
    workloads package: it probes the reference step once per machine and caches it). Without
    a provider, or for a workload it has no calibration for, the scale is 1 (CPU seconds).
    """
    from importlib import metadata

    for entry in metadata.entry_points(group=NORMALISATION_GROUP):
        found = entry.load()(workload, framework, data_dir)
        if found is not None:
            return found
    return Normalisation(1.0, "none: no calibration for this workload, CPU seconds as measured")


def trial_clock(name: str, workload: str, framework: str, data_dir: str | None = None,
                scale: float | None = None,
                torch_compile: bool = False) -> tuple[Any, Normalisation]:
    """The clock a trial is timed with, and its normalisation.

    ``scale`` overrides the probed normalisation (``--speed-factor X`` passes ``1 / X``).
    """
    if scale is not None:
        norm = Normalisation(float(scale), "override (--speed-factor)")
    elif name == "dev":
        norm = normalisation_for(workload, framework, data_dir)
    else:
        norm = Normalisation(1.0, "none")
    if name == "wall":
        return WallClock(norm.scale, norm.source), norm
    hooks = (framework,) + (("torch_compile",) if torch_compile else ())
    return DevClock(norm.scale, norm.source, frameworks=hooks), norm


def step_cpu_sec(evals: Sequence[tuple[float, int]], scale: float) -> float | None:
    """This machine's CPU seconds per step from a trial's ``(submission seconds, step)`` at
    each eval: the charged time between the second eval and the last, over the steps between
    them, undone of the clock's ``scale`` (the first interval holds the start-up steps).
    ``None`` with fewer than three evals or no step between them.

        >>> step_cpu_sec([(0.1, 1), (5.0, 100), (15.0, 300)], scale=0.5)
        0.1
    """
    if len(evals) < 3 or not scale > 0:
        return None
    (t0, s0), (t1, s1) = evals[1], evals[-1]
    if s1 <= s0:
        return None
    return (t1 - t0) / (s1 - s0) / scale


def probed_step(norm: Normalisation | None, ran: tuple[str, str] | None,
                hyperparameters: dict[str, Any] | None) -> bool:
    """Whether a trial of ``ran`` = (submission, workload) with ``hyperparameters`` steps as
    the probe did: same submission and workload, and the same values of the hyperparameters
    that set a step's work (NAdamW's self-tuning point has dropout 0.1 where the probe's has
    none; its wmt and ViT steps paid 1.25-1.55 times the probe's where the probe's point
    stayed within 25%). Unknown hyperparameters (self-tuning passes none) are not the
    probe's."""
    if norm is None or ran is None or norm.probed_with != tuple(ran):
        return False
    if not norm.probed_work:
        return True
    return hyperparameters is not None and all(
        k in hyperparameters and hyperparameters[k] == v for k, v in norm.probed_work)


def step_drift_problem(ratio: float | None, probed: bool) -> str | None:
    """A sentence when a trial of the probed step (:func:`probed_step`) paid more than
    ``MAX_STEP_DRIFT`` more or less CPU a step than the probe: the machine changed since
    calibration. ``None`` otherwise (another step costs what it costs)."""
    if ratio is None or not probed:
        return None
    if abs(ratio - 1) <= MAX_STEP_DRIFT:
        return None
    how = f"{abs(ratio - 1):.0%} {'more' if ratio > 1 else 'less'}"
    return (f"its step cost {how} CPU than the dev clock's probe of the same step, so this "
            "machine changed since it was calibrated: run `paceline calibrate --check`, "
            "recalibrate as it says, then rerun the trial")


def measurement_report(clock: Any, norm: Normalisation | None, canary_before: float | None,
                       canary_after: float | None, evals: Sequence[tuple[float, int]] = (),
                       ran: tuple[str, str] | None = None,
                       hyperparameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a trial records about its own timing: the clock's figures, its CPU per step
    (:func:`step_cpu_sec` of its ``(submission seconds, step)`` at each eval) against the
    probe's reference step (``step_vs_reference``: 1.0 means the trial's step cost what the
    probe's did), and whether to trust them (``trusted`` plus one sentence per problem in
    ``problems``). ``ran`` is the trial's ``(submission, workload)``: when it and the
    ``hyperparameters`` make the step the probe timed (:func:`probed_step`), a step cost
    beyond ``MAX_STEP_DRIFT`` of the probe's is a problem; for any other step the ratio holds
    its own cost too, and only informs."""
    report = clock.report() if hasattr(clock, "report") else {"clock": "custom"}
    dev = report.get("clock") == "dev"
    step_cpu = step_cpu_sec(evals, float(report.get("clock_scale", 1.0))) \
        if dev else None  # other clocks do not charge CPU time
    calibrated = norm.canary_sec if norm is not None else None
    reference = norm.step_cpu_sec if norm is not None else None
    ratio = round(step_cpu / reference, 4) if step_cpu and reference else None
    problems = trust_problems(report, canary_before, canary_after, calibrated) if dev else []
    drift = step_drift_problem(ratio, probed_step(norm, ran, hyperparameters)) if dev else None
    problems += [drift] if drift else []
    report.update({
        "canary_calibrated_sec": calibrated,
        "canary_start_sec": canary_before,
        "canary_end_sec": canary_after,
        "step_cpu_sec": step_cpu,
        "reference_step_cpu_sec": reference,
        "step_vs_reference": ratio,
        "trusted": not problems,
        "problems": problems,
    })
    return report


__all__ = [
    "CLOCKS",
    "DevClock",
    "Normalisation",
    "WallClock",
    "activate",
    "active_clock",
    "canary_sec",
    "check_clock",
    "deactivate",
    "default_clock",
    "hold_to_one_thread",
    "limit_thread_pools",
    "measurement_report",
    "normalisation_for",
    "process_cpu_time",
    "probed_step",
    "step_cpu_sec",
    "step_drift_problem",
    "running_with",
    "steady_allocator",
    "trial_clock",
    "trust_problems",
]
