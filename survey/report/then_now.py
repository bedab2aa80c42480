"""Then versus now: the verdicts of the same repositories at a dated snapshot and at their head.

Only repositories classified at both count, so the two shares have one population and a change in them is
a change in the code, not in the sample. ``transitions`` says, for each verdict then, where those
repositories are now (affected then -> seeded now, ...), with each row's share of its "then" group and a
95% Wilson interval; ``shares`` gives the bug's share among repositories with NumPy draws under workers at
each date.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Dict, Optional

import pandas as pd

from .tables import BUG, WITH_WORKERS, wilson

PAIR_COLUMNS = ["repo", "at", "commit_then", "commit_date_then", "verdict_then", "effective_then", "commit_now",
                "verdict_now", "effective_now"]


def load_pairs(db: Path, at: Optional[str] = None) -> pd.DataFrame:
    """One row per repository classified both at a dated snapshot and at its head (all dates, or ``at``)."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
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


def tables(db: Path) -> Dict[str, pd.DataFrame]:
    """The report's then-versus-now tables; none for a catalog without classified dated snapshots."""
    pairs = load_pairs(db)
    if pairs.empty:
        return {}
    return {"then_now_pairs": pairs, "then_now_transitions": transitions(pairs), "then_now_shares": shares(pairs)}
