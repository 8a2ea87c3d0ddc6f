"""This machine's dev-clock normalisation: the reference step, probed once and cached.

    paceline calibrate                              # probe (or re-probe) every dev workload
    paceline calibrate --workloads mnist ogbg --framework jax

The dev clock (:mod:`sdk.clock`) charges CPU seconds. To read them as seconds on the
calibration machine, each (base workload, framework) gets a scale::

    scale = recorded step time on the calibration machine / CPU time of the same step here

where "the step" is NAdamW's (the first point of its search space, as ``paceline targets``
probes it), the recorded time is the one in ``workloads/<family>/calibration.json`` and the
CPU time is measured here with one thread, compilation left out, in a process of its own: N
steps warm up, then training goes on, evaluating as a trial does, until N more steps compiled
nothing and two evaluations followed the warm-up; the step's cost is the submission time the
runner charged per step between the first and the last of those evaluations (data selection
included; JAX's queued steps waited for), N = 4 s at the recorded step time
(``probe_steps``). A held-out variant uses its base's scale, so a variant that is costlier
than its base stays costlier.

The probe runs the first time a workload and framework are timed on a machine (a short
trial, under a minute) and is cached in ``$PACELINE_CACHE_DIR/dev_clock.json`` (default
``~/.cache/paceline``), keyed by the machine (processor, cores, memory, torch and jax
versions). A cache from another machine, or one that cannot be read, is rebuilt with a note.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import sys
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

from sdk.clock import Normalisation, canary_sec
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.trial_logs import atomic_write_json
from sdk.user_cache import cache_dir, locked

CACHE_FILE = "dev_clock.json"
FORMAT = 1
PROBE_SECONDS = 4.0
# How the probe is taken; entries probed otherwise are probed again. "steady-steps": N steps
# warm up, then the next N steps that compiled nothing are timed, N being as many steps as
# PROBE_SECONDS hold at the recorded step time, so both frameworks time the same batches. The
# earlier probe, cut after PROBE_SECONDS of wall time, let JAX's per-shape compilations cut
# it to 20 early steps on the speech workloads, and charged the first run of each new shape,
# which a long trial pays once: JAX trials took 24-48% more steps than PyTorch ones there.
# "+allocator": probed with glibc malloc's thresholds fixed (sdk.clock.steady_allocator), as
# every trial now runs; a probe in a fresh process otherwise paid page faults that trials
# did not (JAX steps up to 20% dearer).
# "+evals": the probe evaluates as a trial does (every eval period, at least every
# PROBE_SECONDS / 2) and its step cost is the submission time the runner charged between the
# first eval after the warm-up and the last, as for a trial (JAX's queued steps waited for
# before each eval). A probe that never evaluated and timed steps one by one measured JAX's
# fastmri step at 88-92 ms of CPU where trials paid 74-78 ms (docs/measurements/dev-clock.md,
# eighth session); the same step costs more in a process that never evaluated.
PROBE_METHOD = "steady-steps+allocator+evals"


def cache_path() -> Path:
    """``$PACELINE_CACHE_DIR/dev_clock.json``, else under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    return cache_dir() / CACHE_FILE


def machine_fingerprint() -> dict[str, Any]:
    """What makes one machine's step costs differ from another's."""
    return {
        "processor": _cpu_model(),
        "machine": platform.machine(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "torch": _version("torch"),
        "jax": _version("jax"),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> int | None:
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * size / 2**30)


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


# ---- the cache file --------------------------------------------------------------------------


def _empty() -> dict[str, Any]:
    return {
        "about": "paceline's dev-clock normalisation for this machine (see `paceline "
                 "calibrate --help`); safe to delete: it is probed again.",
        "format": FORMAT,
        "machine": machine_fingerprint(),
        "entries": {},
    }


def read_cache(path: Path | None = None) -> tuple[dict[str, Any], str]:
    """The cache for this machine and a note ("" when it was fine).

    A missing cache is empty; an unreadable one, or one made on another machine, is replaced
    by an empty one and the note says so.
    """
    path = path or cache_path()
    if not path.exists():
        return _empty(), ""
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or data.get("format") != FORMAT or \
                not isinstance(data.get("entries"), dict):
            raise ValueError("not a dev-clock cache")
        for key, entry in data["entries"].items():
            _check_entry(key, entry)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return _empty(), (f"the dev-clock cache {path} could not be read ({exc}); it is "
                          "probed again")
    if data.get("machine") != machine_fingerprint():
        return _empty(), (f"the dev-clock cache {path} was made on another machine (or with "
                          "other torch/jax versions); this machine is probed again")
    return data, ""


def _check_entry(key: str, entry: Any) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"entry {key!r} is not an object")
    for field in ("scale", "step_cpu_sec", "recorded_step_sec", "canary_sec"):
        value = entry.get(field)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                not math.isfinite(value) or value <= 0:
            raise ValueError(f"entry {key!r} has no positive {field}")


def store(key: str, entry: dict[str, Any], path: Path | None = None) -> None:
    """Add one probed entry, keeping what other processes stored meanwhile."""
    path = path or cache_path()
    try:
        with locked(path):
            data, _ = read_cache(path)
            data["entries"][key] = entry
            data["entries"] = dict(sorted(data["entries"].items()))
            atomic_write_json(path, data)
    except OSError as exc:
        print(f"paceline: could not write the dev-clock cache {path} ({exc}); the probe is "
              "repeated next time", file=sys.stderr)


# ---- probing -----------------------------------------------------------------------------------


