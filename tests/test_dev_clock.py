"""The dev clock: CPU time that a busy machine does not move, compilation left out, a
normalisation probed once per machine and cached, and trials that check their own timing."""

from __future__ import annotations

import json
import os

import pytest

from sdk import clock as clocks
from sdk.clock import DevClock, Normalisation, measurement_report, trust_problems
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from tests.fakes import ClockSubmissionModule, ClockWorkload, Costs, clock_submission
from tests.fakes import numbers as make_numbers


class BusyMachine:
    """A simulated machine: work advances CPU time by its cost and wall time by ``busy`` x
    its cost (``busy`` = how many runnable processes share the core)."""

    def __init__(self, busy: float = 1.0) -> None:
        self.busy = busy
        self.cpu_t = 0.0
        self.wall_t = 1_000_000.0

    def cpu(self) -> float:
        return self.cpu_t

    def wall(self) -> float:
        return self.wall_t

    def advance(self, seconds: float) -> None:
        self.cpu_t += seconds
        self.wall_t += seconds * self.busy


def test_a_busy_machine_does_not_move_the_dev_clock():
    readings = {}
    for busy in (1.0, 3.0):
        machine = BusyMachine(busy)
        clock = DevClock(cpu=machine.cpu, wall=machine.wall)
        start = clock()
        for _ in range(100):
            machine.advance(0.01)
        readings[busy] = clock() - start
        clock.close()
    assert readings[1.0] == pytest.approx(1.0)
    assert readings[3.0] == pytest.approx(1.0)


def test_the_scale_turns_cpu_seconds_into_calibration_seconds():
    machine = BusyMachine()
    clock = DevClock(scale=0.5, cpu=machine.cpu, wall=machine.wall)
    start = clock()
    machine.advance(4.0)
    assert clock() - start == pytest.approx(2.0)
    clock.close()


def test_compilation_spans_are_left_out_in_proportion():
    machine = BusyMachine(busy=2.0)  # half a core: 1 s of CPU takes 2 s of wall time
    clock = DevClock(cpu=machine.cpu, wall=machine.wall)
    start = clock()
    begin = machine.wall()
    machine.advance(1.0)  # compiling: 2 s of wall time
    clocks._on_span("/jax/core/compile/backend_compile_duration", begin, machine.wall())
    machine.advance(1.0)  # the step itself
    assert clock() - start == pytest.approx(1.0)
    report = clock.report()
    assert report["compile_wall_sec"] == pytest.approx(2.0)
    assert report["compile_cpu_sec"] == pytest.approx(1.0)
    assert report["compile_events"] == 1
    clock.close()


def test_overlapping_compile_spans_count_once_and_other_events_not_at_all():
    machine = BusyMachine()
    clock = DevClock(cpu=machine.cpu, wall=machine.wall)
    start, begin = clock(), machine.wall()
    machine.advance(2.0)
    clocks._on_span("/jax/core/compile/jaxpr_trace_duration", begin, begin + 1.5)
    clocks._on_span("/jax/core/compile/backend_compile_duration", begin + 1.0, begin + 2.0)
    clocks._on_span("/jax/some/other_event", begin, begin + 2.0)
    assert clock() - start == pytest.approx(0.0)
    clock.close()


def test_a_closed_clock_stops_listening():
    machine = BusyMachine()
    clock = DevClock(cpu=machine.cpu, wall=machine.wall)
    clock.close()
    begin = machine.wall()
    machine.advance(1.0)
    clocks._on_span("/jax/core/compile/backend_compile_duration", begin, machine.wall())
    assert clock.spans.count == 0


def _trial(clock, machine, tmp_path, budget=20.0):
    workload = ClockWorkload(machine, Costs(step=0.05, eval=0.3),
                             make_numbers(0.0, 0.0, budget, 2.0), ruleset_version="0.6")
    module = ClockSubmissionModule(machine, Costs(step=0.05, eval=0.3))
    options = RunOptions(save_checkpoints=False, tensorboard=False)
    return train_once(workload, clock_submission(module), None, 0, get_ruleset("0.6"), options,
                      tmp_path, clock=clock)


