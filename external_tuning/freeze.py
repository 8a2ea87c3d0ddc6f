"""Freezing a search space: the points (or box) with the best expected external-tuning score.

Under the external-tuning ruleset the benchmark runs every point of a frozen list in each
study (a dict-form space: the quasi-random draw of 5 points from it), keeps per study the trial
that reached the target at the earliest eval, and takes the median over studies (a miss is
infinite). ``paceline freeze`` simulates exactly that with what the studies on disk observed:

1. Every configuration tried (:mod:`external_tuning.evidence`) is a candidate. For a candidate
   and a workload it ran on at least 3 times, a simulated trial is one of its observed
   trials, drawn at random. Where it ran fewer times, or never, the draw comes from the
   workload's model (a GP of ``log(t / budget)``): its predictive distribution for a new run
   at that point, which weighs the point's own runs against its neighbours' by the seed
   noise the model estimates (one lucky hit of a configuration whose neighbours miss is not
   a sure hit). That noise is held to no less than repeated runs of one configuration show
   (:func:`seed_noise_floors`: the studies' own repeats and the shipped reference timings),
   since one study repeats nothing and its GP alone takes seed noise for signal. With no
   model, the observed trials are drawn however few; never run and no model: a miss.
2. One simulated benchmark run = ``studies`` studies per workload, each running every chosen
   point once; per study the earliest-eval rule, per workload the median over studies.
3. Its score is the benchmark score against the reference: by default, per workload the best
   median time any studied configuration reached (so 1.0 means "as fast as tuning each
   workload separately"), or other submissions' times (``--reference DIR``); the frozen set
   takes part in the minimum, as a submission does. Profile: exact integral up to ``r_max``,
   over the studied workloads.
4. The expected score averages ``samples`` simulated runs, with the same random draws for a
   candidate in every set (common random numbers), so sets are compared on equal luck.

The points are chosen greedily (the candidate that raises the expected score most, until
``points`` are chosen or none adds ``MIN_GAIN``), then improved by single swaps. With ``box``
the candidates are boxes around the first chosen points (tight, or widened by a share of each
range), each scored by simulating AlgoPerf's 5-point quasi-random draw from it with the model.

    paceline freeze experiments/dev/external_tuning/nadamw --points 5 --out space.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from external_tuning.evidence import Evidence, WorkloadModel, free_parameters, load_evidence
from external_tuning.report import point_key, short, varying
from sdk.errors import PacelineError
from sdk.references import SeedNoise, seed_noise
from sdk.rulesets import version_label
from sdk.search_space import Choice, Range, SearchSpace, generate_search

MIN_GAIN = 1e-3  # a point that adds less expected score than this is not worth a trial
POOL_SIZE = 60  # candidates kept for the set search, best singletons first
FEW_RUNS = 3  # below this many runs a configuration's draws come from the model
BOX_MARGINS = (0.0, 0.1, 0.25)  # share of each unit range added on both sides of a box


@dataclass
class Candidate:
    """One configuration with its simulated trials: ``index``/``time`` are (samples, studies)."""

    key: str
    point: dict[str, Any]
    index: dict[str, np.ndarray]
    time: dict[str, np.ndarray]
    source: dict[str, str]


@dataclass
class SetScore:
    """A set's expected score, and what each workload and point contributed."""

    score: float
    per_workload_time: dict[str, float]  # median over samples of the simulated workload time
    reached: dict[str, float]  # share of simulated runs in which the workload reached the target
    chosen_share: list[dict[str, float]]  # per point, per workload: share of studies it decided


