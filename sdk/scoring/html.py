"""The leaderboard as one self-contained HTML page: tables, interactive plots, the runs behind it.

    paceline score runs/a runs/b --baseline b --html report.html

The page (Jinja2 template ``templates/report.html.j2``) shows what ``--json`` writes, and
what a researcher looks at next:

* scores and the performance profiles (with two or more submissions; one submission is shown
  by its times to target and curves instead, since a profile compares submissions);
* times to target and performance ratios, cells shaded from fastest to the ``r_max`` cut-off;
* per workload, the validation metric against submission time of each study's chosen trial
  (the best trial where a study missed), with the target and budget as lines;
* per submission and study: the chosen trial, its time and its hyperparameters, and the
  spread of the time over studies;
* the machine, clock and seed each run recorded in its ``meta_data``;
* official and dev-scale targets in separate tables, then warnings and notes.

Plots are Plotly figures whose JSON sits in the page next to the inlined plotly.js, so the
page needs no network. Wide tables scroll inside their own box; the legend sits below each
plot; colours do not repeat however many submissions there are (:func:`palette`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.scoring.leaderboard import Leaderboard
from sdk.scoring.report import fmt_ratio, fmt_time, json_report, short_name

TEMPLATE = "report.html.j2"
MAX_POINTS = 400  # per curve; longer eval logs are thinned evenly (first and last kept)
DEV_SOURCE = "dev meta_data"


# -- colours -------------------------------------------------------------------------------

def palette(n: int) -> list[str]:
    """``n`` distinct colours: Plotly's ten, then Dark24 / Alphabet, then evenly spread hues."""
    from plotly.colors import qualitative

    for base in (qualitative.Plotly, qualitative.Dark24, qualitative.Alphabet):
        if n <= len(base):
            return list(base[:n])
    return [f"hsl({360 * i / n:.1f}, {55 + 20 * (i % 2)}%, {38 + 12 * (i % 3)}%)"
            for i in range(n)]


def _shade(ratio: float | None, r_max: float) -> str:
    """Green at ratio 1 fading to white at ``r_max`` ('' for misses and no ratio)."""
    if ratio is None or not math.isfinite(ratio) or ratio > r_max:
        return ""
    strength = 1.0 - (max(ratio, 1.0) - 1.0) / max(r_max - 1.0, 1e-9)
    green = int(255 - 90 * strength)
    other = int(255 - 150 * strength)
    return f"background: rgb({other}, {green}, {other})"


def _fmt_value(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.4g}"
    return str(value)


# -- what each trial folder recorded -------------------------------------------------------

def _trial_dir(trial: Any) -> Path:
    """TrialTime.path is the eval CSV; its folder holds hparams.json and meta_data."""
    path = Path(trial.path)
    return path.parent if path.suffix == ".csv" else path


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _meta(trial_dir: Path) -> dict[str, Any]:
    metas = sorted(trial_dir.glob("meta_data_*.json"))
    return (_read_json(metas[0]) or {}) if metas else {}


def _machine(meta: dict[str, Any]) -> str:
    parts = []
    gpus, gpu = meta.get("gpu_count") or meta.get("gpu.count"), meta.get("gpu_model_name")
    if gpus:
        parts.append(f"{gpus} x {gpu}" if gpu else f"{gpus} GPU(s)")
    cpus = meta.get("cpu_count") or meta.get("cpu.count")
    cpu = meta.get("cpu_model_name")
    if cpu or cpus:
        parts.append(" ".join(str(p) for p in (f"{cpus} x" if cpus else "", cpu or "CPUs") if p))
    node = meta.get("os.node")
    platform = meta.get("os.platform") or meta.get("os_platform")
    if node:
        parts.append(f"host {node}")
    if platform:
        parts.append(str(platform))
    return ", ".join(parts) or "not recorded"


def _clock(meta: dict[str, Any]) -> str:
    clock = meta.get("paceline.clock")
    if clock == "dev":
        scale = meta.get("paceline.clock_scale")
        scale_text = f", scale {scale:.3g}" if isinstance(scale, int | float) else ""
        return f"dev (CPU seconds on the calibration machine{scale_text})"
    if clock:
        return str(clock)
    if "paceline.scale" in meta:
        return "wall"
    return "wall (AlgoPerf)" if meta else "not recorded"


