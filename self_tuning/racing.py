"""On-the-clock tuning: race candidate configurations inside one run, continue the winner.

A self-tuning submission gets no tuning trials, but it may spend part of its (longer) budget
trying several configurations. :class:`Race` runs *successive halving* on the submission's own
clock: every candidate trains from the same initial state for a slice of submission time and
is scored (e.g. the loss on a few held-aside training batches); the best ``1/eta`` continue,
from where they stopped, with longer slices; this repeats until one candidate is left, and
that one continues for the rest of the budget.

With ``n`` candidates, ``R = ceil(log_eta n)`` rungs and a race budget ``T`` seconds, rung
``r`` keeps ``n_r = ceil(n / eta^r)`` candidates and gives each ``T / (R * n_r)`` seconds, so
every rung costs ``T / R`` and the survivors of the last rung have trained the longest.

Everything a race does (training the losers, scoring, swapping states) happens inside
``update_params`` and is therefore timed; slices are measured in submission time, so the
bookkeeping of switching candidates is charged to the candidate that starts.

The pieces:

* :func:`successive_halving` (pure): the rung plan.
* :class:`Race` (ask/tell, framework-free): which candidate trains now, scores in, winner out.
* :class:`RaceDriver`: runs a race inside ``update_params`` with a state store from
  :mod:`self_tuning.snapshots` (PyTorch modules or JAX pytrees) and a scoring function; it
  can also put the leading candidate in front of the runner's evaluations.

    >>> race = Race(n_candidates=4, total_sec=8.0)
    >>> [(r.arms, r.seconds_each) for r in race.plan]
    [(4, 1.0), (2, 2.0)]
    >>> race.start(elapsed_sec=0.0)
    0
    >>> for arm_score in [3.0, 1.0, 4.0, 2.0]:      # arms 0..3 after 1 s each
    ...     nxt = race.report(arm_score, elapsed_sec=race.slice_end_sec)
    >>> nxt, race.rung_arms                         # arms 1 and 3 go on; 3 is live: first
    (3, [3, 1])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sdk.frameworks.checkpoints import checkpointable

S = TypeVar("S")


@checkpointable
@dataclass(frozen=True)
class Rung:
    """One rung: how many candidates race and how long each trains in it (seconds)."""

    arms: int
    seconds_each: float


def successive_halving(n: int, total_sec: float, eta: float = 2.0) -> list[Rung]:
    """The rungs of successive halving for ``n`` candidates within ``total_sec`` seconds."""
    if n < 1:
        raise ValueError("A race needs at least one candidate.")
    if eta <= 1:
        raise ValueError(f"eta must be greater than 1, got {eta}.")
    if total_sec < 0:
        raise ValueError(f"The race budget must not be negative, got {total_sec}.")
    counts = []
    k = n
    while k > 1:
        counts.append(k)
        k = math.ceil(k / eta)
    if not counts:
        return []
    per_rung = total_sec / len(counts)
    return [Rung(arms=c, seconds_each=per_rung / c) for c in counts]


@checkpointable
@dataclass(frozen=True)
class RaceRecord:
    """One scored slice: rung, candidate, its score and its training seconds so far."""

    rung: int
    arm: int
    score: float
    arm_seconds: float


@checkpointable
class Race:
    """Successive halving over ``n_candidates`` on a submission-time clock (ask/tell).

    Lifecycle: :meth:`start` (returns the first candidate to train) -> at each step ask
    :meth:`due`; when it is, score the live candidate and :meth:`report` the score (returns
    the candidate to train next) -> once :attr:`running` is false, :attr:`winner` is final.

    Args:
        n_candidates: how many configurations race.
        total_sec: submission time the whole race may take.
        eta: the elimination factor (keep ``ceil(k / eta)`` of ``k``).
        minimize: whether lower scores are better (losses are).
    """

    def __init__(self, n_candidates: int, total_sec: float, eta: float = 2.0,
                 minimize: bool = True) -> None:
        self.n_candidates = int(n_candidates)
        self.plan = successive_halving(self.n_candidates, total_sec, eta)
        self.eta = eta
        self.minimize = minimize
        self.rung = 0
        self.rung_arms: list[int] = list(range(self.n_candidates))
        self.active: int | None = None
        self.winner: int | None = 0 if not self.plan else None
        self.active_since = 0.0
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.arm_seconds = [0.0] * self.n_candidates
        self.latest_score: list[float | None] = [None] * self.n_candidates
        self.history: list[RaceRecord] = []
        self._scores: dict[int, float] = {}

    @property
    def running(self) -> bool:
        return self.started_at is not None and self.winner is None

    @property
    def slice_end_sec(self) -> float:
        """When the live candidate's slice ends (submission seconds)."""
        return self.active_since + self.plan[self.rung].seconds_each

    def start(self, elapsed_sec: float) -> int:
        """Begin at ``elapsed_sec``; returns the first candidate to train (the winner if alone)."""
        self.started_at = float(elapsed_sec)
        if self.winner is not None:
            self.finished_at = self.started_at
            self.active = self.winner
            return self.winner
        self.active = self.rung_arms[0]
        self.active_since = self.started_at
        return self.active

    def trained_sec(self, arm: int, elapsed_sec: float) -> float:
        """Submission seconds ``arm`` has trained so far (its own clock, live slice included)."""
        live = elapsed_sec - self.active_since if arm == self.active and self.running else 0.0
        return self.arm_seconds[arm] + max(live, 0.0)

    def due(self, elapsed_sec: float) -> bool:
        """Whether the live candidate's slice is used up and it should be scored."""
        return self.running and elapsed_sec >= self.slice_end_sec

    def report(self, score: float, elapsed_sec: float) -> int:
        """Score the live candidate; returns the candidate that trains from now on."""
        if not self.running or self.active is None:
            raise RuntimeError("Race.report() needs a running race; call start() first.")
        arm = self.active
        self.arm_seconds[arm] += max(elapsed_sec - self.active_since, 0.0)
        score = float(score)
        self.latest_score[arm] = score
        self._scores[arm] = score
        self.history.append(RaceRecord(self.rung, arm, score, self.arm_seconds[arm]))
        position = self.rung_arms.index(arm)
        if position + 1 < len(self.rung_arms):
            self.active = self.rung_arms[position + 1]
        else:
            self.active = self._next_rung(live=arm)
        self.active_since = float(elapsed_sec)
        if self.winner is not None:
            self.finished_at = float(elapsed_sec)
        return self.active

    def leader(self) -> int | None:
        """The candidate with the best latest score (the live one before any score)."""
        scored = [(self._key(s), i) for i, s in enumerate(self.latest_score) if s is not None]
        if not scored:
            return self.active
        return min(scored)[1]

    def _key(self, score: float) -> float:
        if not math.isfinite(score):
            return math.inf
        return score if self.minimize else -score

    def _next_rung(self, live: int) -> int:
        ranked = sorted(self.rung_arms, key=lambda a: (self._key(self._scores[a]), a))
        keep = math.ceil(len(ranked) / self.eta)
        survivors = ranked[:keep]
        self._scores = {}
        self.rung += 1
        if len(survivors) == 1 or self.rung >= len(self.plan):
            self.winner = survivors[0]
            self.rung_arms = [self.winner]
            return self.winner
        # the live candidate goes first when it survived: no state swap needed
        if live in survivors:
            survivors.remove(live)
            survivors.insert(0, live)
        self.rung_arms = survivors
        return survivors[0]