@dataclass
class Freezer:
    """The simulation of the benchmark over the evidence (module docstring)."""

    evidence: Evidence
    r_max: float
    studies: int
    samples: int = 400
    seed: int = 0
    reference: dict[str, float] | None = None
    noise: dict[str, SeedNoise] = field(default_factory=dict)  # per workload: the GP's floor
    models: dict[str, WorkloadModel | None] = field(default_factory=dict)
    _cache: dict[str, Candidate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ev = self.evidence
        if self.reference is None:
            self.reference = self.best_observed()
        else:  # other submissions' times; a workload they lack is won by reaching its target
            self.reference = {w: self.reference.get(w, math.inf) for w in ev.workloads}

    def best_observed(self) -> dict[str, float]:
        """Per workload, the best median time any configuration reached over its runs."""
        out = {}
        for w in self.evidence.workloads:
            medians = [float(np.median([r.time for r in self.evidence.samples(k, w)]))
                       for k in self.evidence.points if self.evidence.samples(k, w)]
            out[w] = min(medians) if medians else math.inf
        return out

    def model(self, workload: str) -> WorkloadModel | None:
        """The workload's model, fitted on first use (``None`` when too little was run)."""
        if workload not in self.models:
            floor = self.noise.get(workload)
            self.models[workload] = WorkloadModel.fit(self.evidence.space, self.evidence,
                                                      workload, floor.std if floor else None)
        return self.models[workload]

    # ---- simulated trials ----------------------------------------------------------------
    def candidate(self, point: dict[str, Any]) -> Candidate:
        key = point_key(point)
        if key not in self._cache:
            self._cache[key] = self._simulate(key, point)
        return self._cache[key]

    def _rng(self, key: str, workload: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, zlib.crc32(key.encode()),
                                      zlib.crc32(workload.encode())])

    def _simulate(self, key: str, point: dict[str, Any]) -> Candidate:
        shape = (self.samples, self.studies)
        index, time, source = {}, {}, {}
        for w in self.evidence.workloads:
            rng = self._rng(key, w)
            runs = self.evidence.samples(key, w)
            model = self.model(w) if len(runs) < FEW_RUNS else None
            budget = self.evidence.budgets[w]
            if runs and model is None:
                pick = rng.integers(len(runs), size=shape)
                t = np.array([r.time for r in runs])[pick]
                i = np.array([math.inf if r.eval_index is None else r.eval_index
                              for r in runs], dtype=float)[pick]
                source[w] = f"observed x{len(runs)}"
            elif model is not None:
                # a new run's predictive distribution: the model weighs the point's own few
                # runs against its neighbours' by the seed noise it estimated, so one lucky
                # hit of a configuration that mostly misses is not taken for a sure one
                mean, std = model.predict([point])
                y = mean[0] + std[0] * rng.standard_normal(shape)
                t = budget * np.exp(y)
                t[t > budget] = math.inf
                i = t / max(self.evidence.eval_spacing.get(w, 1.0), 1e-9)
                source[w] = f"observed x{len(runs)}, drawn from the model" if runs else "predicted"
            else:
                t = np.full(shape, math.inf)
                i = np.full(shape, math.inf)
                source[w] = "never run, no model: a miss"
            index[w], time[w] = i, t
        return Candidate(key, dict(point), index, time, source)

    # ---- scoring a set -------------------------------------------------------------------
    def _study_times(self, cands: Sequence[Candidate], w: str) -> tuple[np.ndarray, np.ndarray]:
        """Per (sample, study): the earliest-eval trial's time, and which point gave it."""
        idx = np.stack([c.index[w] for c in cands])
        t = np.stack([c.time[w] for c in cands])
        first = idx.min(axis=0)
        masked = np.where(idx == first, t, math.inf)
        which = masked.argmin(axis=0)
        chosen = masked.min(axis=0)
        chosen[~np.isfinite(first)] = math.inf
        return chosen, which

    def score(self, cands: Sequence[Candidate]) -> SetScore:
        if not cands:
            return SetScore(0.0, {}, {}, [])
        ws = self.evidence.workloads
        credit = np.zeros(self.samples)
        per_time, reached = {}, {}
        shares = [dict.fromkeys(ws, 0.0) for _ in cands]
        for w in ws:
            chosen, which = self._study_times(cands, w)
            t = np.median(chosen, axis=1)
            ref = self.reference.get(w, math.inf)
            denominator = np.minimum(t, ref)
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(np.isfinite(t), t / denominator, math.inf)
            ok = np.isfinite(ratio) & (ratio <= self.r_max)
            credit += np.where(ok, (self.r_max - np.maximum(ratio, 1.0)) / (self.r_max - 1), 0)
            per_time[w] = float(np.median(t))
            reached[w] = float(np.isfinite(t).mean())
            decided = np.isfinite(chosen)
            for j in range(len(cands)):
                shares[j][w] = float(((which == j) & decided).mean())
        return SetScore(float(credit.mean() / len(ws)), per_time, reached, shares)

    def observed_score(self, cands: Sequence[Candidate]) -> float | None:
        """The score these points got in the studies as they ran (no resampling).

        Per workload and study, the studied trials of these points (the earliest-eval rule),
        then the median over the studies where any of them ran; ``None`` if a workload has
        none. This is what ``paceline score`` computes for the same trials against the same
        reference (exact integral), and the yardstick for the simulation's expectation.
        """
        ev = self.evidence
        total = 0.0
        for w in ev.workloads:
            by_study: dict[str, list[tuple[float, float]]] = {}
            for c in cands:
                for r in ev.samples(c.key, w):
                    index = math.inf if r.eval_index is None else r.eval_index
                    by_study.setdefault(r.study, []).append((index, r.time))
            if not by_study:
                return None
            t = float(np.median([min(trials)[1] if math.isfinite(min(trials)[0]) else math.inf
                                 for trials in by_study.values()]))
            ref = self.reference.get(w, math.inf)
            ratio = t / min(t, ref) if math.isfinite(t) else math.inf
            if math.isfinite(ratio) and ratio <= self.r_max:
                total += (self.r_max - max(ratio, 1.0)) / (self.r_max - 1)
        return total / len(ev.workloads)

    # ---- choosing ------------------------------------------------------------------------
    def choose_points(self, k: int) -> tuple[list[Candidate], list[dict[str, Any]]]:
        """Greedy forward selection then single swaps; returns the set and the greedy steps."""
        pool = [self.candidate(p) for p in self.evidence.points.values()]
        singles = sorted(pool, key=lambda c: -self.score([c]).score)
        pool = singles[:POOL_SIZE]
        chosen: list[Candidate] = []
        steps: list[dict[str, Any]] = []
        current = self.score([])
        while len(chosen) < k:
            trials = [(self.score([*chosen, c]), c) for c in pool if c not in chosen]
            if not trials:
                break
            best, cand = max(trials, key=lambda x: x[0].score)
            gain = best.score - current.score
            if chosen and gain < MIN_GAIN:
                break
            helps = [w for w in self.evidence.workloads
                     if best.per_workload_time[w] < current.per_workload_time.get(w, math.inf)
                     or best.reached[w] > current.reached.get(w, 0.0)]
            chosen.append(cand)
            steps.append({"point": cand.point, "expected_score": best.score, "gain": gain,
                          "helps": helps})
            current = best
        for _ in range(3):
            improved = False
            for i in range(len(chosen)):
                for c in pool:
                    if c in chosen:
                        continue
                    trial = [*chosen[:i], c, *chosen[i + 1:]]
                    s = self.score(trial)
                    if s.score > current.score + 1e-9:
                        chosen, current, improved = trial, s, True
            if not improved:
                break
        if steps and current.score > steps[-1]["expected_score"] + 1e-9:
            steps.append({"point": None, "expected_score": current.score,
                          "gain": current.score - steps[-1]["expected_score"],
                          "helps": ["(swapping points after the greedy pass)"]})
        while len(chosen) > 1:  # a point the others make redundant costs trials for nothing
            drops = [(self.score([c for c in chosen if c is not d]), d) for d in chosen]
            kept, dropped = max(drops, key=lambda x: x[0].score)
            if current.score - kept.score >= MIN_GAIN:
                break
            chosen = [c for c in chosen if c is not dropped]
            steps.append({"point": dropped.point, "expected_score": kept.score,
                          "gain": kept.score - current.score, "dropped": True,
                          "helps": ["(dropped: the other points decide every study it did)"]})
            current = kept
        return chosen, steps

    def box_points(self, box: SearchSpace, k: int) -> list[Candidate]:
        """AlgoPerf's quasi-random draw of ``k`` points from ``box``, simulated."""
        return [self.candidate(dict(p._asdict())) for p in generate_search(box, k, seed=None)]

    def choose_box(self, chosen: Sequence[Candidate], k: int) -> tuple[SearchSpace, SetScore,
                                                                        list[dict[str, Any]]]:
        """The best box around the first 1..len(chosen) chosen points, with each margin."""
        tried = []
        for n in range(1, len(chosen) + 1):
            for margin in BOX_MARGINS:
                box = box_around(self.evidence.space, [c.point for c in chosen[:n]], margin)
                s = self.score(self.box_points(box, k))
                tried.append({"around_points": n, "margin": margin, "expected_score": s.score,
                              "space": box.to_json(), "_box": box, "_score": s})
        best = max(tried, key=lambda d: d["expected_score"])
        table = [{k2: v for k2, v in d.items() if not k2.startswith("_")} for d in tried]
        return best["_box"], best["_score"], table


