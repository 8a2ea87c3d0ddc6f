"""How long a plan of trials may take, said in one line before the work starts.

    paceline run --workload mnist --submission nadamw --studies 2 --trials 3 --jobs 2
    paceline tune --workload mnist --submission nadamw       # both print the forecast first

A trial stops at its budget at the latest. Budgets are in the clock's seconds: under the dev
clock, seconds on the calibration machine, which this machine spends ``1 / scale`` seconds
on (``scale``, the dev clock's normalisation, :mod:`sdk.clock`; ``--speed-factor X`` sets it
to ``1 / X``). The estimate hands the trials, in order, to the first free of ``jobs``
workers. Where trials of a workload have run their whole budget on this machine before, each
budget second counts the wall seconds they took per budget second (evaluations, compilation,
checkpoints: :mod:`sdk.wall_history`); elsewhere only the budget, and the line says so. It
is an estimate of the longest case: trials that reach their target stop sooner.

On several workers a plan runs its longest trials first, then swaps any two trials the
estimate says end it sooner (:meth:`Forecast.longest_first`): a long trial handed out last
would keep one worker busy while the others sit idle.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sdk import wall_history

# Plans of up to this many trials also try every swap of two trials after longest-first (the
# search costs about n**3 simple steps per pass: well under a second at 16).
SWAP_SEARCH_TRIALS = 16


@dataclass(frozen=True)
class Forecast:
    """The trials' budgets (clock seconds, in the order they start) and how they run.

    ``scales``: per trial, clock seconds per second on this machine (``None``: not known,
    1 assumed); empty for 1 everywhere. ``walls``: per trial, wall seconds per budget second
    measured here (:mod:`sdk.wall_history`; ``None``: none yet, 1 assumed); empty for none.
    """

    budgets: tuple[float, ...]
    jobs: int
    clock: str = "dev"
    scales: tuple[float | None, ...] = ()
    walls: tuple[float | None, ...] = ()

    def seconds_here(self, i: int) -> float:
        """Trial ``i``'s whole budget in wall seconds on this machine."""
        scale = self.scales[i] if self.scales else None
        wall = (self.walls[i] if self.walls else None) or 1.0
        return wall * self.budgets[i] / (scale if scale and scale > 0 else 1.0)

    @property
    def wall_sec(self) -> float:
        """Seconds until the last trial ends if every trial runs its whole budget."""
        return self.wall_for(range(len(self.budgets)))

    def wall_for(self, order: Iterable[int]) -> float:
        """:attr:`wall_sec` with the trials started in ``order``, each on the first free
        worker (as the worker pool hands them out)."""
        free = [0.0] * max(1, self.jobs)
        for i in order:
            first = min(range(len(free)), key=free.__getitem__)
            free[first] += self.seconds_here(i)
        return max(free)

    def longest_first(self) -> tuple[int, ...]:
        """The order to start the trials in on several workers (indices into this forecast).

        The longest whole budget on this machine first (equal ones keep their order), then,
        for a plan of up to :data:`SWAP_SEARCH_TRIALS` trials, any swap of two trials that
        :meth:`wall_for` says ends the plan sooner (longest-first alone can be beaten: 8 trials
        on 2 workers may end later than in the order given).
        """
        order = sorted(range(len(self.budgets)), key=lambda i: -self.seconds_here(i))
        if self.jobs < 2 or len(order) > SWAP_SEARCH_TRIALS:
            return tuple(order)
        best, improved = self.wall_for(order), True
        while improved:
            improved = False
            for a, b in itertools.combinations(range(len(order)), 2):
                swapped = list(order)
                swapped[a], swapped[b] = swapped[b], swapped[a]
                if (wall := self.wall_for(swapped)) < best - 1e-9:
                    order, best, improved = swapped, wall, True
        return tuple(order)

    def reordered(self, order: Sequence[int]) -> Forecast:
        """This forecast with its trials started in ``order`` (indices into this one)."""
        scales = tuple(self.scales[i] for i in order) if self.scales else ()
        walls = tuple(self.walls[i] for i in order) if self.walls else ()
        return Forecast(tuple(self.budgets[i] for i in order), self.jobs, self.clock, scales,
                        walls)

    def line(self, command: str) -> str:
        """``paceline run: forecast: 6 trials, budget 120 s each (dev clock), ...``."""
        n = len(self.budgets)
        low, high = min(self.budgets), max(self.budgets)
        each = _seconds(low) if math.isclose(low, high) else f"{_seconds(low)} to {_seconds(high)}"
        unit = "calibration-machine s" if self.clock == "dev" else "s"
        jobs = min(self.jobs, n)
        return (f"{command}: forecast: {n} trial{'s' if n != 1 else ''}, budget {each} {unit} "
                f"each ({self.clock} clock), {jobs} at a time: about {duration(self.wall_sec)} "
                f"of wall time at most ({self._basis()}; {self._overheads()})")

    def _basis(self) -> str:
        if self.clock != "dev":
            return "an estimate: every trial running its whole budget"
        known = sorted({s for s in self.scales if s is not None})
        if not known or len(known) < len(set(self.scales)):
            return ("an estimate: every trial running its whole budget; this machine's dev "
                    "clock is not calibrated for every workload yet, taken as the calibration "
                    "machine's speed there")
        shown = f"{known[0]:.3g}" if len(known) == 1 else f"{known[0]:.3g} to {known[-1]:.3g}"
        return (f"an estimate: every trial running its whole budget at this machine's "
                f"dev-clock normalisation {shown}")

    def _overheads(self) -> str:
        measured = [w for w in self.walls if w is not None]
        if not measured:
            return ("evaluations and start-up left out: no trial of these workloads has run "
                    "its whole budget here yet")
        low, high = min(measured), max(measured)
        shown = f"{low:.2f}" if math.isclose(low, high) else f"{low:.2f} to {high:.2f}"
        part = "" if len(measured) == len(self.budgets) else " (some workloads: not yet)"
        return (f"with evaluations and start-up as earlier trials here took them, {shown} wall "
                f"s per budget s{part}")