class StateStore(Protocol[S]):
    """Keeps copies of training states by key (see :mod:`self_tuning.snapshots`)."""

    def save(self, key: Hashable, state: S) -> None: ...

    def load(self, key: Hashable, state: S) -> S: ...

    def __contains__(self, key: Hashable) -> bool: ...


@checkpointable
class RaceDriver(Generic[S]):
    """Runs a :class:`Race` inside ``update_params``.

    Each candidate's *own* optimizer state stays with the submission (one optimizer per
    candidate); the driver swaps the shared model state (parameters, batch-norm statistics)
    through ``store`` and asks ``score_fn(arm, state)`` for a score when a slice ends.

    Args:
        race: the race.
        store: where candidates' states wait while another trains.
        score_fn: ``(arm, state) -> score`` (lower is better when ``race.minimize``); it may
            instead be passed to each :meth:`step`. It is not pickled, so a driver kept in a
            checkpointed optimizer state holds no reference to live objects.

    Per step::

        arm, state = driver.step(snapshot.elapsed_sec, state)  # train `arm` on `state`
        ...
        state = driver.state_for_eval(state)                   # in prepare_for_eval
    """

    INITIAL = "initial"

    def __init__(self, race: Race, store: StateStore[S],
                 score_fn: Callable[[int, S], float] | None = None) -> None:
        self.race = race
        self.store = store
        self.score_fn = score_fn
        self.live: int | None = None
        self._showing: int | None = None  # the candidate put in front of an evaluation

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "score_fn": None}

    @property
    def running(self) -> bool:
        return self.race.running or self.live is None

    def step(self, elapsed_sec: float, state: S,
             score_fn: Callable[[int, S], float] | None = None) -> tuple[int, S]:
        """The candidate to train in this step and the state to train it on."""
        if self.live is None:
            self.store.save(self.INITIAL, state)
            self.live = self.race.start(elapsed_sec)
            return self.live, state
        if self._showing is not None:
            state = self._restore_live(state)
        if self.race.due(elapsed_sec):
            score_fn = score_fn or self.score_fn
            if score_fn is None:
                raise ValueError("RaceDriver.step() needs a score_fn to end a slice.")
            state = self._end_slice(score_fn(self.live, state), elapsed_sec, state)
        return self.live, state

    def abort_live(self, elapsed_sec: float, state: S) -> tuple[int, S]:
        """End the live candidate's slice now with the worst score (e.g. its loss diverged)."""
        if not self.race.running or self.live is None:
            return self.live, state
        worst = math.inf if self.race.minimize else -math.inf
        return self.live, self._end_slice(worst, elapsed_sec, state)

    def _end_slice(self, score: float, elapsed_sec: float, state: S) -> S:
        nxt = self.race.report(score, elapsed_sec)
        if nxt != self.live:
            self.store.save(self.live, state)
            key = nxt if nxt in self.store else self.INITIAL
            state = self.store.load(key, state)
            self.live = nxt
        return state

    def state_for_eval(self, state: S) -> S:
        """During the race, show the evaluation the leading candidate instead of the live one."""
        if not self.race.running or self.live is None:
            return state
        leader = self.race.leader()
        if leader is None or leader == self.live or leader not in self.store:
            return state
        self.store.save(self.live, state)
        self._showing = leader
        return self.store.load(leader, state)

    def _restore_live(self, state: S) -> S:
        self._showing = None
        return self.store.load(self.live, state)

    def summary(self) -> dict[str, Any]:
        """The race as plain data (for logs)."""
        return {
            "winner": self.race.winner,
            "rungs": [(r.arms, r.seconds_each) for r in self.race.plan],
            "arm_seconds": list(self.race.arm_seconds),
            "history": [(h.rung, h.arm, h.score, h.arm_seconds) for h in self.race.history],
            "started_at": self.race.started_at,
            "finished_at": self.race.finished_at,
        }
