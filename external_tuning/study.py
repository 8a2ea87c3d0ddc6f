"""Running the external-tuning protocol: studies of trials, in parallel, resumable.

A tuning experiment is ``num_studies`` studies of ``num_trials`` trials on each workload,
written in AlgoPerf's layout (``<root>/study_<k>/<workload>_<framework>/trial_<n>/``) so
``paceline score`` and AlgoPerf's own tools read it. Each study is driven by a
:class:`~external_tuning.tuner.Tuner` whose search strategy is found by name
(:func:`sdk.registry.search_strategies`) and decides how tuners are grouped, seeded, previewed
and run side by side (:mod:`external_tuning.strategy`):

* quasi-random search (a fixed plan): one tuner per study proposes the benchmark's point set
  in the study's seeded order, and every workload runs those points: exactly what ``paceline
  run --studies N --trials M`` runs with the same seed (same points, same per-trial seeds);
* Bayesian search (and any strategy that learns from results): one tuner per study and
  workload, or with ``shared`` one tuner per study whose every trial runs on all workloads and
  is judged by the shared objective.

The tuners' records are the ledger. They live in ``<root>/paceline_tune.json``, rewritten
atomically whenever a trial is asked for or finishes, so after Ctrl-C or ``kill -9`` the same
command finds every finished trial there and reruns or resumes (from its last checkpoint)
only the interrupted ones. A lock on ``<root>`` keeps two studies from running in one folder.

A trial that raises, diverges, overruns its budget or is stopped early is a miss with its
reason; the study goes on. Only a problem that is not the trial's own (data not prepared, a
submission that cannot be imported) stops the study, with every finished trial kept.

    paceline tune --workload mnist --submission nadamw --studies 2 --trials 5 --workers 2
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from external_tuning.executors import Executor, TrialJob, TrialOutcome, WorkloadFacts
from external_tuning.observations import DEFAULT_CAP, TrialRecord
from external_tuning.strategy import SearchStrategy
from external_tuning.tuner import Tuner
from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.experiment import TrialSpec, trial_dir_for
from sdk.file_lock import file_lock
from sdk.registry import search_strategies
from sdk.runner import RunOptions
from sdk.search_space import SearchSpace
from sdk.trial_logs import atomic_write_json

STATE_FILE = "paceline_tune.json"
LOCK_FILE = ".paceline_tune.lock"
FORMAT = 1


@dataclass(frozen=True)
class TuneConfig:
    """What decides the trials of a tuning experiment (a rerun must repeat it to resume)."""

    submission: str
    submission_name: str
    framework: str
    scale: str
    ruleset_version: str
    api_version: str
    workloads: tuple[str, ...]
    space: Any
    search: str
    num_studies: int
    num_trials: int
    seed: int
    shared: bool = False
    initial_trials: int | None = None
    early_stopping: bool = False
    max_global_steps: int | None = None
    workload_kwargs: dict[str, Any] = field(default_factory=dict)
    cap: float = DEFAULT_CAP
    # experiments saved before the dev clock existed were timed with the wall clock
    clock: str = "wall"
    clock_scale: float | None = None
    # --warm-start folders and the points chosen from them (kept, so a resume repeats them)
    warm_start: tuple[str, ...] = ()
    transfer: bool = True  # --transfer: the model learns from the warm start's results
    prior: tuple[dict[str, Any], ...] = ()
    related: tuple[dict[str, Any], ...] = ()  # their results, for the model (warm_start.py)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["workloads"] = list(self.workloads)
        data["warm_start"] = list(self.warm_start)
        data["prior"] = [dict(p) for p in self.prior]
        data["related"] = [dict(r) for r in self.related]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TuneConfig:
        return cls(**{**data, "workloads": tuple(data["workloads"]),
                      "warm_start": tuple(data.get("warm_start", ())),
                      "prior": tuple(data.get("prior", ())),
                      "related": tuple(data.get("related", ()))})

    @property
    def search_space(self) -> SearchSpace:
        return SearchSpace.from_json(self.space)

    @property
    def strategy(self) -> type[SearchStrategy]:
        """The class of the registered search strategy named ``search``."""
        return search_strategies().strategy_class(self.search)

    def grouped_workloads(self) -> list[tuple[str, ...]]:
        """Which workloads share a tuner within one study (the strategy decides)."""
        return self.strategy.groups(self.workloads, self.shared)


# Flags whose change a resumed experiment cannot absorb, and how to name them to the user.
_RESUME_FLAGS = {
    "submission_name": "--submission", "framework": "--framework", "scale": "--scale",
    "ruleset_version": "--ruleset-version", "api_version": "--api-version",
    "workloads": "--workload", "space": "--tuning-search-space", "search": "--search",
    "seed": "--seed", "shared": "--shared", "initial_trials": "--initial-trials",
    "early_stopping": "--early-stopping", "max_global_steps": "--max-global-steps",
    "workload_kwargs": "--speed-factor", "cap": "the miss cap", "clock": "--clock",
    "clock_scale": "--speed-factor", "warm_start": "--warm-start", "transfer": "--transfer",
}


def check_resumable(old: TuneConfig, new: TuneConfig, root: Path) -> None:
    """Raise a one-sentence error when ``new`` cannot continue ``old``'s experiment."""
    a, b = old.to_json(), new.to_json()
    for key, flag in _RESUME_FLAGS.items():
        if a[key] != b[key]:
            shown = a[key] if key != "space" else "another search space"
            raise PacelineError(
                f"{root} holds a tuning experiment run with {flag} {shown!r}, not "
                f"{b[key] if key != 'space' else 'this one'!r}; rerun with the same flags to "
                "resume it, pass --experiment-name NAME for a separate experiment, or "
                "--overwrite to start this one again."
            )
    fixed = new.strategy.fixed_plan
    if old.num_trials != new.num_trials and (fixed or new.num_trials < old.num_trials):
        why = ("draws a fixed set for its number of trials" if fixed
               else "can be given more trials, not fewer")
        raise PacelineError(
            f"{root} holds a tuning experiment with --trials {old.num_trials}; rerun with the "
            f"same number to resume it (a {new.search} search {why})."
        )