def seed_noise_floors(evidence: Evidence) -> dict[str, SeedNoise]:
    """Per workload, the seed noise the models may not go below: the spread of repeated runs
    of one configuration, pooled over the studies' own repeats and (dev workloads) the shipped
    reference timings. One study repeats nothing, and a GP fitted on it can take seed noise
    for signal: its lucky hits would look certain."""
    out = {}
    for w in evidence.workloads:
        scale = "dev" if w in evidence.dev_workloads else "official"
        noise = seed_noise(w, evidence.repeated_times(w), scale)
        if noise is not None:
            out[w] = noise
    return out


def box_around(space: SearchSpace, points: Sequence[dict[str, Any]], margin: float) -> SearchSpace:
    """The smallest box holding ``points`` in ``space``'s scaling, widened by ``margin``."""
    free = {p.name for p in free_parameters(space)}
    spec: dict[str, Any] = {}
    for p in space.parameters:
        values = [pt[p.name] for pt in points]
        if isinstance(p, Choice) or p.name not in free:
            kept = list(dict.fromkeys(json.dumps(v) for v in values))
            spec[p.name] = {"feasible_points": [json.loads(v) for v in kept]}
            continue
        assert isinstance(p, Range)
        units = [min(1.0, max(0.0, p.to_unit(float(v)))) for v in values]
        lo, hi = max(0.0, min(units) - margin), min(1.0, max(units) + margin)
        lo_v, hi_v = p.from_unit(lo), p.from_unit(hi)
        if margin == 0.0:  # exactly the studied values, without a round trip through units
            lo_v, hi_v = float(min(values)), float(max(values))
        spec[p.name] = {"min": lo_v, "max": hi_v, "scaling": p.scaling}
    return SearchSpace.from_json(spec, source="<frozen box>")


