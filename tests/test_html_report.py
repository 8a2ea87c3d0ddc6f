"""The HTML report of `paceline score --html`, built from small generated logs.

The page is read with an HTML parser (every Plotly figure loads with plotly.io.from_json,
nothing is fetched from the network), and a real headless browser (playwright driving
Chromium, found by tests/headless_browser.py) renders it and checks what a person would see:
the plots drawn, no JavaScript error, no table wider than the window. The browser test skips
with the reason where none is installed (scripts/setup.sh installs one where it can).

    .venv/bin/python -m pytest tests/test_html_report.py -q
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.scoring.html import palette
from tests.headless_browser import launch_options, why_missing
from tests.test_scoring_support import curve_rows, write_trial

HPARAMS = {"learning_rate": 0.0123, "beta1": 0.9, "weight_decay": 0.05}


def _meta(seed: int, budget: float = 60.0) -> dict:
    return {
        "workload.target_metric_name": "accuracy", "workload.validation_target_value": 0.89,
        "paceline.metric_minimized": False, "paceline.budget_sec": budget,
        "paceline.scale": "dev", "paceline.ruleset": "external",
        "paceline.ruleset_version": "0.6", "paceline.clock": "dev",
        "paceline.clock_scale": 0.86, "os.node": "testbox", "cpu.count": 2,
        "os.platform": "Linux-test", "rng_seed": seed, "paceline.framework": "pytorch",
    }


def _run(root: Path, reach_at: float | None, studies: int = 2, seed: int = 7) -> None:
    """An mnist dev run: each study's trial 1 reaches 0.89 at ``reach_at`` (None: never)."""
    for k in range(studies):
        for n in (1, 2):
            top = 0.95 if (reach_at is not None and n == 1) else 0.5 + 0.1 * n
            t = reach_at or 30.0
            rows = curve_rows([t / 3, 2 * t / 3, t], [0.3, 0.6, top], "accuracy")
            path = write_trial(root, "mnist_pytorch", n, rows, study=f"study_{k}",
                               meta=_meta(seed + k))
            (path / "hparams.json").write_text(json.dumps({**HPARAMS, "trial": n}))


class _Page(HTMLParser):
    """What the checks need from the page: figures, script sources, tables and their boxes."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.figures: list[str] = []
        self.srcs: list[str] = []
        self.tables_outside_scroll = 0
        self.tables = 0
        self.plot_divs: set[str] = set()
        self._in_figure = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "link", "iframe") and (a.get("src") or a.get("href")):
            self.srcs.append(a.get("src") or a.get("href"))
        if tag == "script" and "plotly-figure" in (a.get("class") or ""):
            self._in_figure = True
            self.figures.append("")
        if tag == "div" and "plot" in (a.get("class") or "").split():
            self.plot_divs.add(a.get("id"))
        if tag == "table":
            self.tables += 1
            if not any(t == "div" and "scroll" in (x.get("class") or "") for t, x in self.stack):
                self.tables_outside_scroll += 1
        if tag not in ("meta", "br", "img", "link", "input"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_figure = False
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self._in_figure:
            self.figures[-1] += data


def _report(tmp_path: Path, *dirs: Path, capsys) -> str:
    out = tmp_path / "report.html"
    rc = main(["score", *map(str, dirs), "--html", str(out)])
    assert rc == 0, capsys.readouterr().err
    capsys.readouterr()
    return out.read_text()


def _check_offline_and_valid(page: str) -> _Page:
    import plotly.io

    parsed = _Page()
    parsed.feed(page)
    assert not [s for s in parsed.srcs if re.match(r"(https?:)?//", s)], parsed.srcs
    import plotly.offline

    assert plotly.offline.get_plotlyjs() in page  # plotly.js inlined, not a CDN link
    own = page.replace(plotly.offline.get_plotlyjs(), "")
    assert "cdn.plot.ly" not in own and not re.search(r"src=[\"']?https?:", own)
    assert parsed.figures and parsed.tables
    assert parsed.tables_outside_scroll == 0  # wide tables scroll in their own box
    for text in parsed.figures:
        fig = plotly.io.from_json(text)  # a valid Plotly figure
        legend = fig.layout.legend
        assert legend.orientation == "h" and legend.y < 0  # below the plot, not over it
    assert 'id="fig-' in page and all(d in page for d in parsed.plot_divs)
    return parsed


def test_many_submissions_report(tmp_path, capsys):
    group = tmp_path / "runs"
    for i in range(12):
        _run(group / f"algo{i:02d}", 10.0 + 3 * i if i != 11 else None, seed=100 + i)
    page = _report(tmp_path, group, capsys=capsys)
    parsed = _check_offline_and_valid(page)
    import plotly.io

    figs = [plotly.io.from_json(t) for t in parsed.figures]
    curves = next(f for f in figs if "mnist" in f.layout.title.text)
    colours = {t.name: t.line.color for t in curves.data}
    assert len(colours) == 12 and len(set(colours.values())) == 12  # no colour repeats
    assert any(s.y0 == pytest.approx(0.89) for s in curves.layout.shapes)  # the target line
    assert any(s.x0 == pytest.approx(60.0) for s in curves.layout.shapes)  # the budget line
    assert curves.layout.xaxis.title.text == "submission time (s)"
    assert "Performance profiles" in page
    # the chosen trial and its hyperparameters, spread, machine, clock and seed
    assert "learning_rate=0.0123" in page and "trial_1" in page
    assert "each study (s)" in page and "2/2" in page and "0/2" in page
    assert "host testbox" in page and "dev (CPU seconds" in page and "study_1: 101" in page
    assert "Targets: dev scale" in page


def test_single_run_shows_curves_and_time_to_target(tmp_path, capsys):
    _run(tmp_path / "exp" / "my_sgdm", 20.0)
    page = _report(tmp_path, tmp_path / "exp" / "my_sgdm", capsys=capsys)
    parsed = _check_offline_and_valid(page)
    assert "One submission" in page and "Performance profiles" not in page
    assert 'id="fig-profile"' not in page
    assert len(parsed.figures) == 1  # the mnist curves
    row = re.search(r"<td class=\"name\">mnist</td>(.*?)</tr>", page, re.S).group(1)
    assert ">20<" in row and "2/2" in row and "0.95" in row  # time to target, hits, best


def test_official_and_dev_targets_are_separate_tables(tmp_path, capsys):
    _run(tmp_path / "runs" / "a", 20.0)
    page = _report(tmp_path, tmp_path / "runs" / "a", capsys=capsys)
    # the v0.6 workloads the run lacks keep their official targets, apart from mnist's
    official = page.index("Targets: official")
    dev = page.index("Targets: dev scale")
    assert "ogbg" in page[official:dev] and "mnist" not in page[official:dev]
    assert "mnist" in page[dev:page.index("</table>", dev)]


def test_palette_never_repeats():
    for n in (1, 10, 11, 24, 25, 26, 27, 40, 100):
        colours = palette(n)
        assert len(colours) == n == len(set(colours))


# What a person sees, read in the browser: every plot's SVG with its drawn lines, and the
# right edge of the page and of every table's box (the page must not scroll sideways).
_SEEN = """() => ({
  plots: [...document.querySelectorAll("div.plot")].map(d => ({
    id: d.id, width: d.getBoundingClientRect().width,
    svg: d.querySelectorAll("svg.main-svg").length,
    lines: [...d.querySelectorAll(".scatterlayer path.js-line")]
      .filter(p => (p.getAttribute("d") || "").length > 10).length,
    legend: d.querySelectorAll(".legend .traces").length})),
  pageWidth: document.documentElement.scrollWidth,
  tableRight: Math.max(...[...document.querySelectorAll("div.scroll")]
    .map(b => b.getBoundingClientRect().right)),
  text: document.body.innerText})"""


def _look_at(page_file: Path, options: dict, shot: Path) -> tuple[dict, list[str]]:
    """Render ``page_file`` at 900x800; what it shows, and every error or network request."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(**options)
        page = browser.new_page(viewport={"width": 900, "height": 800})
        page.on("pageerror", lambda e: problems.append(f"uncaught: {e}"))
        page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
        page.on("request", lambda r: r.url.startswith(("file:", "data:"))
                or problems.append(f"fetched {r.url}"))
        page.goto(page_file.as_uri())
        page.wait_for_function("document.querySelectorAll('div.plot svg.main-svg').length"
                               " >= document.querySelectorAll('div.plot').length")
        seen = page.evaluate(_SEEN)
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    return seen, problems


