"""Survey reports: pandas tables from the catalog, written as tidy CSVs and as one self-contained HTML page.

The headline follows the 2021 study's question: of the repositories that define a custom Dataset, draw
NumPy randomness on its per-sample path and load it with worker processes, what share has the bug
(``affected`` or ``flawed-seed``)? Shares carry 95% Wilson intervals.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

import pandas as pd

from ..analysis.pins import admits
from .catalog import Provenance, code_urls, load, web_base
from .shares import BUG, WITH_WORKERS, wilson
from .then_now import then_now_tables

DRAWS = WITH_WORKERS + ("single-process",)
DATASET = DRAWS + ("clean",)
# worst first: a repository's recipe is the worst one among its loaders
RECIPES = {
    "SRV101": "no reseed", "SRV102": "no reseed", "SRV201": "constant seed", "SRV202": "worker_id seed",
    "SRV203": "get_state()[1][0] seed", "SRV204": "reseeds random/torch only", "SRV205": "reseeds global, draws object",
    "SRV206": "seeded by sample index", "SRV301": "per-worker, per-epoch reseed",
}
GOOD_RECIPES = ("per-worker, per-epoch reseed",)
STAR_BINS = [-1, 0, 9, 99, 999, float("inf")]
STAR_LABELS = ["0", "1-9", "10-99", "100-999", "1000+"]
UNKNOWN = "unknown"
LOCATION = re.compile(r"(?P<path>[^\n]+?):(?P<line>\d+): (?P<code>.*)", re.S)
MIN_N = 10  # groups with fewer repositories are greyed in the charts: their interval spans most of the axis


def pin_era(pin: str) -> str:
    if not pin:
        return "not pinned"
    eras = set()
    for spec in pin.split("; "):
        try:
            old, new = admits(spec)
        except Exception:  # an unreadable specifier says nothing about the era
            return "mixed"
        eras.add("< 1.9 only" if old and not new else ">= 1.9 only" if new and not old else "mixed")
    return eras.pop() if len(eras) == 1 else "mixed"


def funnel(repos: pd.DataFrame) -> pd.DataFrame:
    v = repos["verdict"]
    steps = [
        ("repositories classified", len(repos)),
        ("define a custom Dataset", int(v.isin(DATASET).sum())),
        ("draw NumPy randomness on a per-sample path", int(v.isin(DRAWS).sum())),
        ("load it with workers > 0", int(v.isin(WITH_WORKERS).sum())),
        ("affected (no or flawed reseed)", int(v.isin(BUG).sum())),
    ]
    df = pd.DataFrame(steps, columns=["step", "repositories"])
    df["share_of_classified"] = df["repositories"] / max(len(repos), 1)
    df["share_of_previous"] = df["repositories"] / df["repositories"].shift(1).replace(0, math.nan)
    return df


def _counts(part: pd.DataFrame) -> Dict[str, float]:
    n, k = len(part), int(part["verdict"].isin(BUG).sum())
    p, lo, hi = wilson(k, n)
    eff = part.loc[part["verdict"].isin(BUG), "effective"]
    return {"with_workers": n, "affected": k, "share": p, "ci_low": lo, "ci_high": hi,
            "effective_yes": int((eff == "yes").sum()), "effective_unknown": int((eff == "unknown").sum()),
            "effective_no": int((eff == "no").sum())}


SHARE_COLUMNS = ["with_workers", "affected", "share", "ci_low", "ci_high", "effective_yes", "effective_unknown",
                 "effective_no"]


def share_by(repos: pd.DataFrame, key: pd.Series, name: str, order=None) -> pd.DataFrame:
    """Per group: repositories with NumPy draws under workers, how many have the bug, share and 95% CI, and
    how many of those show the bug with their pinned torch. ``order`` lists groups to keep even when empty."""
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    groups = key.loc[base.index].astype(str)
    found = {g: _counts(part) for g, part in base.groupby(groups, sort=True)}
    keys = list(order) if order is not None else sorted(found)
    keys += [g for g in sorted(found) if g not in keys]  # "unknown" and the like, after the ordered groups
    rows = [{name: g, **found.get(g, _counts(base.iloc[:0]))} for g in keys]
    return pd.DataFrame(rows, columns=[name] + SHARE_COLUMNS)


def headline(repos: pd.DataFrame) -> Dict[str, float]:
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    return {"classified": len(repos), **_counts(base)}


def copy_groups(repos: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """Each repository's copy group: repositories whose Datasets have the same set of per-sample code
    fingerprints share one, named after its representative (non-forks first, then the oldest, then by name,
    the likeliest original). A repository without fingerprints is its own group."""
    sets: Dict[str, set] = {}
    for repo, fingerprint in zip(findings["repo"].tolist(), findings["fingerprint"].tolist()):
        if fingerprint:
            sets.setdefault(repo, set()).add(fingerprint)
    prints = {repo: ",".join(sorted(s)) for repo, s in sets.items()}
    key = pd.Series([prints.get(r, "repo:" + r) for r in repos["repo"].tolist()], index=repos.index, dtype=object)
    ranked = repos.assign(_key=key, _fork=repos["fork"].fillna(False).astype(bool)) \
        .sort_values(["_fork", "created_at", "repo"], na_position="last")
    representative = ranked.drop_duplicates("_key").set_index("_key")["repo"]
    return key.map(representative)


def collapsed(repos: pd.DataFrame) -> pd.DataFrame:
    """The headline three ways: all repositories, forks excluded, and copies of the same per-sample code
    counted once (forks excluded too; the oldest copy stands for its group)."""
    no_forks = repos[~repos["fork"].fillna(False).astype(bool)]
    deduped = no_forks.sort_values(["created_at", "repo"], na_position="last").drop_duplicates("copy_group")
    rows = [{"population": label, **headline(frame)} for label, frame in (
        ("all repositories", repos), ("forks excluded", no_forks),
        ("forks excluded, copied Datasets counted once", deduped))]
    return pd.DataFrame(rows)


def repo_recipes(repos: pd.DataFrame, findings: pd.DataFrame) -> pd.Series:
    """Each repository's worst (re)seeding recipe, for repositories with NumPy draws under workers."""
    base = set(repos.loc[repos["verdict"].isin(WITH_WORKERS), "repo"])
    f = findings[findings["repo"].isin(base) & findings["code"].isin(list(RECIPES))]
    order = list(RECIPES)
    worst = f.assign(rank=f["code"].map(order.index)).sort_values("rank").drop_duplicates("repo")
    return repos["repo"].map(worst.set_index("repo")["code"].map(RECIPES)).fillna("")


