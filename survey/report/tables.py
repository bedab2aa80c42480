"""Survey reports: pandas tables from the catalog, written as CSV and as one self-contained HTML page.

The headline follows the 2021 study's question: of the repositories that define a custom Dataset, draw
NumPy randomness on its per-sample path and load it with worker processes, what share has the bug
(``affected`` or ``flawed-seed``)? Shares carry 95% Wilson intervals.
"""
from __future__ import annotations

import math
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Tuple

import pandas as pd

from ..analysis.pins import admits

BUG = ("affected", "flawed-seed")
WITH_WORKERS = ("affected", "flawed-seed", "seeded")
DRAWS = WITH_WORKERS + ("single-process",)
DATASET = DRAWS + ("clean",)
RECIPES = {
    "SRV101": "no reseed", "SRV102": "no reseed", "SRV201": "constant seed", "SRV202": "worker_id seed",
    "SRV203": "get_state()[1][0] seed", "SRV204": "reseeds random/torch only", "SRV205": "reseeds global, draws object",
    "SRV206": "seeded by sample index", "SRV301": "per-worker, per-epoch reseed",
}
STAR_BINS = [-1, 0, 9, 99, 999, float("inf")]
STAR_LABELS = ["0", "1-9", "10-99", "100-999", "1000+"]


def wilson(k: int, n: int, z: float = 1.96) -> Tuple[float, float, float]:
    """Share k/n with its Wilson score interval; NaNs when n is 0."""
    if n == 0:
        return (math.nan, math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (p, max(0.0, centre - half), min(1.0, centre + half))


def load(db: Path) -> Tuple[pd.DataFrame, pd.DataFrame]:
    """Classified repositories (one row each) and their findings."""
    uri = Path(db).resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        con.execute("SELECT 1 FROM repos LIMIT 1")
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise
        # a WAL catalog in a read-only folder: its -shm file cannot be made, so it is read as immutable
        con = sqlite3.connect(f"{uri}?immutable=1", uri=True)
    try:
        repos = pd.read_sql_query(
            "SELECT r.full_name AS repo, v.commit_sha AS \"commit\", v.verdict, v.rng_kind, v.effective, v.torch_pin,"
            " r.stars, r.forks, r.created_at, r.fork, r.license, v.findings, v.errors"
            " FROM repos r JOIN verdicts v ON v.repo = r.full_name ORDER BY r.full_name", con)
        findings = pd.read_sql_query(
            "SELECT f.*, v.commit_sha AS \"commit\" FROM findings f JOIN verdicts v ON v.repo = f.repo"
            " ORDER BY f.repo, f.path, f.line", con)
    finally:
        con.close()
    repos["stars"] = repos["stars"].fillna(0).astype(int)
    repos["fork"] = repos["fork"].fillna(0).astype(bool)
    repos["created_at"] = pd.to_datetime(repos["created_at"], errors="coerce", utc=True)
    repos = repos.fillna({"rng_kind": "", "torch_pin": "", "license": ""})
    findings = findings.fillna("")
    return repos, findings


def github_url(repo: str, commit: str, path: str, line: int) -> str:
    return f"https://github.com/{repo}/blob/{commit}/{path}#L{int(line)}"


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
        ("repositories scanned", len(repos)),
        ("define a custom Dataset", int(v.isin(DATASET).sum())),
        ("draw NumPy randomness on a per-sample path", int(v.isin(DRAWS).sum())),
        ("load it with workers > 0", int(v.isin(WITH_WORKERS).sum())),
        ("affected (no or flawed reseed)", int(v.isin(BUG).sum())),
    ]
    df = pd.DataFrame(steps, columns=["step", "repositories"])
    df["share_of_scanned"] = df["repositories"] / max(len(repos), 1)
    df["share_of_previous"] = df["repositories"] / df["repositories"].shift(1).replace(0, math.nan)
    return df


def share_by(repos: pd.DataFrame, key: pd.Series, name: str) -> pd.DataFrame:
    """Per group: repositories with NumPy draws under workers, how many have the bug, share and 95% CI."""
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    groups = key.loc[base.index]
    rows = []
    for group, part in base.groupby(groups, sort=True, observed=True):
        n, k = len(part), int(part["verdict"].isin(BUG).sum())
        p, lo, hi = wilson(k, n)
        still = int((part["effective"] == "yes").sum())
        rows.append({name: group, "with_workers": n, "affected": k, "share": p, "ci_low": lo, "ci_high": hi,
                     "still_affected_today": still})
    return pd.DataFrame(rows, columns=[name, "with_workers", "affected", "share", "ci_low", "ci_high",
                                       "still_affected_today"])