def test_the_runner_on_a_busy_machine_takes_the_same_steps_under_the_dev_clock(tmp_path):
    steps = {}
    for busy in (1.0, 3.0):
        machine = BusyMachine(busy)
        clock = DevClock(cpu=machine.cpu, wall=machine.wall)
        result = _trial(clock, machine, tmp_path / f"dev{busy}")
        steps[("dev", busy)] = result.global_step
        assert result.clock == "dev"
        assert result.submission_time_sec == pytest.approx(20.0, abs=0.15)
        machine = BusyMachine(busy)
        steps[("wall", busy)] = _trial(machine.wall, machine, tmp_path / f"wall{busy}").global_step
    assert steps[("dev", 1.0)] == steps[("dev", 3.0)]
    assert abs(steps[("dev", 1.0)] - steps[("wall", 1.0)]) <= 1  # float rounding at the edge
    assert steps[("wall", 3.0)] < steps[("wall", 1.0)] / 2  # the wall clock loses 2/3


def test_the_trial_records_its_clock_and_measurement(tmp_path):
    machine = BusyMachine(busy=3.0)
    clock = DevClock(scale=2.0, source="test", cpu=machine.cpu, wall=machine.wall)
    result = _trial(clock, machine, tmp_path, budget=4.0)
    meta = json.loads((tmp_path / "meta_data_0.json").read_text())
    assert meta["paceline.clock"] == "dev"
    assert meta["paceline.clock_scale"] == 2.0
    measurement = meta["paceline.measurement"]
    assert measurement["cpu_share"] == pytest.approx(1 / 3, rel=0.01)
    assert measurement["trusted"] is False  # a third of a core
    assert not result.measurement_trusted
    assert "of a core" in result.measurement_note


def test_trust_problems_name_a_busy_machine_and_a_drifted_one():
    quiet = {"cpu_share": 0.95, "wall_sec": 10.0}
    assert trust_problems(quiet, 0.10, 0.11, 0.10) == []
    busy = trust_problems({"cpu_share": 0.3, "wall_sec": 10.0}, None, None, None)
    assert len(busy) == 1 and "30% of a core" in busy[0]
    drift = trust_problems(quiet, 0.10, 0.14, 0.10)
    assert len(drift) == 1 and "40% slower" in drift[0] and "paceline calibrate" in drift[0]


def test_measurement_report_of_a_plain_function_clock_is_trusted():
    report = measurement_report(lambda: 0.0, None, None, None)
    assert report["trusted"] is True and report["problems"] == []


def test_the_self_tuning_helpers_read_the_runners_clock():
    from self_tuning.clock import WallClock

    machine = BusyMachine()
    clock = DevClock(cpu=machine.cpu, wall=machine.wall)
    with clocks.running_with(clock):
        before = WallClock().now()
        machine.advance(1.5)
        assert WallClock().now() - before == pytest.approx(1.5)
    assert WallClock().now() > 1e9  # outside a trial: time.time()
    clock.close()


# ---- the normalisation cache -------------------------------------------------------------


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PACELINE_CACHE_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def probes(monkeypatch):
    """Replace the real probe (seconds of NAdamW) by a fixed 2 ms step; count the calls."""
    from workloads import dev_clock

    calls = []

    def fake_probe(base, framework, recorded, data_dir=None, seconds=0.0):
        calls.append((base, framework))
        return {"scale": recorded / 0.002, "step_cpu_sec": 0.002, "recorded_step_sec": recorded,
                "steps": 100, "canary_sec": 0.05, "probed": "2026-12-05T00:00:00+00:00",
                "method": dev_clock.PROBE_METHOD}

    monkeypatch.setattr(dev_clock, "probe", fake_probe)
    return calls


def test_the_normalisation_is_probed_once_and_cached(cache_dir, probes):
    from workloads.calibration_record import read_record
    from workloads.dev_clock import normalisation

    recorded = read_record("mnist")["speed"]["step_time_sec"]
    first = normalisation("mnist", "pytorch")
    second = normalisation("mnist", "pytorch")
    assert probes == [("mnist", "pytorch")]
    assert first.scale == second.scale == pytest.approx(recorded / 0.002)
    assert first.canary_sec == 0.05
    normalisation("mnist", "jax")
    assert probes[-1] == ("mnist", "jax")
    saved = json.loads((cache_dir / "dev_clock.json").read_text())
    assert set(saved["entries"]) == {"mnist/pytorch", "mnist/jax"}


def test_a_variant_uses_its_bases_normalisation(cache_dir, probes):
    from workloads.dev_clock import normalisation

    base = normalisation("ogbg", "pytorch")
    variant = normalisation("ogbg_gelu", "pytorch")
    assert probes == [("ogbg", "pytorch")]
    # both say whose step was probed: NAdamW's on the base (a trial compares only that one)
    assert base.probed_with == variant.probed_with == ("nadamw", "ogbg")
    assert base.probed_work == (("dropout_rate", 0.0),)
    assert base.step_cpu_sec == 0.002


