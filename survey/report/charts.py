"""The report's charts as inline SVG (matplotlib), with text kept as text so it can be searched and copied.

Share charts stack the affected share by whether the bug shows with the pinned torch, carry the 95% Wilson
interval, show n for every group, and grey the groups under ``MIN_N``, whose share says little.
"""
from __future__ import annotations

import io
import math
from typing import Optional

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .tables import MIN_N  # noqa: E402

plt.rcParams.update({
    "svg.fonttype": "none", "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"], "font.size": 9,
    "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": None,
})

BLUE, GOOD = "#2c6fbb", "#1a7f4b"
STACK = [("effective_yes", "shows with the pinned torch", "#b2182b", "#5f5f5f"),
         ("effective_unknown", "torch not pinned", "#ef8a62", "#9a9a9a"),
         ("effective_no", "pins admit only torch ≥ 1.9", "#f7c8b0", "#d3d3d3")]
POST, RELEASE = pd.Timestamp("2021-04-15"), pd.Timestamp("2021-06-15")  # the blog post; PyTorch 1.9.0


def _svg(fig, label: str) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    svg = text[text.index("<svg"):]
    # a text alternative for screen readers; the table under each chart holds the numbers
    label = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)


def _legend(ax, handles) -> None:
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)


def _stack_handles(grey: bool):
    handles = [Patch(color=c, label=f"affected: {label}") for _, label, c, _ in STACK]
    if grey:
        handles.append(Patch(color=STACK[0][3], label=f"n < {MIN_N}: the same in greys (too few to read)"))
    return handles


def _stacked(ax, x, table: pd.DataFrame, width) -> bool:
    n = table["with_workers"].astype(float)
    thin = n < MIN_N
    bottom = pd.Series(0.0, index=table.index)
    for column, _, colour, grey in STACK:
        height = (table[column] / n.where(n > 0)).fillna(0) * 100
        ax.bar(x, height, width, bottom=bottom, color=[grey if t else colour for t in thin], linewidth=0)
        bottom = bottom + height
    has = n > 0
    share, lo, hi = (table[c].astype(float) * 100 for c in ("share", "ci_low", "ci_high"))
    # clipped: a share of 100% can sit a rounding error above its interval's upper end
    below, above = (share - lo).clip(lower=0), (hi - share).clip(lower=0)
    ax.errorbar([v for v, h in zip(x, has) if h], share[has], yerr=[below[has], above[has]],
                fmt="none", ecolor="#222", capsize=2, lw=.8)
    ax.set_ylim(0, 100)
    ax.set_ylabel("% affected")
    return bool((thin & has).any())


def share_chart(table: pd.DataFrame, key: str, title: str) -> Optional[str]:
    """Bars per group, n under each label; None when no group has repositories."""
    if table.empty or table["with_workers"].sum() == 0:
        return None
    fig, ax = plt.subplots(figsize=(8, 2.8))
    x = list(range(len(table)))
    grey = _stacked(ax, x, table, 0.7)
    ax.set_xticks(x, [f"{v}\nn = {n}" for v, n in zip(table[key], table["with_workers"])])
    ax.set_title(title, loc="left")
    _legend(ax, _stack_handles(grey))
    return _svg(fig, f"{title}: " + "; ".join(
        f"{v}: {_pct(s)} of {n}" for v, s, n in zip(table[key], table["share"], table["with_workers"])))


def _pct(x) -> str:
    return "no repositories" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.0f}%"


def time_chart(by_quarter: pd.DataFrame, by_year: pd.DataFrame) -> Optional[str]:
    """The share on a real time axis (empty periods kept), with n per period in a panel below, and the 2021
    post and the PyTorch 1.9 release marked whatever the data. Quarters when most hold MIN_N repositories,
    else years."""
    quarters = by_quarter[by_quarter["created_quarter"] != "unknown"]
    years = by_year[by_year["created_year"] != "unknown"]
    if years.empty or years["with_workers"].sum() == 0:
        return None
    filled = quarters.loc[quarters["with_workers"] > 0, "with_workers"]
    if len(filled) and filled.median() >= MIN_N:
        table, start, width, unit = quarters, pd.PeriodIndex(quarters["created_quarter"], freq="Q").start_time, 80, \
            "quarter"
    else:
        table, start, width, unit = years, pd.to_datetime(years["created_year"] + "-01-01"), 330, "year"
    table = table.reset_index(drop=True)
    x = list(start + pd.Timedelta(days=width // 2 + 5))
    fig, (ax, axn) = plt.subplots(2, 1, figsize=(8, 3.6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    grey = _stacked(ax, x, table, pd.Timedelta(days=width))
    axn.bar(x, table["with_workers"], pd.Timedelta(days=width), color="#7f8c8d", linewidth=0)
    for xi, n in zip(x, table["with_workers"]):
        if n and len(table) <= 24:
            axn.text(xi, n, str(n), ha="center", va="bottom", fontsize=7)
    axn.set_ylabel("n")
    axn.set_ylim(0, max(1, table["with_workers"].max()) * 1.35)
    lo = min(start.min(), POST - pd.Timedelta(days=180))
    hi = max(start.max() + pd.Timedelta(days=width + 10), RELEASE + pd.Timedelta(days=180))
    ax.set_xlim(lo, hi)
    for a in (ax, axn):
        a.axvline(POST, color="#333", ls="--", lw=1)
        a.axvline(RELEASE, color="#333", ls=":", lw=1)
    ax.text(POST, 101, "2021 post ", ha="right", va="bottom", fontsize=8)
    ax.text(RELEASE, 101, " PyTorch 1.9", ha="left", va="bottom", fontsize=8)
    axn.xaxis.set_major_locator(mdates.YearLocator())
    axn.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_title(f"affected share by creation {unit}", loc="left", pad=14)
    _legend(ax, _stack_handles(grey) + [
        plt.Line2D([], [], color="#333", ls="--", lw=1, label="April 2021: the post"),
        plt.Line2D([], [], color="#333", ls=":", lw=1, label="June 2021: PyTorch 1.9")])
    key = table.columns[0]
    return _svg(fig, f"affected share by creation {unit}: " + "; ".join(
        f"{v}: {_pct(s)} of {n}" for v, s, n in zip(table[key], table["share"], table["with_workers"]) if n))


def recipe_chart(by_recipe: pd.DataFrame) -> Optional[str]:
    if by_recipe.empty:
        return None
    table = by_recipe.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(table) + 0.8))
    colours = [GOOD if w else STACK[0][2] for w in table["works"]]
    ax.barh(list(table["recipe"]), list(table["repositories"]), color=colours)
    for y, v in enumerate(table["repositories"]):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    ax.set_xlabel("repositories")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("how repositories with NumPy draws under workers reseed", loc="left")
    _legend(ax, [Patch(color=GOOD, label="works: per worker, per epoch"),
                 Patch(color=STACK[0][2], label="bug: repeats across workers or epochs")])
    return _svg(fig, "reseeding recipes: " + "; ".join(f"{r}: {n}" for r, n in
                                                       zip(by_recipe["recipe"], by_recipe["repositories"])))


def funnel_chart(funnel: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(8, 2.4))
    labels = list(funnel["step"])[::-1]
    values = list(funnel["repositories"])[::-1]
    ax.barh(labels, values, color=[STACK[0][2]] + [BLUE] * (len(values) - 1))
    for y, v in enumerate(values):
        ax.text(v, y, f" {v:,}", va="center", fontsize=8)
    ax.set_xlabel("repositories")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _svg(fig, "funnel: " + "; ".join(f"{s}: {v}" for s, v in zip(funnel["step"], funnel["repositories"])))
