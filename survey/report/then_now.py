"""Then versus now: the verdicts of the same repositories at a dated snapshot and at their head.

Only repositories classified at both count, so the two shares have one population and a change in them is
a change in the code, not in the sample. ``transitions`` says, for each verdict then, where those
repositories are now (affected then -> seeded now, ...), with each row's share of its "then" group and a
95% Wilson interval; ``shares`` gives the bug's share among repositories with NumPy draws under workers at
each date.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, Optional

import pandas as pd

from .catalog import _open_read_only as open_read_only
from .shares import BUG, WITH_WORKERS, wilson


def _f(name: str, kind: str, description: str) -> dict:
    return {"name": name, "type": kind, "description": description}


_AT = _f("at", "string", "the date of the dated snapshot (its last commit before it)")
_CI = [_f("share", "number", "the share; empty when its denominator is 0"),
       _f("ci_low", "number", "lower bound of the 95% Wilson score interval of share"),
       _f("ci_high", "number", "upper bound of the 95% Wilson score interval of share")]
# The data dictionary of these tables, in the report's Table Schema form (report/files.py describes every CSV).
SCHEMAS = {
    "then_now_pairs": ("One row per repository classified at a dated snapshot and at its head.", [
        _f("repo", "string", "owner/name"), _AT,
        _f("commit_then", "string", "the dated snapshot's commit"),
        _f("commit_date_then", "datetime", "its committer date (UTC)"),
        _f("verdict_then", "string", "the verdict at the dated snapshot"),
        _f("effective_then", "string", "whether the bug shows with that snapshot's torch pins"),
        _f("commit_now", "string", "the head's commit"), _f("verdict_now", "string", "the verdict at the head"),
        _f("effective_now", "string", "whether the bug shows with the head's torch pins")]),
    "then_now_transitions": ("Where the repositories of each verdict then are now.", [
        _AT, _f("verdict_then", "string", "verdict at the dated snapshot"),
        _f("verdict_now", "string", "verdict at the head"),
        _f("repositories", "integer", "repositories with this pair of verdicts"),
        _f("of_then", "integer", "repositories with verdict_then at this date: the share's denominator")] + _CI),
    "then_now_shares": ("The headline share at each date, on the repositories classified at both.", [
        _AT, _f("snapshot", "string", "then (the dated snapshot) or now (the head)"),
        _f("paired", "integer", "repositories classified at both"),
        _f("with_workers", "integer", "of those, with NumPy draws under workers at this snapshot: the denominator"),
        _f("affected", "integer", "of those, affected or flawed-seed")] + _CI),
}

PAIR_COLUMNS = ["repo", "at", "commit_then", "commit_date_then", "verdict_then", "effective_then", "commit_now",
                "verdict_now", "effective_now"]


def load_pairs(db: Path, at: Optional[str] = None) -> pd.DataFrame:
    """One row per repository classified both at a dated snapshot and at its head (all dates, or ``at``)."""
    con = open_read_only(db)
    try:
        if not con.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='snapshots'").fetchone():
            return pd.DataFrame(columns=PAIR_COLUMNS)  # a catalog from before dated snapshots
        return pd.read_sql_query(
            "SELECT s.repo, s.at, s.commit_sha AS commit_then, s.commit_date AS commit_date_then,"
            " s.verdict AS verdict_then, s.effective AS effective_then, v.commit_sha AS commit_now,"
            " v.verdict AS verdict_now, v.effective AS effective_now"
            " FROM snapshots s JOIN verdicts v ON v.repo = s.repo"
            " WHERE s.status = 'classified'" + (" AND s.at = ?" if at else "") + " ORDER BY s.at, s.repo",
            con, params=(at,) if at else ())
    finally:
        con.close()


def transitions(pairs: pd.DataFrame) -> pd.DataFrame:
    """Counts of (verdict then, verdict now) per date, each with its share of the "then" group and 95% CI."""
    cols = ["at", "verdict_then", "verdict_now", "repositories", "of_then", "share", "ci_low", "ci_high"]
    rows = []
    for (at, then), group in pairs.groupby(["at", "verdict_then"], sort=True):
        for now_verdict, n in group["verdict_now"].value_counts().sort_index().items():
            p, lo, hi = wilson(int(n), len(group))
            rows.append({"at": at, "verdict_then": then, "verdict_now": now_verdict, "repositories": int(n),
                         "of_then": len(group), "share": p, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=cols)


def shares(pairs: pd.DataFrame) -> pd.DataFrame:
    """The bug's share at each date on the same repositories: then, and now on those that existed then."""
    cols = ["at", "snapshot", "paired", "with_workers", "affected", "share", "ci_low", "ci_high"]
    rows = []
    for at, group in pairs.groupby("at", sort=True):
        for snapshot, verdicts in (("then", group["verdict_then"]), ("now", group["verdict_now"])):
            base = verdicts[verdicts.isin(WITH_WORKERS)]
            k = int(base.isin(BUG).sum())
            p, lo, hi = wilson(k, len(base))
            rows.append({"at": at, "snapshot": snapshot, "paired": len(group), "with_workers": len(base),
                         "affected": k, "share": p, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=cols)


def then_now_tables(db: Path) -> Dict[str, pd.DataFrame]:
    """The report's then-versus-now tables (empty, with their columns, for a catalog without dated snapshots)."""
    pairs = load_pairs(db)
    return {"then_now_pairs": pairs, "then_now_transitions": transitions(pairs), "then_now_shares": shares(pairs)}