@dataclass
class Group:
    """One tuner of the experiment: a study, and the workloads that share its trials."""

    study: int
    workloads: tuple[str, ...]
    tuner: Tuner

    @property
    def label(self) -> str:
        names = "+".join(self.workloads)
        return f"study {self.study} ({names})"

    def to_json(self) -> dict[str, Any]:
        return {"study": self.study, "workloads": list(self.workloads),
                "tuner": self.tuner.to_json()}


def tuner_seed(config: TuneConfig, study: int, workloads: tuple[str, ...]) -> int:
    """The strategy's seed for one tuner (quasi-random: ``paceline run``'s order seed)."""
    strategy = search_strategies().strategy_class(config.search)
    return strategy.study_seed(config.seed, study, workloads)


def new_group(config: TuneConfig, study: int, workloads: tuple[str, ...]) -> Group:
    tuner = Tuner().configure(
        config.search_space, search=config.search, num_trials=config.num_trials,
        seed=tuner_seed(config, study, workloads), workloads=workloads,
        initial_trials=config.initial_trials, cap=config.cap, prior=config.prior,
        # a shared tuner's objective is a mean over workloads: no one workload's data fits it
        related=config.related if len(workloads) == 1 else (),
    )
    return Group(study, workloads, tuner)


def read_state(root: Path) -> tuple[TuneConfig, list[dict[str, Any]]] | None:
    """The saved configuration and groups of the experiment at ``root`` (``None`` if new)."""
    from sdk.input_files import read_json_object

    path = Path(root) / STATE_FILE
    if not path.is_file():
        return None
    data = read_json_object(path, "tuning state")
    try:
        if data.get("format") != FORMAT:
            raise PacelineError(f"{path} has format {data.get('format')!r}; this paceline "
                                f"reads format {FORMAT}.")
        groups = data["groups"]
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise TypeError("'groups' is not a list of objects")
        return TuneConfig.from_json(data["config"]), groups
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PacelineError(f"{path} is not a paceline tuning state ({exc}); move it away "
                            "to start the experiment again.") from None


@contextmanager
def experiment_lock(root: Path) -> Iterator[None]:
    """Refuse to run two tuning studies in the same folder at once."""
    with ExitStack() as stack:
        try:
            stack.enter_context(file_lock(root / LOCK_FILE, wait=False))
        except BlockingIOError:
            raise PacelineError(f"Another `paceline tune` is running in {root}; wait for it "
                                "or use another --experiment-name.") from None
        yield


@dataclass
class TrialEvent:
    """One finished trial, as reported to ``on_trial``."""

    group: Group
    record: TrialRecord
    workload: str
    trial_dir: Path | None = None