def _runs(board: Leaderboard) -> list[dict[str, Any]]:
    """Per submission: frameworks, scale, ruleset, clock, machine and the seed of each study."""
    out = []
    for sub in board.submissions:
        machines, clocks, seeds, frameworks = [], [], [], []
        for w, wt in sorted(sub.workloads.items()):
            if wt.framework and wt.framework not in frameworks:
                frameworks.append(wt.framework)
            for st in wt.studies:
                trial = st.chosen or (st.trials[0] if st.trials else None)
                if trial is None:
                    continue
                meta = _meta(_trial_dir(trial))
                for found, value in ((machines, _machine(meta)), (clocks, _clock(meta))):
                    if value not in found:
                        found.append(value)
                seed = meta.get("rng_seed")
                if seed is not None:
                    seeds.append(f"{w} {st.study}: {seed}")
        out.append({
            "name": sub.name,
            "frameworks": ", ".join(frameworks) or "-",
            "scale": sub.scale or "official",
            "ruleset": ", ".join(sorted(str(v) for v in sub.meta.get("paceline.ruleset", ())))
            or "-",
            "machine": "; ".join(machines) or "not recorded",
            "clock": "; ".join(clocks) or "not recorded",
            "seeds": seeds,
        })
    return out


def _hparams(trial_dir: Path) -> list[tuple[str, str]]:
    data = _read_json(trial_dir / "hparams.json")
    if data is None:
        return []
    return [(k, _fmt_value(v)) for k, v in sorted(data.items())]


def _studies(board: Leaderboard) -> list[dict[str, Any]]:
    """Per submission: each study's chosen trial with its hyperparameters, and the spread."""
    out = []
    for sub in board.submissions:
        rows, spread = [], []
        for w, wt in sorted(sub.workloads.items()):
            times = [st.time_sec for st in wt.studies]
            finite = [t for t in times if math.isfinite(t)]
            spread.append({
                "workload": w, "median": _study_time(wt.time_sec),
                "hit": f"{len(finite)}/{len(times)}",
                "min": fmt_time(min(finite)) if finite else "-",
                "max": fmt_time(max(finite)) if finite else "-",
                "studies": ", ".join(_study_time(t) for t in times),
            })
            for st in wt.studies:
                shown = st.chosen or _best_trial(st.trials, wt.target.minimized)
                rows.append({
                    "workload": w, "study": st.study, "trials": len(st.trials),
                    "chosen": st.chosen.trial if st.chosen else "none reached the target",
                    "shown": shown.trial if shown else "-",
                    "time": _study_time(st.time_sec),
                    "best": _fmt_value(shown.best_value) if shown else "-",
                    "hparams": _hparams(_trial_dir(shown)) if shown else [],
                })
        out.append({"name": sub.name, "rows": rows, "spread": spread})
    return out


def _study_time(seconds: float) -> str:
    return "missed" if math.isinf(seconds) else fmt_time(seconds)


def _best_trial(trials: Sequence[Any], minimized: bool) -> Any | None:
    scored = [t for t in trials if math.isfinite(t.best_value)]
    if not scored:
        return trials[0] if trials else None
    return (min if minimized else max)(scored, key=lambda t: t.best_value)


# -- figures -------------------------------------------------------------------------------

def _legend_layout(count: int) -> dict[str, Any]:
    """A legend below the plot (never over the curves), the plot taller as entries grow."""
    rows = math.ceil(count / 4)
    return {
        "legend": {"orientation": "h", "x": 0, "xanchor": "left", "y": -0.18,
                   "yanchor": "top"},
        "height": 420 + 24 * rows,
        "margin": {"l": 60, "r": 20, "t": 50, "b": 60 + 24 * rows},
        "template": "plotly_white",
    }


def _thin(xs: Sequence[float], ys: Sequence[float]) -> tuple[list[float], list[float]]:
    n = len(xs)
    if n <= MAX_POINTS:
        keep = range(n)
    else:
        keep = sorted({round(i * (n - 1) / (MAX_POINTS - 1)) for i in range(MAX_POINTS)})
    return ([float(xs[i]) for i in keep], [None if math.isnan(ys[i]) else float(ys[i])
                                             for i in keep])