def test_a_corrupt_cache_is_rebuilt_with_a_note(cache_dir, probes, capsys):
    from workloads.dev_clock import normalisation

    (cache_dir / "dev_clock.json").write_bytes(b"\x00{not json")
    norm = normalisation("mnist", "pytorch")
    assert norm.scale > 0 and probes == [("mnist", "pytorch")]
    assert "could not be read" in capsys.readouterr().err
    assert json.loads((cache_dir / "dev_clock.json").read_text())["entries"]


def test_a_cache_from_another_machine_is_rebuilt_with_a_note(cache_dir, probes, capsys):
    from workloads.dev_clock import normalisation

    normalisation("mnist", "pytorch")
    data = json.loads((cache_dir / "dev_clock.json").read_text())
    data["machine"]["processor"] = "Some Other CPU"
    (cache_dir / "dev_clock.json").write_text(json.dumps(data))
    normalisation("mnist", "pytorch")
    assert len(probes) == 2
    assert "another machine" in capsys.readouterr().err


def test_an_entry_probed_the_earlier_way_is_probed_again(cache_dir, probes):
    """Entries cached by the wall-time-cut probe (no "method") are not used."""
    from workloads.dev_clock import normalisation

    normalisation("mnist", "pytorch")
    data = json.loads((cache_dir / "dev_clock.json").read_text())
    del data["entries"]["mnist/pytorch"]["method"]
    (cache_dir / "dev_clock.json").write_text(json.dumps(data))
    normalisation("mnist", "pytorch")
    assert probes == [("mnist", "pytorch")] * 2


class _CompilingClock:
    """A trial clock whose steps cost 1 s, 5 s in a step that compiles (counted in spans)."""

    def __init__(self, compile_at: set[int]) -> None:
        self.now, self.step, self.compile_at = 0.0, 0, compile_at
        self.spans = type("Spans", (), {"count": 0})()

    def __call__(self) -> float:
        return self.now

    def run_step(self) -> None:
        self.step += 1
        compiles = self.step in self.compile_at
        self.spans.count += compiles
        self.now += 5.0 if compiles else 1.0


def test_the_steady_probe_times_only_steps_that_compiled_nothing():
    """N=3: steps 1-3 warm up; step 5 compiles (a new batch shape) and is not timed; steps 4,
    6 and 7 are, 1 s each; the eighth call ends training."""
    from types import SimpleNamespace

    from sdk.clock import running_with
    from sdk.spec import TrainingCompleteError
    from workloads.target_setting.speed_probe import stopping_after

    clock = _CompilingClock(compile_at={1, 5})
    probe = stopping_after(SimpleNamespace(update_params=lambda **_: clock.run_step()),
                            seconds=0.0, min_steps=0, steady=3)
    with running_with(clock), pytest.raises(TrainingCompleteError):
        for _ in range(20):
            probe.update_params()
    assert clock.step == 7
    assert probe.probe_clock["steady"] == 3 and probe.probe_clock["steady_sec"] == 3.0
    assert probe.probe_clock["steady_wall"] > 0  # the same steps on the wall clock


def test_the_steady_probe_gives_up_after_four_times_its_steps():
    from types import SimpleNamespace

    from sdk.clock import running_with
    from sdk.spec import TrainingCompleteError
    from workloads.target_setting.speed_probe import stopping_after

    clock = _CompilingClock(compile_at=set(range(1, 100)))  # every step compiles
    probe = stopping_after(SimpleNamespace(update_params=lambda **_: clock.run_step()),
                            seconds=0.0, min_steps=0, steady=2)
    with running_with(clock), pytest.raises(TrainingCompleteError):
        for _ in range(20):
            probe.update_params()
    assert clock.step == 8 and probe.probe_clock["steady"] == 0


