"""Performance-profile plots (matplotlib, imported only when a plot is asked for).

Each submission's rho(tau) is drawn as the exact step function of its ratios over
[1, r_max], with its score in the legend.

    paceline score logs/external_tuning --ruleset-version 0.6 --plot profiles.png
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError


def profile_steps(ratios: Mapping[str, float], r_max: float, num_workloads: int
                  ) -> tuple[list[float], list[float]]:
    """The corners of rho(tau) on [1, r_max], for a ``steps-post`` line."""
    reached = sorted(max(r, 1.0) for r in ratios.values() if math.isfinite(r) and r <= r_max)
    xs, ys = [1.0], [sum(1 for r in reached if r <= 1.0) / num_workloads]
    for r in reached:
        if r > 1.0:
            xs.append(r)
            ys.append(sum(1 for q in reached if q <= r) / num_workloads)
    xs.append(r_max)
    ys.append(ys[-1])
    return xs, ys


def line_colours(n: int) -> list[Any]:
    """``n`` distinct matplotlib colours: tab10, then tab20, then evenly spread hues."""
    import matplotlib

    for name, size in (("tab10", 10), ("tab20", 20)):
        if n <= size:
            return list(matplotlib.colormaps[name].colors[:n])
    hsv = matplotlib.colormaps["hsv"]
    return [hsv(i / n) for i in range(n)]


def plot_profiles(
    ratios: Mapping[str, Mapping[str, float]],
    scores: Mapping[str, float],
    path: str | Path,
    r_max: float = 4.0,
    num_workloads: int | None = None,
    title: str = "AlgoPerf performance profiles",
) -> Path:
    """Write a PNG (or any format matplotlib knows from the suffix) of every profile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    order = sorted(ratios, key=lambda s: -scores.get(s, 0.0))
    rows = math.ceil(len(order) / 3)
    fig, ax = plt.subplots(figsize=(9, 5.5 + 0.25 * rows))
    for s, colour in zip(order, line_colours(len(order)), strict=True):
        n = num_workloads or len(ratios[s])
        xs, ys = profile_steps(ratios[s], r_max, n)
        ax.step(xs, ys, where="post", linewidth=2, alpha=0.85, color=colour,
                label=f"{s} ({scores.get(s, math.nan):.4f})")
    ax.set_xlim(1.0, r_max)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("tau: time relative to the fastest submission")
    ax.set_ylabel("share of workloads within tau")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    # below the axes, so it never covers a profile however many submissions there are
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, -0.12), ncol=3, fontsize="small",
              frameon=False)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise PacelineError(f"Cannot write the plot to {path} ({exc}).") from None
    finally:
        plt.close(fig)
    return path