def headline(repos: pd.DataFrame) -> Dict[str, float]:
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    k = int(base["verdict"].isin(BUG).sum())
    p, lo, hi = wilson(k, len(base))
    return {"scanned": len(repos), "with_workers": len(base), "affected": k, "share": p, "ci_low": lo, "ci_high": hi,
            "still_affected_today": int((base["effective"] == "yes").sum())}


def collapsed(repos: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """The headline three ways: all repositories, forks excluded, and copies of the same per-sample code
    counted once (forks excluded too)."""
    prints = findings[findings["fingerprint"] != ""].groupby("repo")["fingerprint"] \
        .agg(lambda s: ",".join(sorted(set(s))))
    no_forks = repos[~repos["fork"]]
    keyed = no_forks.assign(copy_key=no_forks["repo"].map(prints).fillna(no_forks["repo"]))
    # one representative per copy group: the oldest repository, the likeliest original
    keyed = keyed.sort_values("created_at", na_position="last")
    deduped = keyed.drop_duplicates("copy_key", keep="first")
    rows = []
    for label, frame in (("all repositories", repos), ("forks excluded", no_forks),
                         ("forks excluded, copied Datasets counted once", deduped)):
        h = headline(frame)
        rows.append({"population": label, **h})
    return pd.DataFrame(rows)


def recipes(repos: pd.DataFrame, findings: pd.DataFrame) -> pd.DataFrame:
    """How repositories with NumPy draws under workers (re)seed: each repository's worst recipe."""
    base = set(repos.loc[repos["verdict"].isin(WITH_WORKERS), "repo"])
    f = findings[findings["repo"].isin(base) & findings["code"].isin(list(RECIPES))]
    order = list(RECIPES)
    worst = f.assign(rank=f["code"].map(order.index)).sort_values("rank").drop_duplicates("repo")
    counts = worst["code"].map(RECIPES).value_counts()
    df = counts.rename_axis("recipe").reset_index(name="repositories")
    df["share"] = df["repositories"] / max(len(base), 1)
    return df


@dataclass
class Report:
    repos: pd.DataFrame
    findings: pd.DataFrame
    tables: Dict[str, pd.DataFrame]
    headline: Dict[str, float]


def build(db: Path) -> Report:
    repos, findings = load(db)
    year = repos["created_at"].dt.year.astype("Int64").astype(str).replace("<NA>", "unknown")
    quarter = repos["created_at"].dt.tz_convert(None).dt.to_period("Q").astype(str).replace("NaT", "unknown")
    stars = pd.cut(repos["stars"], STAR_BINS, labels=STAR_LABELS)
    kind = repos["rng_kind"].replace("", "none")
    era = repos["torch_pin"].map(pin_era)
    if len(findings):
        findings["url"] = [github_url(r, c, p, ln) for r, c, p, ln in
                           zip(findings["repo"], findings["commit"], findings["path"], findings["line"])]
    else:
        findings["url"] = pd.Series(dtype=str)
    tables = {
        "funnel": funnel(repos),
        "by_year": share_by(repos, year, "created_year"),
        "by_quarter": share_by(repos, quarter, "created_quarter"),
        "by_stars": share_by(repos, stars, "stars"),
        "by_rng_kind": share_by(repos, kind, "rng_kind"),
        "by_torch_pin": share_by(repos, era, "torch_pin"),
        "by_recipe": recipes(repos, findings),
        "effective": repos[repos["verdict"].isin(BUG)]["effective"].value_counts()
        .rename_axis("effective").reset_index(name="repositories"),
        "collapsed": collapsed(repos, findings),
    }
    return Report(repos, findings, tables, headline(repos))


def inert(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as a formula (=, +, -, @, tab, CR first) get a leading quote, as
    OWASP advises for CSV injection; names, paths and code in the cells come from crawled repositories."""
    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r")
                                    else v)
    return out


def write(report: Report, out: Path) -> Path:
    from .html import render
    out.mkdir(parents=True, exist_ok=True)
    repos = report.repos.copy()
    repos["created_at"] = repos["created_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    inert(repos).to_csv(out / "repos.csv", index=False)
    cols = ["repo", "commit", "code", "verdict", "path", "line", "col", "dataset", "rng_call", "rng_kind", "loader",
            "num_workers", "worker_init_fn", "seed", "fingerprint", "url"]
    inert(report.findings.reindex(columns=cols)).to_csv(out / "findings.csv", index=False)
    for name, table in report.tables.items():
        inert(table).to_csv(out / f"{name}.csv", index=False)
    page = out / "report.html"
    page.write_text(render(report), encoding="utf-8")
    return page