# ---- the command ------------------------------------------------------------------------------


def freeze_command(args: argparse.Namespace) -> int:
    from sdk.cli.validate import check_output_path
    from sdk.scoring.targets import scoring_rules
    from sdk.trial_logs import atomic_write_json

    check_output_path(args.out, "--out", create_parent=True)
    check_output_path(args.json, "--json")
    if args.points < 1:
        raise PacelineError(f"--points must be at least 1, got {args.points}.")
    if args.samples < 10:
        raise PacelineError(f"--samples must be at least 10, got {args.samples}.")
    rules = scoring_rules(args.ruleset_version)
    studies = args.sim_studies or rules.num_studies
    if studies < 1:
        raise PacelineError(f"--sim-studies must be at least 1, got {studies}.")
    evidence = load_evidence(args.studies, rules)
    reference = None
    if args.reference:
        from sdk.scoring.time_to_target import load_submissions_times

        reference = {}
        for sub in load_submissions_times(args.reference, rules):
            for w, t in sub.times.items():
                reference[w] = min(reference.get(w, math.inf), t)
    n_trials = len(evidence.runs)
    print(f"paceline freeze: {n_trials} trials of {len(evidence.points)} configurations on "
          f"{', '.join(evidence.workloads)}; simulating {args.samples} benchmark runs of "
          f"{studies} studies (rules {version_label(rules.version)}, r_max {rules.r_max:g}).",
          file=sys.stderr)
    noise = {} if args.no_noise_floor else seed_noise_floors(evidence)
    freezer = Freezer(evidence, rules.r_max, studies, args.samples, args.seed, reference, noise)
    chosen, steps = freezer.choose_points(args.points)
    result = explain(freezer, chosen, steps, args.points, reference is not None)
    if args.box:
        box, box_score, tried = freezer.choose_box(chosen, args.points)
        result["box"] = {"space": box.to_json(), "expected_score": box_score.score,
                         "candidates": tried}
        frozen: Any = box.to_json()
        SearchSpace.from_json(frozen, source=args.out)
    else:
        frozen = [c.point for c in chosen]
        SearchSpace.from_json(frozen, source=args.out)
    result["frozen"] = frozen
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(Path(args.out), frozen)
    if args.json:
        atomic_write_json(Path(args.json), result)
    print(text(result, evidence.workloads))
    print(f"\nWrote {args.out}: " + (
        "a box (AlgoPerf draws its 5 quasi-random points from it in each study)." if args.box
        else f"a list of {len(frozen)} point(s) (AlgoPerf runs every point in each study)."))
    return 0