def _curve_figures(board: Leaderboard, colours: dict[str, str]) -> list[dict[str, Any]]:
    """Per workload, a figure of each study's chosen (else best) trial's validation curve."""
    import plotly.graph_objects as go

    from sdk.scoring.reader import read_curve

    workloads = sorted({w for s in board.submissions for w in s.workloads})
    out = []
    for w in workloads:
        fig = go.Figure()
        target = None
        for sub in board.submissions:
            wt = sub.workloads.get(w)
            if wt is None:
                continue
            target = target or wt.target
            first = True
            for st in wt.studies:
                trial = st.chosen or _best_trial(st.trials, wt.target.minimized)
                if trial is None:
                    continue
                try:
                    curve = read_curve(Path(trial.path), wt.target.column)
                except PacelineError:
                    continue
                xs, ys = _thin(curve.times, curve.values)
                missed = st.chosen is None
                fig.add_trace(go.Scatter(
                    x=xs, y=ys, mode="lines+markers", name=sub.name, legendgroup=sub.name,
                    showlegend=first, line={"color": colours[sub.name], "width": 2,
                                            "dash": "dot" if missed else "solid"},
                    marker={"size": 4},
                    hovertemplate=(f"{sub.name}<br>{st.study} {trial.trial}"
                                   f"{' (missed)' if missed else ''}<br>time %{{x:.4g}} s"
                                   f"<br>{wt.target.metric} %{{y:.4g}}<extra></extra>"),
                ))
                first = False
        if target is None:
            continue
        fig.add_hline(y=target.value, line={"color": "#444", "dash": "dash", "width": 1},
                      annotation_text=f"target {target.value:.4g}",
                      annotation_position="top left")
        if target.budget_sec:
            fig.add_vline(x=target.budget_sec, line={"color": "#a00", "dash": "dot",
                                                     "width": 1},
                          annotation_text=f"budget {fmt_time(target.budget_sec)} s",
                          annotation_position="top right")
        goal = "lower is better" if target.minimized else "higher is better"
        fig.update_layout(
            title=f"{w}: validation {target.metric} ({goal})",
            xaxis_title="submission time (s)", yaxis_title=f"validation {target.metric}",
            **_legend_layout(len(board.submissions)),
        )
        out.append({"workload": w, "json": _figure_json(fig)})
    return out


def _profile_figure(board: Leaderboard, colours: dict[str, str], ranking: list[str]) -> str:
    import plotly.graph_objects as go

    from sdk.scoring.plot import profile_steps

    rules = board.rules
    fig = go.Figure()
    for s in ranking:
        xs, ys = profile_steps(board.scores.ratios[s], rules.r_max,
                               len(rules.base_workloads))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", line={"shape": "hv", "color": colours[s], "width": 2},
            name=f"{s} ({board.scores.scores[s]:.4f})"))
    fig.update_layout(
        title="Performance profiles", xaxis_title="tau: time relative to the fastest",
        yaxis_title="share of workloads within tau", yaxis_range=[-0.02, 1.02],
        xaxis_range=[1.0, rules.r_max], **_legend_layout(len(ranking)))
    return _figure_json(fig)


def _figure_json(fig: Any) -> str:
    """The figure as JSON that is safe inside a <script> element."""
    return fig.to_json().replace("</", "<\\/")


# -- the page ------------------------------------------------------------------------------

def _time_cells(data: dict[str, Any], ranking: list[str], columns: list[str],
                r_max: float) -> list[dict[str, Any]]:
    rows = []
    for s in ranking:
        cells = []
        for w in columns:
            entry = data["submissions"][s]["workloads"].get(w)
            time = None if entry is None else entry.get("time_to_target_sec")
            if entry is None or (time is None and entry.get("excluded_because") == "no logs"):
                cells.append({"text": "-", "cls": "nolog", "style": ""})
            elif time is None or not math.isfinite(time):
                cells.append({"text": "missed", "cls": "miss", "style": ""})
            else:
                cells.append({"text": fmt_time(time), "cls": "",
                              "style": _shade(entry.get("ratio"), r_max)})
        rows.append({"name": s, "cells": cells})
    return rows