PAIRINGS = ["construction site", "class", "untraced"]


def pairings(repos: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """How the headline verdicts rest on the analysis: per affected or flawed-seed repository, the best way
    one of its deciding findings was paired with its loader (traced to the call that built the dataset, to
    the class only, or not traced and paired with every dataset)."""
    bug = repos.loc[repos["verdict"].isin(BUG), ["repo", "verdict"]]
    f = findings.reindex(columns=["repo", "verdict", "pairing"]).merge(bug, on=["repo", "verdict"])
    rank = {p: i for i, p in enumerate(PAIRINGS)}
    best = f.assign(r=f["pairing"].map(rank).fillna(len(PAIRINGS))).groupby("repo")["r"].min()
    counts = best.map(dict(enumerate(PAIRINGS))).fillna("no loader").value_counts()
    df = counts.reindex(PAIRINGS + ["no loader"], fill_value=0).rename_axis("pairing").reset_index(name="repositories")
    df["share"] = df["repositories"] / max(len(bug), 1)
    return df


def recipes(repos: pd.DataFrame) -> pd.DataFrame:
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    counts = base.loc[base["recipe"] != "", "recipe"].value_counts()
    df = counts.rename_axis("recipe").reset_index(name="repositories")
    df["share"] = df["repositories"] / max(len(base), 1)
    df["works"] = df["recipe"].isin(GOOD_RECIPES)
    return df


def _workers(text: str):
    """The largest worker count a num_workers evidence text resolves to ("workers default 16, 4" -> 16), or
    None when any value is unresolved or the CPU count."""
    counts = []
    for item in text.split(", "):
        m = re.fullmatch(r"(?:.* default )?(\d+)", item.strip())
        if not m:
            return None
        counts.append(int(m.group(1)))
    return max(counts) if counts else None


def _location(text: str):
    """("path", line, "code") from the analyser's "path:line: code" evidence; ("", None, text) otherwise."""
    m = LOCATION.match(text)
    return (m["path"], int(m["line"]), m["code"]) if m else ("", None, text)


def tidy_findings(findings: pd.DataFrame, repos: pd.DataFrame, base: str) -> pd.DataFrame:
    """One row per finding, each location split into path and line (and column where the analyser gives it)."""
    f = findings.copy()
    for prefix, column in (("draw", "rng_call"), ("loader", "loader"), ("seed", "seed")):
        texts = f[column].astype(str).tolist()
        parsed = {t: _location(t) for t in set(texts)}
        path, line, code = zip(*map(parsed.__getitem__, texts)) if texts else ((), (), ())
        f[f"{prefix}_path"] = pd.Series(path, index=f.index, dtype=object)
        f[f"{prefix}_line"] = pd.Series(line, index=f.index, dtype="Int64")
        f[f"{prefix}_code"] = pd.Series(code, index=f.index, dtype=object)
    at_draw = (f["draw_path"] == f["path"]) & (f["draw_line"] == f["line"])
    f["draw_col"] = f["col"].where(at_draw).astype("Int64")
    lookup = {t: _workers(t) for t in f["num_workers"].unique()}
    f["num_workers_evidence"] = f["num_workers"]
    f["num_workers"] = f["num_workers"].map(lookup).astype("Int64")
    f["recipe"] = f["code"].map(RECIPES).fillna("")
    f["line"] = pd.to_numeric(f["line"], errors="coerce").astype("Int64")
    f["col"] = pd.to_numeric(f["col"], errors="coerce").astype("Int64")
    f["url"] = code_urls(base, f)
    for flag in ("vendored", "unreachable", "in_tests"):  # 0/1 in the catalog, empty in one written before them
        f[flag] = pd.to_numeric(f.get(flag, pd.Series(index=f.index, dtype=float)), errors="coerce") \
            .map({0: False, 1: True}).astype(object)
    return f.reindex(columns=FINDING_COLUMNS)


FINDING_COLUMNS = ["repo", "commit", "code", "verdict", "recipe", "path", "line", "col", "dataset", "rng_kind",
                   "draw_path", "draw_line", "draw_col", "draw_code", "loader_path", "loader_line", "loader_code",
                   "num_workers", "num_workers_evidence", "worker_init_fn", "seed_path", "seed_line", "seed_code",
                   "fingerprint", "pairing", "vendored", "unreachable", "in_tests", "url"]
REPO_COLUMNS = ["repo", "commit", "verdict", "recipe", "rng_kind", "effective", "torch_pin", "torch_era", "copy_group",
                "copies", "stars", "forks", "created_at", "pushed_at", "fork", "archived", "license", "findings",
                "errors", "classified_at", "tool_version", "source", "fetched_at"]


def time_groups(created: pd.Series) -> Tuple[pd.Series, pd.Series, list, list]:
    """Creation quarter and year of each repository ("unknown" without a date), and every quarter and year
    from the first to the last date, so empty ones are kept."""
    naive = created.dt.tz_convert(None)
    quarter = naive.dt.to_period("Q").astype(str).where(naive.notna(), UNKNOWN)
    year = naive.dt.year.astype("Int64").astype(str).where(naive.notna(), UNKNOWN)
    if naive.notna().any():
        quarters = [str(q) for q in pd.period_range(naive.min().to_period("Q"), naive.max().to_period("Q"), freq="Q")]
        years = [str(y) for y in range(int(naive.dt.year.min()), int(naive.dt.year.max()) + 1)]
    else:
        quarters, years = [], []
    return quarter, year, quarters, years


@dataclass
class Report:
    repos: pd.DataFrame
    findings: pd.DataFrame
    tables: Dict[str, pd.DataFrame]
    headline: Dict[str, float]
    provenance: Provenance
    base_url: str = "https://github.com"


def build(db: Path) -> Report:
    repos, findings, prov = load(db)
    sources = [s for s in repos["source"].unique() if s and s != "local"]
    base = web_base(sources[0]) if len(sources) == 1 else "https://github.com"
    repos["recipe"] = repo_recipes(repos, findings)
    repos["torch_era"] = repos["torch_pin"].map({pin: pin_era(pin) for pin in repos["torch_pin"].unique()})
    repos["copy_group"] = copy_groups(repos, findings)
    repos["copies"] = repos.groupby("copy_group")["repo"].transform("size")
    repos = repos.reindex(columns=REPO_COLUMNS)
    quarter, year, quarters, years = time_groups(repos["created_at"])
    stars = pd.cut(repos["stars"].astype(float), STAR_BINS, labels=STAR_LABELS).astype(str) \
        .where(repos["stars"].notna(), UNKNOWN)
    kind = repos["rng_kind"].replace("", "none")
    tables = {
        "funnel": funnel(repos),
        "by_year": share_by(repos, year, "created_year", years),
        "by_quarter": share_by(repos, quarter, "created_quarter", quarters),
        "by_stars": share_by(repos, stars, "stars", STAR_LABELS if repos["stars"].notna().any() else []),
        "by_rng_kind": share_by(repos, kind, "rng_kind"),
        "by_torch_pin": share_by(repos, repos["torch_era"], "torch_pin",
                                 ["< 1.9 only", "mixed", ">= 1.9 only", "not pinned"]),
        "by_recipe": recipes(repos),
        "by_pairing": pairings(repos, findings),
        "effective": repos[repos["verdict"].isin(BUG)]["effective"].value_counts()
        .reindex(["yes", "unknown", "no"], fill_value=0).rename_axis("effective").reset_index(name="repositories"),
        "collapsed": collapsed(repos),
        **then_now_tables(db),
    }
    return Report(repos, tidy_findings(findings, repos, base), tables, headline(repos), prov, base)