def explain(freezer: Freezer, chosen: list[Candidate], steps: list[dict[str, Any]], k: int,
            external_reference: bool) -> dict[str, Any]:
    """Why these points: the greedy steps, each point's evidence, and the alternatives."""
    ev = freezer.evidence
    final = freezer.score(chosen)
    points = []
    for c, share in zip(chosen, final.chosen_share, strict=True):
        observed = {}
        for w in ev.workloads:
            runs = ev.samples(c.key, w)
            times = [r.time for r in runs]
            observed[w] = {"runs": len(runs),
                           "median_time_sec": float(np.median(times)) if runs else None,
                           "reached": sum(math.isfinite(t) for t in times),
                           "source": c.source[w], "decides_studies": share[w]}
        points.append({"hyperparameters": c.point, "workloads": observed})
    singles = [freezer.score([freezer.candidate(p)]).score for p in ev.points.values()]
    alternatives: dict[str, Any] = {"best_single_point": max(singles)}
    if not ev.space.is_list and ev.space_source != "inferred from the studied points":
        draw = freezer.box_points(ev.space, k)
        alternatives["quasi_random_draw_from_tuned_space"] = freezer.score(draw).score
    return {
        "expected_score": final.score,
        "observed_score": freezer.observed_score(chosen),
        "varying": varying(list(ev.points.values())),
        "points": points,
        "steps": steps,
        "workloads": {w: {"reference_time_sec": freezer.reference.get(w, math.inf),
                          "expected_time_sec": final.per_workload_time[w],
                          "reached_share": final.reached[w], "budget_sec": ev.budgets[w]}
                      for w in ev.workloads},
        "alternatives": alternatives,
        "seed_noise": seed_noise_report(freezer),
        "simulation": {"studies": freezer.studies, "samples": freezer.samples,
                       "r_max": freezer.r_max, "seed": freezer.seed,
                       "reference": "--reference submissions" if external_reference
                       else "best median time any studied configuration reached",
                       "space": ev.space_source},
        "notes": ev.notes,
    }


def seed_noise_report(freezer: Freezer) -> dict[str, Any]:
    """Per workload: the seed noise the model estimated from the runs, the floor and its
    source, and what the model used (log-time units)."""
    out = {}
    for w in freezer.evidence.workloads:
        model, floor = freezer.models.get(w), freezer.noise.get(w)
        out[w] = {"estimated": model.fitted_noise_std if model else None,
                  "used": model.noise_std if model else None,
                  "floor": floor.std if floor else None,
                  "floor_dof": floor.dof if floor else 0,
                  "floor_source": floor.source if floor else "none known"}
    return out