def test_the_steady_probe_evaluates_as_a_trial_and_skips_the_step_after_an_eval():
    """N=2 with a workload that evaluates after steps 3 and 5: step 4 follows an eval and is
    not timed; training goes on until two evals followed the warm-up (steps 3 and 5) and two
    steps were timed (3 and 5), so the sixth call ends it."""
    from types import SimpleNamespace

    from sdk.clock import running_with
    from sdk.spec import TrainingCompleteError
    from workloads.target_setting.speed_probe import stopping_after

    clock = _CompilingClock(compile_at={1})
    workload = SimpleNamespace(eval_model=lambda *a, **k: {"loss": 1.0})
    probe = stopping_after(SimpleNamespace(update_params=lambda **_: clock.run_step()),
                           seconds=0.0, min_steps=0, steady=2, workload=workload)
    with running_with(clock), pytest.raises(TrainingCompleteError):
        for _ in range(20):
            probe.update_params()
            if clock.step in (3, 5):
                workload.eval_model()
    assert clock.step == 5
    assert probe.probe_clock["evals"] == 2 and probe.probe_clock["evals_after"] == 2
    assert probe.probe_clock["steady"] == 2  # steps 3 and 5; step 4 followed an eval


@pytest.mark.parametrize("rows, expected", [
    # warm-up of 10 steps: rows after it are at 20 and 40; (9 - 5) / (40 - 20)
    ([(1, 0.1), (10, 2.0), (20, 5.0), (40, 9.0)], 0.2),
    ([(1, 0.1), (10, 2.0), (20, 5.0)], None),  # one eval after the warm-up: no interval
    ([], None),
])
def test_the_probe_reads_the_step_cost_from_the_charged_time_between_evals(rows, expected):
    """What the runner charged between evals, as for any trial: JAX's queued steps are waited
    for before each eval, so only whole intervals hold whole steps."""
    from workloads.target_setting.speed_probe import _charged_per_step

    found = _charged_per_step([{"global_step": s, "accumulated_submission_time": t}
                               for s, t in rows], warm_up=10)
    assert found == (pytest.approx(expected) if expected is not None else None)


@pytest.mark.parametrize("entry", [{"scale": -1}, {"scale": "fast"}, [], {"scale": float("nan")}])
def test_a_cache_entry_with_bad_numbers_is_not_used(cache_dir, probes, entry):
    from workloads.dev_clock import machine_fingerprint, normalisation

    (cache_dir / "dev_clock.json").write_text(json.dumps(
        {"format": 1, "machine": machine_fingerprint(), "entries": {"mnist/pytorch": entry}}))
    assert normalisation("mnist", "pytorch").scale > 0
    assert probes == [("mnist", "pytorch")]


def test_a_workload_without_calibration_has_no_normalisation(cache_dir, probes):
    from workloads.dev_clock import normalisation

    assert normalisation("no_such_workload", "pytorch") is None
    assert clocks.normalisation_for("no_such_workload", "pytorch").scale == 1.0
    assert probes == []


def test_the_speed_factor_overrides_the_probe(cache_dir, probes):
    clock, norm = clocks.trial_clock("dev", "mnist", "pytorch", scale=0.5)
    assert isinstance(clock, DevClock) and clock.scale == 0.5
    assert norm == Normalisation(0.5, "override (--speed-factor)")
    clock.close()
    assert probes == []


# ---- the command line --------------------------------------------------------------------


def _cli(capsys, *argv):
    from sdk.cli.main import main

    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize("argv, words", [
    (["--jobs", "0"], "--jobs"),
    (["--clock", "dev", "--scale", "official"], "wall clock"),
    (["--clock", "sundial"], "--clock"),
])
def test_bad_clock_flags_end_in_one_sentence(capsys, argv, words):
    code, err = _cli(capsys, "run", "--submission", "nadamw", "--workload", "mnist", *argv)
    assert code == 2
    assert "Traceback" not in err
    assert any(words in line for line in err.strip().splitlines())


def test_speed_factor_at_official_scale_is_refused(capsys):
    from sdk.run_context import dev_clock_override

    with pytest.raises(Exception, match="dev scale only"):
        dev_clock_override(2.0, "official")
    assert dev_clock_override(2.0, "dev") == 0.5


def test_hold_to_one_thread_sets_the_thread_variables(monkeypatch):
    for name in clocks.THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    clocks.hold_to_one_thread("pytorch")
    assert all(os.environ[name] == "1" for name in clocks.THREAD_VARIABLES)
    import torch

    assert torch.get_num_threads() == 1


def test_the_allocator_thresholds_are_fixed_through_mallopt(monkeypatch):
    import ctypes

    from sdk import clock

    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(clock.sys, "platform", "linux")
    monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())
    assert clock.steady_allocator() is True
    assert calls == [(-3, clock.MALLOC_MMAP_THRESHOLD), (-1, clock.MALLOC_TRIM_THRESHOLD)]
    monkeypatch.setattr(clock.sys, "platform", "darwin")
    assert clock.steady_allocator() is False and len(calls) == 2


