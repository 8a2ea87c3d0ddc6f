"""What guards a running trial: its crash log and its watchdog (:mod:`sdk.trial_status`).

    PACELINE_WATCHDOG_GRACE_SEC=60 paceline run --workload mnist --submission nadamw
"""

from __future__ import annotations

import contextlib
import math
import sys
from pathlib import Path
from typing import Any

from sdk.trial_record import TrialTimedOut
from sdk.trial_status import CRASH_LOG, dev_clock_limits


class CrashLog:
    """Point Python's faulthandler at ``<trial_dir>/paceline_crash.log`` during a trial.

    A segfault or abort kills the process; the log it leaves tells a resumed run (and a
    study's parent process) that the trial crashed rather than was interrupted. A trial run
    inside a trial (the dev clock's probe) logs to its own file and gives the outer one back.
    """

    active: list[Any] = []  # the open logs, innermost last

    def __init__(self, trial_dir: Path | None) -> None:
        self.path = Path(trial_dir) / CRASH_LOG if trial_dir is not None else None
        self.file: Any = None

    def __enter__(self) -> CrashLog:
        import faulthandler

        if self.path is None:
            return self
        self.was_enabled = faulthandler.is_enabled()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(self.path, "w")  # noqa: SIM115 - kept open for the fatal handler
        except OSError:  # an unwritable folder is the logger's to report
            return self
        faulthandler.enable(self.file)
        CrashLog.active.append(self.file)
        return self

    def __exit__(self, *exc: object) -> None:
        import faulthandler

        if self.file is None:
            return
        CrashLog.active.remove(self.file)
        if CrashLog.active:
            faulthandler.enable(CrashLog.active[-1])
        elif self.was_enabled:
            faulthandler.enable(sys.__stderr__)
        else:
            faulthandler.disable()
        self.file.close()
        with contextlib.suppress(OSError):
            if self.path.stat().st_size == 0:
                self.path.unlink()


class Watchdog:
    """Stop a trial that runs past ``limit`` wall-clock seconds: :class:`TrialTimedOut`.

    An interval timer (``SIGALRM``) raises in the main thread, in Python code or as soon as a
    blocking call (``time.sleep``, I/O) is interrupted; a hang in native code that never
    returns to Python is only stopped by a study's worker-process executor, which kills the
    process. Off where it cannot work: outside the main thread, without ``setitimer``, or when
    the process already has an interval timer armed. :meth:`follow` switches a dev-clock
    trial to its CPU-time limit (``sdk.trial_status.dev_clock_limits``).
    """

    def __init__(self, limit: float, budget: float) -> None:
        self.limit, self.budget = limit, budget
        self.cpu_limit: float | None = None  # set by follow() under the dev clock
        self.armed = False
        self.timers: list[int] = []
        self.previous: dict[int, Any] = {}

    def _fire(self, signum: int, frame: Any) -> None:
        del frame
        import signal

        if self.armed:
            self.armed = False
            if signum == signal.SIGPROF:
                raise TrialTimedOut(
                    f"the watchdog stopped the trial after {self.cpu_limit:.0f} s of its "
                    f"process's CPU time (dev clock; its limit: a multiple of the "
                    f"{self.budget:g} s budget in this machine's CPU seconds plus an "
                    "allowance, see docs/runner.md).")
            why = ("the dev clock's backstop for a trial that makes no progress on the CPU"
                   if self.cpu_limit is not None else
                   f"a multiple of the {self.budget:g} s budget plus an allowance")
            raise TrialTimedOut(f"the watchdog stopped the trial after {self.limit:.0f} s of "
                                f"wall-clock time (its limit: {why}, see docs/runner.md).")

    def _arm(self, timer: int, signum: int, seconds: float) -> None:
        import signal

        if signum not in self.previous:
            self.previous[signum] = signal.signal(signum, self._fire)
        if timer not in self.timers:
            self.timers.append(timer)
        signal.setitimer(timer, max(seconds, 1e-3))

    def __enter__(self) -> Watchdog:
        import signal
        import threading

        if (not hasattr(signal, "setitimer") or not self.limit < 1e8  # ~3 years: none
                or not math.isfinite(self.limit)
                or threading.current_thread() is not threading.main_thread()
                or signal.getitimer(signal.ITIMER_REAL)[0] > 0):
            return self
        self.armed = True
        self._arm(signal.ITIMER_REAL, signal.SIGALRM, self.limit)
        return self

    def follow(self, clock: Any) -> None:
        """Under the dev clock, count the process's CPU time (``ITIMER_PROF``) instead of
        wall time, and keep a wall-clock backstop for hangs that use no CPU."""
        import signal

        scale = getattr(clock, "scale", None)
        if (not self.armed or getattr(clock, "name", None) != "dev" or not scale
                or signal.getitimer(signal.ITIMER_PROF)[0] > 0):
            return
        self.cpu_limit, self.limit = dev_clock_limits(self.budget, scale)
        self._arm(signal.ITIMER_PROF, signal.SIGPROF, self.cpu_limit)
        self._arm(signal.ITIMER_REAL, signal.SIGALRM, self.limit)

    def __exit__(self, *exc: object) -> None:
        import signal

        self.armed = False
        for timer in self.timers:
            signal.setitimer(timer, 0)
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
