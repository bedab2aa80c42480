"""The report as one self-contained HTML page (inline CSS, charts as inline SVG, no script, no network),
rendered from a Jinja2 template with autoescaping: every string from a crawled repository (names, paths,
code) is escaped by the template engine, and only our own SVG is marked safe.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List

import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from . import charts
from .catalog import code_url
from .study import DIFFERENCES, STUDY, comparison_rows, comparison_sentence
from .tables import BUG, GOOD_RECIPES, MIN_N, UNKNOWN

AFFECTED_ROWS = 200   # repositories listed on the page; repos.csv and findings.csv hold them all
EVIDENCE_ROWS = 2     # findings shown per repository

VERDICTS = [
    ("affected", "a Dataset's per-sample path draws NumPy randomness, a loader with num_workers that can be > 0 "
                 "loads it, and nothing reseeds that RNG per worker"),
    ("flawed-seed", "a reseed exists but does not help: a constant, worker_id-based (repeats every epoch), "
                    "get_state()[1][0], the sample index, or it seeds another RNG than the one drawn"),
    ("seeded", "every such loader reseeds the RNG the dataset uses from a per-worker, per-epoch source, or the RNG "
               "is created inside the worker"),
    ("single-process", "NumPy randomness on a per-sample path, but no loader of it has worker processes"),
    ("clean", "custom Datasets, but no NumPy draw on their per-sample paths"),
    ("no-dataset", "no custom torch Dataset"),
]


@dataclass(frozen=True)
class Col:
    key: str
    label: str
    fmt: str = "text"   # text | int | pct | ci (the interval from ci_low and ci_high)

    @property
    def numeric(self) -> bool:
        return self.fmt != "text"


def _missing(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def pct(x) -> str:
    return "–" if _missing(x) else f"{100 * x:.1f}%"


def num(x) -> str:
    return "–" if _missing(x) else f"{int(x):,}"


def cells(df: pd.DataFrame, cols: List[Col]) -> List[List[str]]:
    rows = []
    for r in df.to_dict("records"):
        row = []
        for c in cols:
            if c.fmt == "ci":
                row.append("–" if _missing(r["ci_low"]) else f"{pct(r['ci_low'])}–{pct(r['ci_high'])}")
            elif c.fmt == "pct":
                row.append(pct(r[c.key]))
            elif c.fmt == "int":
                row.append(num(r[c.key]))
            else:
                row.append("–" if _missing(r[c.key]) else str(r[c.key]))
        rows.append(row)
    return rows


SHARE_COLS = [Col("with_workers", "n (draws under workers)", "int"), Col("affected", "affected", "int"),
              Col("share", "share affected", "pct"), Col("ci", "95% CI", "ci"),
              Col("effective_yes", "shows with pinned torch", "int"),
              Col("effective_unknown", "torch not pinned", "int"), Col("effective_no", "pins ≥ 1.9 only", "int")]
TABLES = {
    "funnel": [Col("step", "step"), Col("repositories", "repositories", "int"),
               Col("share_of_classified", "of classified", "pct"), Col("share_of_previous", "of previous step", "pct")],
    "collapsed": [Col("population", "population"), Col("classified", "classified", "int")] + SHARE_COLS[:4],
    "by_year": [Col("created_year", "created")] + SHARE_COLS,
    "by_quarter": [Col("created_quarter", "created")] + SHARE_COLS,
    "by_stars": [Col("stars", "stars")] + SHARE_COLS,
    "by_rng_kind": [Col("rng_kind", "RNG")] + SHARE_COLS,
    "by_torch_pin": [Col("torch_pin", "torch pins admit")] + SHARE_COLS,
    "by_recipe": [Col("recipe", "recipe"), Col("repositories", "repositories", "int"),
                  Col("share", "of draws under workers", "pct")],
    "effective": [Col("effective", "bug shows with the pinned torch"), Col("repositories", "repositories", "int")],
    "by_pairing": [Col("pairing", "loader paired with its dataset by"), Col("repositories", "repositories", "int"),
                   Col("share", "of affected and flawed-seed", "pct")],
}


def _workers_phrase(evidence: str) -> str:
    parts = []
    for item in [i for i in evidence.split(", ") if i]:
        key, sep, value = item.partition(" default ")
        if sep:
            parts.append(f"{value} (default of {key})")
        elif item.startswith("unresolved"):
            parts.append(f"unresolved ({item[len('unresolved '):] or 'unknown'})")
        else:
            parts.append("the CPU count" if item == "CPU count" else item)
    return " or ".join(parts) if parts else "unknown"


def _evidence(report, f) -> dict:
    def loc(path, line):
        return {"text": f"{path}:{line}" if path else "", "url": code_url(report.base_url, f["repo"], f["commit"],
                                                                           path, line if not _missing(line) else 0)}
    return {"recipe": f["recipe"], "code": f["code"], "draw": f["draw_code"], "dataset": f["dataset"],
            "draw_at": loc(f["draw_path"], f["draw_line"]), "loader_at": loc(f["loader_path"], f["loader_line"]),
            "workers": _workers_phrase(f["num_workers_evidence"]), "seed": f["seed_code"],
            "seed_at": loc(f["seed_path"], f["seed_line"]), "init": f["worker_init_fn"]}


def affected_groups(report):
    """Affected repositories grouped by copy group, groups ordered by their most-starred member then name,
    members by stars then name; capped at AFFECTED_ROWS repositories."""
    bug = report.repos[report.repos["verdict"].isin(BUG)].assign(_stars=lambda d: d["stars"].fillna(-1))
    top = bug.groupby("copy_group")["_stars"].transform("max")
    bug = bug.assign(_top=top).sort_values(["_top", "copy_group", "_stars", "repo"],
                                           ascending=[False, True, False, True])
    shown = bug.head(AFFECTED_ROWS)
    f = report.findings
    f = f[f["repo"].isin(set(shown["repo"]))].merge(shown[["repo", "verdict"]], on=["repo", "verdict"])
    # two draws of one Dataset under one loader are one problem: a phrase each would repeat itself
    f = f.drop_duplicates(["repo", "code", "dataset", "loader_path", "loader_line", "seed_code"])
    evidence: Dict[str, list] = {}
    for x in f.to_dict("records"):
        if len(evidence.setdefault(x["repo"], [])) < EVIDENCE_ROWS:
            evidence[x["repo"]].append(_evidence(report, x))
    by_group: Dict[str, list] = {}
    for r in shown.to_dict("records"):
        by_group.setdefault(r["copy_group"], []).append(r)
    groups = []
    for group, part in by_group.items():
        members = [{"repo": r["repo"], "verdict": r["verdict"], "rng_kind": r["rng_kind"], "effective": r["effective"],
                    "stars": num(r["stars"]), "fork": bool(r["fork"]) if not _missing(r["fork"]) else False,
                    "url": f"{report.base_url}/{r['repo']}" if code_url(report.base_url, r["repo"], r["commit"],
                                                                          "x", 0) else "",
                    "evidence": evidence.get(r["repo"], [])} for r in part]
        groups.append({"name": group, "copies": int(part[0]["copies"]), "members": members})
    return groups, len(bug), len(shown)


def methods(report) -> dict:
    p, r = report.provenance, report.repos
    crawls, runs = [], {}
    for c in p.crawls:  # a resumed crawl records its run again: one line per corpus definition
        key = tuple(c[k] for k in ("source", "query", "created_from", "created_to", "min_stars", "include_forks"))
        runs.setdefault(key, []).append(c)
    for same in runs.values():
        c = same[0]
        again = f" (run {len(same)} times, last {same[-1]['started_at'][:10]})" if len(same) > 1 else ""
        if str(c["source"]).startswith("folder "):
            crawls.append(f"local checkouts registered from {c['source'][7:]} on {c['started_at'][:10]}{again}")
        else:
            forks = "forks included" if c["include_forks"] else "forks left out"
            stars = f", at least {c['min_stars']} stars" if c["min_stars"] else ""
            crawls.append(f"GitHub search at {c['source']} for “{(c['query'] + ' ').lstrip()}language:Python”, "
                          f"created {c['created_from']}..{c['created_to']}{stars}, {forks}; started "
                          f"{c['started_at'][:10]}{again} (survey {c['tool_version']})")
    known = {"stars": int(r["stars"].notna().sum()), "created": int(r["created_at"].notna().sum()),
             "fork": int(r["fork"].notna().sum())}
    counts = [("discovered (in the catalog)", p.discovered), ("downloaded", p.downloaded),
              ("failed to download", p.statuses.get("failed", 0)), ("classified", len(r)),
              ("classified with files that could not be analysed", p.with_errors)]
    return {"crawls": crawls, "windows": p.windows, "dates": p.dates, "counts": counts, "failures": p.failures,
            "versions": p.tool_versions, "known": known, "verdicts": VERDICTS, "n": len(r)}


# Bidirectional controls in a name or path would reorder what a reader sees ("Trojan Source"): shown as escapes.
_BIDI = {c: f"\\u{c:04x}" for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


def _no_bidi(value):
    if isinstance(value, Markup):  # our own SVG and markup, built from escaped parts
        return value
    return value.translate(_BIDI) if isinstance(value, str) else value


def _env() -> Environment:
    env = Environment(loader=PackageLoader("survey.report", "templates"), autoescape=True, trim_blocks=True,
                      lstrip_blocks=True, finalize=_no_bidi)
    env.filters.update(pct=pct, num=num)
    return env


def render(report) -> str:
    t = report.tables
    tables = {name: {"cols": cols, "rows": cells(t[name], cols)} for name, cols in TABLES.items()}
    known_dates = report.repos["created_at"].notna()
    known_stars = report.repos["stars"].notna()
    svg = {
        "funnel": charts.funnel_chart(t["funnel"]),
        "time": charts.time_chart(t["by_quarter"], t["by_year"]) if known_dates.any() else None,
        "stars": charts.share_chart(t["by_stars"], "stars", "affected share by stars") if known_stars.any() else None,
        "kind": charts.share_chart(t["by_rng_kind"], "rng_kind", "affected share by RNG kind"),
        "pin": charts.share_chart(t["by_torch_pin"], "torch_pin", "affected share by what the torch pins admit"),
        "recipe": charts.recipe_chart(t["by_recipe"]),
    }
    groups, total, shown = affected_groups(report)
    return _env().get_template("report.html.j2").render(
        h=report.headline, tables=tables, svg={k: Markup(v) if v else None for k, v in svg.items()},
        comparison=comparison_rows(report.headline), sentence=comparison_sentence(report.headline),
        differences=DIFFERENCES, study=STUDY, methods=methods(report), groups=groups, total=total, shown=shown,
        min_n=MIN_N, unknown=UNKNOWN, good=GOOD_RECIPES,
        unknown_dates=int((~known_dates).sum()), unknown_stars=int((~known_stars).sum()),
        unknown_forks=int(report.repos["fork"].isna().sum()))
