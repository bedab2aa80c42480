"""The report as one self-contained HTML file: inline CSS, charts as inline SVG, no script, no network.

Everything that comes from a crawled repository (names, paths, code) is HTML-escaped here, in one place.
"""
from __future__ import annotations

import io
import math
from html import escape as _escape
from typing import List

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

plt.rcParams.update({"svg.fonttype": "path", "font.size": 9, "axes.spines.top": False, "axes.spines.right": False})

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1100px;
color:#1d2430;padding:0 1rem}h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #dde}
.headline{font-size:1.15rem;background:#f3f6fb;border-left:4px solid #c0392b;padding:.8rem 1rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0}td,th{border:1px solid #dde;padding:.25rem .5rem;
text-align:left;vertical-align:top;overflow-wrap:anywhere;max-width:40rem}th{background:#f3f6fb}figure{margin:.6rem 0}figure svg{max-width:100%;height:auto}
code{font-size:.8rem;background:#f6f6f6;padding:0 .2rem}.note{color:#555;font-size:.85rem}
"""
RED, GREY, BLUE = "#c0392b", "#95a5a6", "#2c6fbb"
# Bidirectional controls in a name or path would reorder what a reader sees ("Trojan Source"): shown as escapes.
_BIDI = {c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def escape(text: str) -> str:
    return _escape(str(text)).translate(_BIDI)


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def funnel_chart(funnel: pd.DataFrame) -> str:
    fig, ax = plt.subplots(figsize=(8, 2.6))
    labels = list(funnel["step"])[::-1]
    values = list(funnel["repositories"])[::-1]
    colors = [RED] + [BLUE] * (len(values) - 1)
    ax.barh(labels, values, color=colors)
    for y, v in enumerate(values):
        ax.text(v, y, f" {v}", va="center")
    ax.set_xlabel("repositories")
    return _svg(fig)


def share_chart(table: pd.DataFrame, key: str, title: str, markers: bool = False) -> str:
    fig, ax = plt.subplots(figsize=(8, 2.8))
    if table.empty:
        ax.text(0.5, 0.5, "no repositories with NumPy draws under workers", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _svg(fig)
    x = list(range(len(table)))
    share = table["share"].astype(float) * 100
    lo = (table["share"] - table["ci_low"]).astype(float) * 100
    hi = (table["ci_high"] - table["share"]).astype(float) * 100
    ax.bar(x, share, color=BLUE, alpha=.85, label="affected")
    still = table["still_affected_today"] / table["with_workers"] * 100
    ax.plot(x, still, "o", color=RED, label="still affected with today's torch")
    ax.errorbar(x, share, yerr=[lo, hi], fmt="none", ecolor="#333", capsize=3, lw=1)
    ax.set_xticks(x, [str(v) for v in table[key]], rotation=45 if len(x) > 8 else 0, ha="right" if len(x) > 8 else "center")
    ax.set_ylim(0, 105)
    ax.set_ylabel("% of repositories")
    ax.set_title(title, loc="left")
    if markers:
        keys = [str(v) for v in table[key]]
        for label, mark in (("study (Apr 2021)", "2021Q2"), ("PyTorch 1.9 (Jun 2021)", "2021Q2")):
            if mark in keys:
                i = keys.index(mark)
                ax.axvline(i, color=RED if "study" in label else "#555", ls="--", lw=1)
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    return _svg(fig)


def count_chart(table: pd.DataFrame, key: str, value: str, title: str) -> str:
    fig, ax = plt.subplots(figsize=(8, 2.4))
    if table.empty:
        ax.text(0.5, 0.5, "none", ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        return _svg(fig)
    ax.barh([str(v) for v in table[key]][::-1], list(table[value])[::-1], color=BLUE)
    ax.set_title(title, loc="left")
    ax.set_xlabel("repositories")
    return _svg(fig)


def table_html(df: pd.DataFrame, pct=("share", "ci_low", "ci_high", "share_of_scanned", "share_of_previous")) -> str:
    shown = df.copy()
    for col in pct:
        if col in shown:
            shown[col] = shown[col].map(_pct)
    for col in shown.columns:
        if not pd.api.types.is_numeric_dtype(shown[col]):
            shown[col] = shown[col].map(lambda v: v.translate(_BIDI) if isinstance(v, str) else v)
    return shown.to_html(index=False, escape=True, border=0, na_rep="–")


AFFECTED_ROWS = 500  # the page lists the most-starred; findings.csv has them all


def _evidence(x) -> str:
    seed = f'; seed <code>{escape(x.seed)}</code>' if x.seed else ""
    return (f'<a href="{escape(x.url)}">{escape(x.path)}:{int(x.line)}</a> {escape(x.code)} '
            f'<code>{escape(x.rng_call.split(": ", 1)[-1])}</code> in {escape(x.dataset)}; '
            f'num_workers {escape(x.num_workers)}{seed}')


def affected_table(report) -> str:
    bug = report.repos[report.repos["verdict"].isin(("affected", "flawed-seed"))]
    total = len(bug)
    bug = bug.sort_values(["stars", "repo"], ascending=[False, True]).head(AFFECTED_ROWS)
    f = report.findings
    f = f[f["repo"].isin(set(bug["repo"]))]
    f = f.merge(bug[["repo", "verdict"]], on=["repo", "verdict"])
    evidence = {repo: "<br>".join(_evidence(x) for x in part.head(3).itertuples())
                for repo, part in f.groupby("repo", sort=False)}
    rows: List[str] = []
    for r in bug.itertuples():
        rows.append(f"<tr><td>{escape(r.repo)}</td><td>{escape(r.verdict)}</td><td>{escape(r.rng_kind)}</td>"
                    f"<td>{escape(r.effective)}</td><td>{int(r.stars)}</td><td>{evidence.get(r.repo, '')}</td></tr>")
    if total > len(bug):
        rows.append(f"<tr><td colspan='6'>… and {total - len(bug)} more in findings.csv</td></tr>")
    head = "<tr><th>repository</th><th>verdict</th><th>RNG</th><th>still affected today</th><th>stars</th>" \
           "<th>evidence (first findings)</th></tr>"
    return f"<table id='affected'>{head}{''.join(rows)}</table>"


def render(report) -> str:
    h = report.headline
    t = report.tables
    head = (f"<p class='headline' id='headline'>Of <b>{h['with_workers']}</b> repositories that define a custom "
            f"Dataset, draw NumPy randomness on its per-sample path and load it with worker processes, "
            f"<b>{h['affected']}</b> (<b>{_pct(h['share'])}</b>, 95% CI {_pct(h['ci_low'])}–{_pct(h['ci_high'])}) "
            f"repeat the same random numbers across workers or epochs; <b>{h['still_affected_today']}</b> still do "
            f"with today's torch. {h['scanned']} repositories scanned.</p>")
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "img-src data:\">",
        f"<title>survey: NumPy randomness in DataLoader workers</title><style>{CSS}</style></head><body>",
        "<h1>Identical NumPy random numbers in PyTorch DataLoader workers</h1>", head,
        "<h2>The funnel</h2>", f"<figure id='funnel-chart'>{funnel_chart(t['funnel'])}</figure>",
        table_html(t["funnel"]),
        "<h2>Copies counted once</h2><p class='note'>Forks and Datasets whose per-sample code is identical in several "
        "repositories (copied from a tutorial, say) inflate a prevalence figure; here they count once.</p>",
        table_html(t["collapsed"]),
        "<h2>Over time</h2><p class='note'>Dashed line: 2021Q2, when the study was published (April 2021) "
        "and PyTorch 1.9 began reseeding NumPy's global RNG in each worker (June 2021).</p>",
        f"<figure id='quarter-chart'>{share_chart(t['by_quarter'], 'created_quarter', 'affected share by creation quarter', True)}</figure>",
        table_html(t["by_year"]),
        "<h2>By popularity</h2>",
        f"<figure id='stars-chart'>{share_chart(t['by_stars'], 'stars', 'affected share by stars')}</figure>",
        "<h2>Global RNG or RNG objects</h2>",
        f"<figure id='kind-chart'>{share_chart(t['by_rng_kind'], 'rng_kind', 'affected share by RNG kind')}</figure>",
        "<h2>By torch pin</h2><p class='note'>PyTorch 1.9 reseeds NumPy's global RNG in each worker; "
        "RNG objects and flawed reseeds stay affected on every version.</p>",
        f"<figure id='pin-chart'>{share_chart(t['by_torch_pin'], 'torch_pin', 'affected share by torch pin')}</figure>",
        "<h2>Reseeding recipes</h2>",
        f"<figure id='recipe-chart'>{count_chart(t['by_recipe'], 'recipe', 'repositories', 'how repositories reseed')}</figure>",
        table_html(t["by_recipe"]),
        "<h2>Still affected with today's torch</h2>", table_html(t["effective"]),
        "<h2>Affected repositories</h2>", affected_table(report),
        "<p class='note'>Generated by survey from a local catalog. Links point at the analysed commit.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