def _ratio_cells(data: dict[str, Any], ranking: list[str], base: list[str],
                 r_max: float) -> list[dict[str, Any]]:
    rows = []
    for s in ranking:
        cells = []
        for w in base:
            entry = data["submissions"][s]["workloads"][w]
            ratio, why = entry["ratio"], entry.get("excluded_because") or ""
            miss = not math.isfinite(ratio) or ratio > r_max
            cells.append({"text": fmt_ratio(ratio), "cls": "miss" if miss else "",
                          "style": "" if miss else _shade(ratio, r_max), "title": why})
        rows.append({"name": s, "cells": cells})
    return rows


def _single_rows(board: Leaderboard) -> list[dict[str, Any]]:
    """One submission: per workload its target, best value, hits and time to target."""
    sub = board.submissions[0]
    rows = []
    for w, wt in sorted(sub.workloads.items()):
        best = [t.best_value for st in wt.studies for t in st.trials
                if math.isfinite(t.best_value)]
        pick = (min if wt.target.minimized else max)(best) if best else math.nan
        hit = sum(math.isfinite(st.time_sec) for st in wt.studies)
        budget = wt.target.budget_sec
        share = (f"{100 * wt.time_sec / budget:.0f}%"
                 if budget and math.isfinite(wt.time_sec) else "-")
        rows.append({"workload": w, "metric": wt.target.metric,
                     "target": f"{wt.target.value:.4g}", "best": _fmt_value(pick),
                     "hit": f"{hit}/{len(wt.studies)}", "time": fmt_time(wt.time_sec),
                     "budget": fmt_time(budget) if budget else "-", "share": share})
    return rows


def html_report(board: Leaderboard, title: str = "paceline score") -> str:
    """The whole page as a string."""
    import jinja2
    import plotly.offline

    data = json_report(board)
    r_max = board.rules.r_max
    ranking: list[str] = data["ranking"]
    subs = data["submissions"]
    base = list(data["base_workloads"])
    held = list(data["held_out_workloads"])
    extra = sorted({w for s in subs.values() for w in s["workloads"]} - set(base) - set(held))
    columns = base + held + extra
    names = [short_name(w, columns) + ("*" if w in held else "~" if w in extra else "")
             for w in columns]
    colour_list = palette(len(ranking))
    colours = dict(zip(ranking, colour_list, strict=True))
    single = len(ranking) == 1
    speed = any(s["speedup"] for s in subs.values())
    targets = [{"workload": w, "metric": t["metric"], "value": f"{t['value']:.6g}",
                "goal": "min" if t["minimized"] else "max",
                "budget": fmt_time(t["budget_sec"]) if t["budget_sec"] else "-",
                "source": t["source"]} for w, t in data["targets"].items()]
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True,
        undefined=jinja2.StrictUndefined)
    return env.get_template(TEMPLATE).render(
        title=title,
        ruleset="self-tuning" if data["ruleset"] == "self" else "external tuning",
        data=data, r_max=r_max, ranking=ranking, subs=subs, speed=speed, single=single,
        colours=colours, names=names, base_names=names[:len(base)],
        time_rows=_time_cells(data, ranking, columns, r_max),
        ratio_rows=_ratio_cells(data, ranking, base, r_max),
        single_rows=_single_rows(board) if single else [],
        profile=None if single else _profile_figure(board, colours, ranking),
        curves=_curve_figures(board, colours),
        runs=_runs(board), studies=_studies(board),
        official_targets=[t for t in targets if t["source"] != DEV_SOURCE],
        dev_targets=[t for t in targets if t["source"] == DEV_SOURCE],
        plotly_js=plotly.offline.get_plotlyjs(),
    )


def write_html(board: Leaderboard, path: str, title: str = "paceline score") -> None:
    """Write :func:`html_report` to ``path`` (atomically)."""
    from sdk.trial_logs import atomic_write_text

    try:
        atomic_write_text(path, html_report(board, title))
    except OSError as exc:
        raise PacelineError(f"Cannot write {path} ({exc.strerror}).") from None
