"""The leaderboard as one self-contained HTML page (tables, colours, the profile plot inline).

    paceline score runs/a runs/b --baseline b --html report.html

The page is built from :func:`sdk.scoring.report.json_report`, so it shows exactly what
``--json`` writes: scores, per-workload times and performance ratios (cells shaded from
fastest to the ``r_max`` cut-off, misses marked), warnings and notes. The performance
profiles are embedded as a PNG when matplotlib is available; the page needs no network.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import Any

from sdk.scoring.leaderboard import Leaderboard
from sdk.scoring.report import fmt_ratio, fmt_time, json_report, short_name

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .9em; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; }
th { background: #f3f3f3; } td.name, th.name { text-align: left; }
td.miss { background: #f6d5d5; color: #900; } td.nolog { color: #999; }
p.rules, li { font-size: .9em; } img { max-width: 100%; border: 1px solid #eee; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _shade(ratio: float, r_max: float) -> str:
    """Green at ratio 1 fading to white at ``r_max``; a miss is styled by its class."""
    if not math.isfinite(ratio) or ratio > r_max:
        return ""
    strength = 1.0 - (max(ratio, 1.0) - 1.0) / max(r_max - 1.0, 1e-9)
    green = int(255 - 90 * strength)
    other = int(255 - 150 * strength)
    return f' style="background: rgb({other}, {green}, {other})"'


def _table(headers: list[str], rows: list[str]) -> str:
    head = "".join(f'<th{" class=name" if i == 0 else ""}>{_esc(h)}</th>'
                   for i, h in enumerate(headers))
    return f"<table><tr>{head}</tr>{''.join(rows)}</table>"


def _profile_png(board: Leaderboard) -> str | None:
    """The profiles plot as a base64 PNG, or ``None`` without matplotlib."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    import tempfile
    from pathlib import Path

    from sdk.scoring.plot import plot_profiles

    rules = board.rules
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "profiles.png"
        plot_profiles(board.scores.ratios, board.scores.scores, path, rules.r_max,
                      len(rules.base_workloads), "Performance profiles")
        return base64.b64encode(path.read_bytes()).decode("ascii")


def html_report(board: Leaderboard, title: str = "paceline score") -> str:
    """The whole page as a string."""
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
    ruleset = "self-tuning" if data["ruleset"] == "self" else "external tuning"
    out = io.StringIO()
    out.write(f"<!doctype html><html><head><meta charset='utf-8'><title>{_esc(title)}</title>"
              f"<style>{_STYLE}</style></head><body><h1>{_esc(title)}</h1>")
    out.write(f"<p class=rules>AlgoPerf {_esc(data['ruleset_version'])} rules, {ruleset}, "
              f"{data['num_studies']} studies; score = area under the performance profile on "
              f"[1, {r_max:g}] ({_esc(data['score_method'])}); per study "
              f"{_esc(data['trial_rule'])} trial, median over studies.</p>")

    speed = any(s["speedup"] for s in subs.values())
    headers = ["submission", "rank", "score", "score (grid)", "score (exact)"]
    if speed:
        headers += ["speedup", "time saved"]
    rows = []
    for s in ranking:
        d = subs[s]
        cells = [f"<td class=name>{_esc(s)}</td>", f"<td>{d['rank']}</td>",
                 f"<td><b>{d['score']:.4f}</b></td>", f"<td>{d['score_grid']:.4f}</td>",
                 f"<td>{d['score_exact']:.4f}</td>"]
        if speed:
            sp = d["speedup"]
            cells += [f"<td>{sp['geomean']:.3f}x</td>", f"<td>{100 * sp['time_reduction']:.1f}%</td>"]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    out.write("<h2>Scores</h2>" + _table(headers, rows))

    png = _profile_png(board)
    if png is not None:
        out.write(f"<h2>Performance profiles</h2><img alt='performance profiles' "
                  f"src='data:image/png;base64,{png}'>")

    rows = []
    for s in ranking:
        cells = [f"<td class=name>{_esc(s)}</td>"]
        for w in columns:
            entry = subs[s]["workloads"].get(w)
            time = None if entry is None else entry.get("time_to_target_sec")
            ratio = entry.get("ratio") if entry else None
            if entry is None or (time is None and entry.get("excluded_because") == "no logs"):
                cells.append("<td class=nolog>-</td>")
            elif time is None or not math.isfinite(time):
                cells.append("<td class=miss>missed</td>")
            else:
                shade = _shade(ratio, r_max) if ratio is not None else ""
                cells.append(f"<td{shade}>{fmt_time(time)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    out.write("<h2>Time to target (s), median over studies</h2>"
              + _table(["submission", *names], rows)
              + "<p class=rules>Shading: green = fastest, white = at the "
              f"{r_max:g}x cut-off; * held-out variant; ~ not scored under these rules.</p>")

    rows = []
    for s in ranking:
        cells = [f"<td class=name>{_esc(s)}</td>"]
        for w in base:
            ratio = subs[s]["workloads"][w]["ratio"]
            why = subs[s]["workloads"][w].get("excluded_because")
            tip = f' title="{_esc(why)}"' if why else ""
            if not math.isfinite(ratio) or ratio > r_max:
                cells.append(f"<td class=miss{tip}>{fmt_ratio(ratio)}</td>")
            else:
                cells.append(f"<td{_shade(ratio, r_max)}{tip}>{fmt_ratio(ratio)}</td>")
        rows.append(f"<tr>{''.join(cells)}</tr>")
    out.write("<h2>Performance ratios (time / fastest)</h2>"
              + _table(["submission", *names[:len(base)]], rows))

    targets = data["targets"]
    if targets:
        rows = [f"<tr><td class=name>{_esc(w)}</td><td>{_esc(t['metric'])}</td>"
                f"<td>{t['value']:.6g}</td><td>{'min' if t['minimized'] else 'max'}</td>"
                f"<td>{fmt_time(t['budget_sec']) if t['budget_sec'] else '-'}</td>"
                f"<td class=name>{_esc(t['source'])}</td></tr>"
                for w, t in targets.items()]
        out.write("<h2>Targets</h2>" + _table(
            ["workload", "metric", "target", "goal", "budget (s)", "source"], rows))
    for heading, items in (("Warnings", data["warnings"]), ("Notes", data["notes"])):
        if items:
            out.write(f"<h2>{heading}</h2><ul>"
                      + "".join(f"<li>{_esc(i)}</li>" for i in items) + "</ul>")
    out.write("</body></html>\n")
    return out.getvalue()


def write_html(board: Leaderboard, path: str, title: str = "paceline score") -> None:
    """Write :func:`html_report` to ``path`` (atomically)."""
    from sdk.errors import PacelineError
    from sdk.trial_logs import atomic_write_text

    try:
        atomic_write_text(path, html_report(board, title))
    except OSError as exc:
        raise PacelineError(f"Cannot write {path} ({exc.strerror}).") from None