def _seconds(value: float) -> str:
    return f"{value:,.0f}" if value >= 10 else f"{value:.3g}"


def duration(seconds: float) -> str:
    """``45 s``, ``4 min 24 s``, ``2 h 05 min``."""
    if not math.isfinite(seconds):
        return "unknown"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    if total < 3600:
        return f"{total // 60} min {total % 60} s"
    return f"{total // 3600} h {total % 3600 // 60:02d} min"


def budget_sec(workload: str, scale: str, framework: str, table: Any, ruleset: str,
               workload_kwargs: dict[str, Any] | None = None) -> float:
    """A trial's budget on ``workload``, in its clock's seconds (the runner's figure)."""
    from sdk.registry import workloads

    w = workloads().create(workload, scale, framework, ruleset_version=table.version,
                           **(workload_kwargs or {}))
    return float(w.max_allowed_runtime_sec) * table.budget_multiplier(ruleset)


def machine_scale(options: Any, workload: str, framework: str) -> float | None:
    """Clock seconds per second on this machine for ``workload`` (``None``: not known)."""
    if options.clock != "dev":
        return 1.0
    if options.clock_scale is not None:
        return float(options.clock_scale)
    from sdk.clock import normalisation_for

    try:
        norm = normalisation_for(workload, framework, options.data_dir)
    except Exception:  # noqa: BLE001 - a forecast never stops the work; the trial will say why
        return None
    return None if norm.source.startswith("none") else norm.scale


def machine_factors(options: Any, workload: str, framework: str
                    ) -> tuple[float | None, float | None]:
    """(:func:`machine_scale`, wall seconds per budget second recorded here) for a workload."""
    return (machine_scale(options, workload, framework),
            wall_history.ratio(workload, framework, options.clock))


def plan_forecast(specs: Sequence[Any], table: Any, options: Any, jobs: int,
                  workload_kwargs: dict[str, Any] | None = None) -> Forecast:
    """The forecast of running ``specs`` (:class:`sdk.experiment.TrialSpec`) on ``jobs``."""
    # per workload and framework: a100-2026 gives each framework its own dev budget, and the
    # dev clock's scale and the wall history are measured per framework
    facts: dict[tuple[str, str], tuple[float, float | None, float | None]] = {}
    for s in specs:
        if (s.workload, s.framework) not in facts:
            facts[(s.workload, s.framework)] = (
                budget_sec(s.workload, s.scale, s.framework, table, options.ruleset,
                           workload_kwargs),
                *machine_factors(options, s.workload, s.framework))
    rows = [facts[(s.workload, s.framework)] for s in specs]
    return Forecast(tuple(r[0] for r in rows), jobs, options.clock,
                    tuple(r[1] for r in rows), tuple(r[2] for r in rows))