def reference_step(name: str) -> tuple[str, float] | None:
    """(base workload, its recorded NAdamW step seconds on the calibration machine)."""
    from workloads.calibration_record import read_record

    try:
        entry = workloads().entry(name)
    except PacelineError:
        return None
    if "dev" not in entry.classes:
        return None
    base = entry.base or name
    speed = (read_record(base) or {}).get("speed") or {}
    step = speed.get("step_time_sec")
    return (base, float(step)) if step else None


# A probe whose timed steps got less than this share of a core (paused, or the process waited
# for the CPU: its caches went cold between steps) is taken again, at most PROBE_TRIES times;
# the entry keeps the try with the largest share.
MIN_PROBE_SHARE = 0.9
PROBE_TRIES = 3


def probe(base: str, framework: str, recorded_step_sec: float, data_dir: str | None = None,
          seconds: float = PROBE_SECONDS, fresh_process: bool = True) -> dict[str, Any]:
    """Time NAdamW's step on ``base`` here, in CPU seconds with one thread; the cache entry.

    Each try runs in a new process (``fresh_process``): a step probed after another
    workload's probe in the same process cost up to 46% more (ogbg in JAX, 39.0 ms against
    26.7 alone; docs/measurements/dev-clock.md), and a trial's process stays as it was.
    """
    found: dict[str, Any] = {}
    steps = probe_steps(recorded_step_sec, seconds)
    for _ in range(PROBE_TRIES):  # a probe that did not get a whole core is taken again
        args = (base, framework, seconds, data_dir, steps)
        tried = _in_fresh_process(_measure_held, *args) if fresh_process else measure_once(*args)
        if not found or (tried.get("cpu_share") or 0) > (found.get("cpu_share") or 0):
            found = tried
        share = found.get("cpu_share")
        if share is None or share >= MIN_PROBE_SHARE:  # None: not measured, nothing to retry
            break
    step = float(found["step_time_sec"])
    if not (step > 0 and math.isfinite(step)):
        raise PacelineError(f"The dev-clock probe of {base} ({framework}) measured no step "
                            "time; rerun `paceline calibrate`.")
    return {
        "scale": recorded_step_sec / step,
        "step_cpu_sec": step,
        "recorded_step_sec": recorded_step_sec,
        "steps": found["steps"],
        "steady_steps": found["steady_steps"],
        "method": PROBE_METHOD,
        "cpu_share": found.get("cpu_share"),
        "canary_sec": canary_sec(),
        "probed": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def measure_once(base: str, framework: str, seconds: float, data_dir: str | None,
                 steps: int) -> dict[str, Any]:
    """One try of the probe in this process (the caller holds it to one thread)."""
    from workloads.target_setting import measure_speed, subject_for

    with tempfile.TemporaryDirectory(prefix="paceline-dev-clock-") as tmp:
        return measure_speed(subject_for(base, framework), seconds, Path(tmp) / "probe",
                             data_dir, threads=1, clock="dev", steps=steps)


def _measure_held(base: str, framework: str, *args: Any) -> dict[str, Any]:
    """:func:`measure_once` in a new process: held to one thread first."""
    from sdk.clock import hold_to_one_thread

    hold_to_one_thread(framework)
    return measure_once(base, framework, *args)


def _in_fresh_process(function: Any, *args: Any) -> Any:
    """``function(*args)`` in a new Python process (spawned: nothing of this one carried)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def probe_steps(recorded_step_sec: float, seconds: float = PROBE_SECONDS) -> int:
    """The probe's warm-up and timed step count: ``seconds`` at the calibration machine's
    recorded step time (at least the procedure's minimum), the same in every framework.

    >>> probe_steps(0.05), probe_steps(1.0)
    (80, 20)
    """
    from workloads.target_setting.procedure import PROCEDURE

    return max(PROCEDURE.probe_min_steps, math.ceil(seconds / recorded_step_sec))


def _current(entry: dict[str, Any] | None, recorded: float) -> bool:
    return (entry is not None and math.isclose(entry["recorded_step_sec"], recorded)
            and entry.get("method") == PROBE_METHOD)


def normalisation(name: str, framework: str, data_dir: str | None = None,
                  refresh: bool = False) -> Normalisation | None:
    """The dev-clock normalisation of workload ``name`` (``None``: not a calibrated workload).

    The entry-point function behind :func:`sdk.clock.normalisation_for`; probes and caches
    on first use (``refresh`` probes again).
    """
    found = reference_step(name)
    if found is None:
        return None
    base, recorded = found
    key = f"{base}/{framework}"
    data, note = read_cache()
    entry = data["entries"].get(key)
    if note:
        print(f"paceline: {note}.", file=sys.stderr)
    if refresh or not _current(entry, recorded):
        # one probe per key at a time: trials side by side wait for the first one's result
        with locked(cache_path().with_name(f"probe-{base}-{framework}")):
            entry = None if refresh else read_cache()[0]["entries"].get(key)
            if not _current(entry, recorded):
                print(f"paceline: calibrating the dev clock for {base} ({framework}) on this "
                      f"machine, once (a short NAdamW trial, ~{2 * PROBE_SECONDS:g} s of steps "
                      f"and a few evals; cached in {cache_path()})", file=sys.stderr)
                entry = probe(base, framework, recorded, data_dir)
                store(key, entry)
    from workloads.target_setting.speed_probe import PROBED_SUBMISSION, probed_work

    return Normalisation(float(entry["scale"]), f"probed {entry['probed']} ({key})",
                         float(entry["canary_sec"]), step_cpu_sec=entry.get("step_cpu_sec"),
                         probed_with=(PROBED_SUBMISSION, base), probed_work=probed_work())