class Study:
    """The whole tuning experiment at ``root``; :meth:`run` runs what is left of it."""

    def __init__(
        self,
        config: TuneConfig,
        root: Path,
        options: RunOptions,
        facts: dict[str, WorkloadFacts],
        threads: int | None = None,
    ) -> None:
        self.config = config
        self.root = Path(root)
        self.options = options
        self.facts = facts
        self.threads = threads
        self.groups = self._load_groups()

    # ---- plan ----------------------------------------------------------------------------
    def _load_groups(self) -> list[Group]:
        saved = read_state(self.root)
        groups: dict[tuple[int, tuple[str, ...]], Group] = {}
        if saved is not None:
            old, raw_groups = saved
            check_resumable(old, self.config, self.root)
            for raw in raw_groups:
                try:
                    key = (int(raw["study"]), tuple(raw["workloads"]))
                except (KeyError, TypeError, ValueError) as exc:
                    raise PacelineError(f"{self.root / STATE_FILE} is not a paceline tuning "
                                        f"state (a group lacks a study or workloads: {exc}); "
                                        "move it away to start the experiment again.") from None
                tuner = Tuner.from_json(raw["tuner"], source=str(self.root / STATE_FILE))
                tuner.extend(self.config.num_trials)  # a Bayesian search given more trials
                groups[key] = Group(key[0], key[1], tuner)
        for study in range(self.config.num_studies):
            for workloads in self.config.grouped_workloads():
                groups.setdefault((study, workloads), new_group(self.config, study, workloads))
        return sorted(groups.values(), key=lambda g: (g.study, g.workloads))

    def trial_spec(self, group: Group, record: TrialRecord, workload: str) -> TrialSpec:
        c = self.config
        trial = record.index + 1
        return TrialSpec(
            workload=workload, framework=c.framework, scale=c.scale, study=group.study,
            trial=trial, hyperparameters=dict(record.hyperparameters),
            rng_seed=prng.derive_seed(c.seed, workload, group.study, trial),
            trial_dir=trial_dir_for(self.root, group.study, workload, c.framework, trial),
        )

    def dry_run(self) -> dict[str, Any]:
        """Every trial's point per study, without training (planned or already recorded)."""
        studies = []
        for group in self.groups:
            planned = list(group.tuner.records)
            known = [(r.hyperparameters, r.source) for r in planned] + group.tuner.preview()
            for workload in group.workloads:
                trials = [self._planned_trial(group, planned, i, point, source, workload)
                          for i, (point, source) in enumerate(known)]
                studies.append({"study": group.study, "workload": workload, "trials": trials})
        return {"root": str(self.root), "config": self.config.to_json(), "studies": studies}

    def _planned_trial(self, group: Group, planned: list[TrialRecord], i: int,
                       point: dict[str, Any] | None, source: str,
                       workload: str) -> dict[str, Any]:
        """One trial of :meth:`dry_run`: recorded (``planned[i]``) or still to be asked."""
        rec = planned[i] if i < len(planned) else TrialRecord(i, point or {})
        spec = self.trial_spec(group, rec, workload)
        obs = rec.observations.get(workload)
        return {
            "trial": i + 1, "hyperparameters": point, "source": source,
            "rng_seed": spec.rng_seed, "trial_dir": str(spec.trial_dir),
            "status": obs.status if obs else ("pending" if i < len(planned) else "planned"),
        }

    # ---- run -----------------------------------------------------------------------------
    def save(self) -> None:
        atomic_write_json(self.root / STATE_FILE, {
            "format": FORMAT,
            "about": "paceline tune's ledger: rerun the same command to resume",
            "config": self.config.to_json(),
            "groups": [g.to_json() for g in self.groups],
        })

    @property
    def total_jobs(self) -> int:
        return sum(g.tuner.config.num_trials * len(g.workloads) for g in self.groups)

    @property
    def done_jobs(self) -> int:
        return sum(len(r.observations) for g in self.groups for r in g.tuner.records)

    def pending_workloads(self) -> list[str]:
        """The workload of every trial still to run (asked for or not), in plan order."""
        out = []
        for group in self.groups:
            records = group.tuner.records
            for index in range(group.tuner.config.num_trials):
                seen = records[index].observations if index < len(records) else {}
                out.extend(w for w in group.workloads if w not in seen)
        return out

    def run(self, executor: Executor, on_trial: Callable[[TrialEvent], None] | None = None,
            on_start: Callable[[int, int], None] | None = None,
            on_submit: Callable[[TrialJob], None] | None = None) -> None:
        """Run every trial not finished yet; returns when the experiment is complete.

        ``on_start(done, total)`` is called once, ``on_submit(job)`` as each trial starts and
        ``on_trial(event)`` as each finishes.
        """
        with experiment_lock(self.root):
            self.groups = self._load_groups()  # re-read under the lock
            self.save()
            queue: collections.deque[tuple[Group, int, str]] = collections.deque(
                (g, r.index, w) for g in self.groups for r in g.tuner.records
                for w in g.workloads if w not in r.observations
            )
            in_flight: dict[tuple[str, int, int], tuple[Group, int, str]] = {}
            turn = 0
            if on_start is not None:
                on_start(self.done_jobs, self.total_jobs)
            try:
                while True:
                    while len(in_flight) < executor.slots:
                        if not queue:
                            turn = self._ask_next(queue, in_flight, executor.slots, turn)
                        if not queue:
                            break
                        group, index, workload = queue.popleft()
                        job = self._job(group, group.tuner.records[index], workload)
                        executor.submit(job)
                        in_flight[job.key] = (group, index, workload)
                        if on_submit is not None:
                            on_submit(job)
                    if not in_flight:
                        break
                    for outcome in executor.poll(timeout=1.0):
                        self._record(outcome, in_flight, on_trial)
            finally:
                executor.close()

    def _ask_next(self, queue: collections.deque, in_flight: dict, slots: int,
                  turn: int) -> int:
        """Ask one new trial from the next group (round robin) allowed to have more in flight."""
        open_groups = [g for g in self.groups if g.tuner.remaining > 0]
        if not open_groups:
            return turn
        limit = self.config.strategy.in_flight_limit(slots, len(open_groups))
        for k in range(len(self.groups)):
            group = self.groups[(turn + k) % len(self.groups)]
            if group.tuner.remaining <= 0:
                continue
            running = {i for (g, i, _) in in_flight.values() if g is group}
            if len(running) >= limit:
                continue
            suggestion = group.tuner.ask(1)[0]
            self.save()  # the asked point survives a kill
            queue.extend((group, suggestion.index, w) for w in group.workloads)
            return (turn + k + 1) % len(self.groups)
        return turn

    def _job(self, group: Group, record: TrialRecord, workload: str) -> TrialJob:
        spec = self.trial_spec(group, record, workload)
        _check_trial_dir(spec)
        c = self.config
        return TrialJob(
            spec=spec, submission=c.submission, framework=c.framework, ruleset="external",
            ruleset_version=c.ruleset_version, api_version=c.api_version,
            options=self.options, facts=self.facts[workload],
            workload_kwargs=dict(c.workload_kwargs), threads=self.threads,
        )

    def _record(self, outcome: TrialOutcome, in_flight: dict,
                on_trial: Callable[[TrialEvent], None] | None) -> None:
        if outcome.fatal is not None:
            raise PacelineError(outcome.fatal)
        group, index, workload = in_flight.pop(outcome.key)
        record = group.tuner.tell(index, outcome.observation)
        self.save()
        if on_trial is not None:
            spec = self.trial_spec(group, record, workload)
            on_trial(TrialEvent(group, record, workload, spec.trial_dir))


def _check_trial_dir(spec: TrialSpec) -> None:
    """A trial folder left by another experiment (other point or seed) is never reused."""
    hparams = spec.trial_dir / "hparams.json"
    if not hparams.is_file():
        return
    from sdk.input_files import read_json

    try:
        recorded = read_json(hparams, "hyperparameters file")
    except PacelineError:
        return  # a torn or foreign file: the trial is rerun and rewrites it
    meta = spec.trial_dir / "meta_data_0.json"
    seed = None
    if meta.is_file():
        try:
            seed = read_json(meta, "trial metadata file").get("rng_seed")
        except (PacelineError, AttributeError):
            seed = None
    expected = json.loads(json.dumps(spec.hyperparameters))
    if recorded != expected or (seed is not None and seed != spec.rng_seed):
        what = "hyperparameters" if recorded != expected else "seed"
        raise PacelineError(
            f"{spec.trial_dir} holds a trial with other {what} than this experiment plans "
            "(left by another run); pass --overwrite to start the experiment again or "
            "--experiment-name NAME for a separate one."
        )