def _noise_lines(report: dict[str, Any]) -> str:
    from sdk.text_tables import format_table

    rows = [(w, "-" if d["estimated"] is None else f"{d['estimated']:.3f}",
             "-" if d["floor"] is None else f"{d['floor']:.3f}",
             "-" if d["used"] is None else f"{d['used']:.3f}",
             d["floor_source"])
            for w, d in report.items()]
    return ("Seed noise in log time (the model's estimate from the runs; the floor, from "
            "configurations run more than once; what the model used; --no-noise-floor "
            "turns the floor off):\n"
            + format_table(["workload", "estimated", "floor", "used",
                            "floor from (degrees of freedom)"], rows))


def text(result: dict[str, Any], workloads: list[str]) -> str:
    from sdk.text_tables import format_table

    sim = result["simulation"]
    lines = [f"Expected external-tuning score {result['expected_score']:.3f} "
             f"({sim['samples']} simulated benchmark runs of {sim['studies']} studies; "
             f"reference: {sim['reference']}; r_max {sim['r_max']:g})."]
    if result["observed_score"] is not None:
        lines[0] += (f" In the studies as they ran, these points scored "
                     f"{result['observed_score']:.3f}.")
    names = result["varying"]
    step_rows = [(i + 1, _step_label(s, names), s["expected_score"], f"{s['gain']:+.3f}",
                  ", ".join(s["helps"]) or "-") for i, s in enumerate(result["steps"])]
    lines.append("Why these points (each step adds the point that raises the expected score "
                 "most):\n" + format_table(["step", "point", "expected score", "gain",
                                            "improves"], step_rows))
    rows = []
    for i, p in enumerate(result["points"]):
        cells: list[Any] = [f"#{i + 1}"]
        for w in workloads:
            o = p["workloads"][w]
            t = o["median_time_sec"]
            cells += [t if t is not None else "-", f"{o['reached']}/{o['runs']}",
                      f"{100 * o['decides_studies']:.0f}%"]
        cells.append(short(p["hyperparameters"], names))
        rows.append(cells)
    headers = ["point"]
    for w in workloads:
        headers += [f"{w} median(s)", "hit/runs", "decides"]
    lines.append("The points (median time over their studied trials; 'decides': share of "
                 "simulated studies whose time this point set; hyperparameters that vary "
                 "between the studied configurations, all of them in the output file):\n"
                 + format_table([*headers, "hyperparameters"], rows))
    wl = [(w, d["reference_time_sec"], d["expected_time_sec"], f"{100 * d['reached_share']:.0f}%",
           d["budget_sec"]) for w, d in result["workloads"].items()]
    lines.append(format_table(["workload", "reference(s)", "expected time(s)", "reached",
                               "budget(s)"], wl))
    if result.get("seed_noise"):
        lines.append(_noise_lines(result["seed_noise"]))
    alt = result["alternatives"]
    parts = [f"the best single point scores {alt['best_single_point']:.3f}"]
    if "quasi_random_draw_from_tuned_space" in alt:
        parts.append("drawing the benchmark's quasi-random points from the tuned space "
                     f"scores {alt['quasi_random_draw_from_tuned_space']:.3f}")
    if "box" in result:
        parts.append(f"the frozen box scores {result['box']['expected_score']:.3f}")
    lines.append("For comparison: " + "; ".join(parts) + ".")
    if result["notes"]:
        lines.append("Notes:\n" + "\n".join(f"  - {n}" for n in result["notes"][:10]))
    return "\n\n".join(lines)


def _step_label(step: dict[str, Any], names: list[str]) -> str:
    if step["point"] is None:
        return "swaps"
    return ("drop " if step.get("dropped") else "add ") + short(step["point"], names)