def test_holding_to_one_thread_also_steadies_the_allocator(monkeypatch):
    from sdk import clock

    seen = []
    monkeypatch.setattr(clock, "steady_allocator", lambda: seen.append(True) or True)
    monkeypatch.setattr(clock, "limit_thread_pools", lambda threads: None)
    assert clock.hold_to_one_thread("neither") is None
    assert seen == [True]


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs a process allowed on at least two cores")
def test_jax_held_to_one_thread_leaves_every_thread_free_to_move_between_cores():
    """XLA's threads start while the process is pinned to one core; they must get every core
    back, or two JAX trials side by side share that one core."""
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import os\n"
        "from sdk.clock import hold_to_one_thread\n"
        "cores = os.sched_getaffinity(0)\n"
        "assert hold_to_one_thread('jax') is None\n"
        "import jax.numpy as jnp\n"
        "float(jnp.ones(64).sum())\n"
        "pinned = [t for t in os.listdir('/proc/self/task')\n"
        "          if os.sched_getaffinity(int(t)) != cores]\n"
        "print(len(os.listdir('/proc/self/task')), 'threads, pinned:', pinned)\n"
        "assert not pinned\n"
    )
    repo = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", script], cwd=repo, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("shares, calls, kept", [
    ([0.97], 1, 0.97), ([0.5, 0.95], 2, 0.95), ([0.5, 0.7, 0.6], 3, 0.7), ([None], 1, None)])
def test_a_probe_that_did_not_get_a_whole_core_is_taken_again(monkeypatch, shares, calls, kept):
    """Paused or waiting for the CPU mid-way, a probe's steps run with cold caches and cost
    more: such a probe is repeated, at most three times, and the fullest one is kept."""
    import workloads.target_setting as target_setting
    from workloads import dev_clock

    tries = iter(shares)
    seen = []

    def fake_measure(subject, seconds, trial_dir, *args, **kwargs):
        share = next(tries)
        seen.append(share)
        return {"step_time_sec": 0.1 / (share or 1.0), "steps": 40, "steady_steps": 20,
                "cpu_share": share}

    monkeypatch.setattr(target_setting, "measure_speed", fake_measure, raising=False)
    monkeypatch.setattr(target_setting, "subject_for", lambda base, fw: base, raising=False)
    entry = dev_clock.probe("mnist", "pytorch", recorded_step_sec=0.1, fresh_process=False)
    assert len(seen) == calls and entry["cpu_share"] == kept
    assert entry["step_cpu_sec"] == pytest.approx(0.1 / (kept or 1.0))


def test_a_probe_runs_in_a_new_process():
    """A JAX step probed after another probe in the same process cost up to 15% more, so each
    probe gets a process of its own (spawned: nothing of the caller's carried over)."""
    import os

    from workloads import dev_clock

    assert dev_clock._in_fresh_process(os.getpid) != os.getpid()


def test_the_probe_through_the_runner_evaluates_and_reads_the_charged_step_cost(tmp_path):
    """mnist in PyTorch through the real runner, the probe as the dev clock takes it: two
    evaluations or more after the 30 warm-up steps, and the step cost is the submission time
    charged per step between the first and the last of them."""
    import torch

    from workloads.target_setting import measure_speed, subject_for
    from workloads.target_setting.procedure import eval_rows
    from workloads.target_setting.speed_probe import _charged_per_step

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        found = measure_speed(subject_for("mnist", "pytorch"), 0.02, tmp_path / "probe",
                              threads=1, clock="dev", steps=30)
    finally:
        torch.set_num_threads(threads)
    rows = eval_rows(tmp_path / "probe")
    assert len([r for r in rows if r["global_step"] > 30]) >= 2
    assert found["steady_steps"] >= 30 and found["step_time_sec"] > 0
    assert found["step_time_sec"] == pytest.approx(_charged_per_step(rows, 30))


def test_the_canary_reads_its_own_threads_cpu_clock(monkeypatch):
    """While the trial's CPU-time guard (ITIMER_PROF) is armed, Linux serves the process CPU
    clock from the timer's tick-sampled total (4 ms steps for a 20 ms canary here): the canary
    must read the thread's clock, which stays exact."""
    def process_clock():
        raise AssertionError("the canary read the process CPU clock")

    monkeypatch.setattr(clocks.time, "process_time", process_clock)
    assert clocks.canary_sec(repeats=1) > 0