def test_report_in_a_headless_browser(tmp_path, capsys):
    options = launch_options()
    if options is None:
        pytest.skip(f"no headless browser: {why_missing()}; the HTML-parser checks above "
                    "stand in for it")
    _run(tmp_path / "runs" / "a", 20.0)
    _run(tmp_path / "runs" / "b", 25.0)
    _report(tmp_path, tmp_path / "runs", capsys=capsys)
    seen, problems = _look_at(tmp_path / "report.html", options, tmp_path / "report.png")
    assert not problems  # no JavaScript error, nothing fetched from the network
    ids = [p["id"] for p in seen["plots"]]
    assert "fig-profile" in ids and any(i.startswith("fig-curve") for i in ids)
    for plot in seen["plots"]:
        assert plot["svg"] and 400 < plot["width"] <= 900, plot  # drawn, as wide as the page
        assert plot["lines"] >= 2 and plot["legend"] >= 2, plot  # a line per submission
    assert seen["pageWidth"] <= 900 and seen["tableRight"] <= 900  # no table wider than the window
    assert "Performance profiles" in seen["text"] and "mnist" in seen["text"]
    assert (tmp_path / "report.png").stat().st_size > 20_000


def test_against_baselines_writes_the_report_of_what_was_run(tmp_path, capsys):
    _run(tmp_path / "exp" / "my_sgdm", 20.0)
    out = tmp_path / "r.html"
    rc = main(["score", str(tmp_path / "exp" / "my_sgdm"), "--against", "baselines",
               "--html", str(out)])
    assert rc == 0, capsys.readouterr().err
    page = out.read_text()
    _check_offline_and_valid(page)
    assert "One submission" in page and "mnist" in page


def test_profile_png_colours_do_not_repeat(tmp_path):
    from sdk.scoring.plot import line_colours, plot_profiles

    for n in (10, 12, 20, 21, 50):
        assert len({tuple(c) for c in line_colours(n)}) == n
    ratios = {f"s{i:02d}": {"w": 1.0 + i / 10} for i in range(12)}
    scores = {s: 1.0 for s in ratios}
    out = plot_profiles(ratios, scores, tmp_path / "p.png", 4.0, 1)
    assert out.stat().st_size > 10_000