def test_the_trial_records_its_cpu_per_step_against_the_probes():
    # (submission seconds, step) at each eval, at clock scale 0.5: 20 s of submission time
    # over 400 steps after the second eval is 0.1 CPU s a step; the probe paid 0.08
    evals = [(0.1, 1), (5.0, 100), (25.0, 500)]
    clock = DevClock(scale=0.5, source="test")
    norm = Normalisation(0.5, "test", canary_sec=0.02, step_cpu_sec=0.08)
    report = measurement_report(clock, norm, None, None, evals)
    assert report["step_cpu_sec"] == pytest.approx(0.1)
    assert report["reference_step_cpu_sec"] == 0.08
    assert report["step_vs_reference"] == pytest.approx(1.25)
    assert report["trusted"] is True  # informs, does not flag
    too_few = measurement_report(clock, norm, None, None, evals[:2])
    assert too_few["step_cpu_sec"] is None and too_few["step_vs_reference"] is None
    wall = measurement_report(lambda: 0.0, norm, None, None, evals)
    assert wall["step_cpu_sec"] is None  # a clock that does not charge CPU time


def test_the_runner_puts_the_step_cost_in_meta_data(tmp_path):
    machine = BusyMachine(busy=1.0)
    clock = DevClock(scale=2.0, source="test", cpu=machine.cpu, wall=machine.wall)
    result = _trial(clock, machine, tmp_path, budget=20.0)  # an eval every 2 s: ten
    assert result.num_evals >= 3
    measurement = json.loads((tmp_path / "meta_data_0.json").read_text())["paceline.measurement"]
    assert measurement["step_cpu_sec"] == pytest.approx(0.05, rel=0.05)  # Costs(step=0.05)


def test_the_probed_step_drifting_by_more_than_a_quarter_is_a_problem():
    evals = [(0.1, 1), (5.0, 100), (25.0, 500)]  # 0.1 CPU s a step at scale 0.5
    clock = DevClock(scale=0.5, source="test")
    norm = Normalisation(0.5, "test", step_cpu_sec=0.07, probed_with=("nadamw", "fastmri"),
                         probed_work=(("dropout_rate", 0.0),))
    point = {"dropout_rate": 0.0, "learning_rate": 0.003}  # another rate: the same work

    def report(ran, hparams=point, norm=norm):
        return measurement_report(clock, norm, None, None, evals, ran, hparams)

    same = report(("nadamw", "fastmri"))
    assert same["trusted"] is False and "43% more CPU" in same["problems"][0]
    assert "paceline calibrate --check" in same["problems"][0]
    other = report(("lion", "fastmri"))
    assert other["trusted"] is True and other["step_vs_reference"] == pytest.approx(1.4286)
    assert report(("nadamw", "fastmri_tanh"))["trusted"] is True  # a variant's own model
    assert report(("nadamw", "fastmri"), {"dropout_rate": 0.1})["trusted"] is True  # more work
    assert report(("nadamw", "fastmri"), None)["trusted"] is True  # self-tuning: unknown
    close = Normalisation(0.5, "test", step_cpu_sec=0.09, probed_with=("nadamw", "fastmri"))
    assert report(("nadamw", "fastmri"), norm=close)["trusted"] is True


def test_the_probe_says_which_hyperparameters_set_its_steps_work():
    from workloads.target_setting.speed_probe import probed_point, probed_work

    assert probed_work() == (("dropout_rate", probed_point().dropout_rate),)


def test_the_canary_keeps_its_fastest_run():
    """A run slowed by something else running says nothing of the machine itself."""
    readings = iter([0.0, 0.020, 1.0, 1.031, 2.0, 2.021])  # runs of 20, 31 and 21 ms
    assert clocks.canary_sec(repeats=3, clock=lambda: next(readings)) == pytest.approx(0.020)


@pytest.mark.skipif(not hasattr(__import__("signal"), "setitimer"), reason="no setitimer")
def test_an_armed_cpu_watchdog_does_not_freeze_the_dev_clock():
    """Under ITIMER_PROF the process CPU clock moves only at scheduler ticks; a step of 1 ms
    must still be charged (it read 0.0 for half the steps)."""
    import signal

    previous = signal.signal(signal.SIGPROF, lambda *_: None)
    signal.setitimer(signal.ITIMER_PROF, 3600)
    try:
        clock = DevClock(frameworks=())
        charged, last = [], clock()
        for _ in range(30):
            total = 0
            for i in range(30_000):
                total += i % 7
            now = clock()
            charged.append(now - last)
            last = now
        clock.close()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
    assert min(charged) > 0
