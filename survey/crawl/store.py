"""The catalog: one SQLite database (WAL mode) of search windows, repositories, snapshots and verdicts.

Every write is one short transaction, so a crawl killed at any moment (even SIGKILL) leaves a consistent
catalog: a repository is either recorded with its snapshot or not at all, and a search window is marked
done only after all of its repositories are recorded.
"""
from __future__ import annotations

import sqlite3
import subprocess
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Iterator, List, Optional

from .. import __version__
from ..analysis.model import Finding, RepoVerdict

SCHEMA = """
CREATE TABLE IF NOT EXISTS windows (
    query TEXT NOT NULL, created_from TEXT NOT NULL, created_to TEXT NOT NULL,
    stars_from INTEGER NOT NULL DEFAULT -1, stars_to INTEGER NOT NULL DEFAULT -1,
    total_count INTEGER, done_at TEXT,
    PRIMARY KEY (query, created_from, created_to, stars_from, stars_to)
);
CREATE TABLE IF NOT EXISTS repos (
    full_name TEXT PRIMARY KEY, id INTEGER, stars INTEGER, forks INTEGER, created_at TEXT, pushed_at TEXT,
    default_branch TEXT, license TEXT, size INTEGER, fork INTEGER, archived INTEGER,
    status TEXT NOT NULL, reason TEXT, commit_sha TEXT, source_path TEXT,
    discovered_at TEXT, fetched_at TEXT, api_url TEXT, tool_version TEXT
);
CREATE INDEX IF NOT EXISTS repos_status ON repos(status);
CREATE TABLE IF NOT EXISTS verdicts (
    repo TEXT PRIMARY KEY REFERENCES repos(full_name), commit_sha TEXT, verdict TEXT, rng_kind TEXT,
    torch_pin TEXT, effective TEXT, findings INTEGER, errors INTEGER, classified_at TEXT, tool_version TEXT
);
CREATE TABLE IF NOT EXISTS findings (
    repo TEXT NOT NULL, code TEXT, path TEXT, line INTEGER, col INTEGER, verdict TEXT, dataset TEXT,
    rng_call TEXT, rng_kind TEXT, loader TEXT, num_workers TEXT, worker_init_fn TEXT, seed TEXT, fingerprint TEXT
);
CREATE INDEX IF NOT EXISTS findings_repo ON findings(repo);
CREATE TABLE IF NOT EXISTS crawls (
    started_at TEXT, source TEXT, query TEXT, created_from TEXT, created_to TEXT, min_stars INTEGER,
    include_forks INTEGER, tool_version TEXT
);
CREATE TABLE IF NOT EXISTS snapshots (
    repo TEXT NOT NULL REFERENCES repos(full_name), at TEXT NOT NULL, status TEXT NOT NULL, reason TEXT,
    commit_sha TEXT, commit_date TEXT, source_path TEXT, fetched_at TEXT, verdict TEXT, rng_kind TEXT,
    torch_pin TEXT, effective TEXT, findings INTEGER, errors INTEGER, classified_at TEXT, tool_version TEXT,
    PRIMARY KEY (repo, at)
);
CREATE TABLE IF NOT EXISTS snapshot_findings (
    repo TEXT NOT NULL, at TEXT NOT NULL, code TEXT, path TEXT, line INTEGER, col INTEGER, verdict TEXT,
    dataset TEXT, rng_call TEXT, rng_kind TEXT, loader TEXT, num_workers TEXT, worker_init_fn TEXT, seed TEXT,
    fingerprint TEXT
);
CREATE INDEX IF NOT EXISTS snapshot_findings_repo ON snapshot_findings(repo, at);
"""
# The findings tables hold every field of a Finding but its message, so a field the analysis gains
# (vendored, unreachable, ...) becomes a column, added to an older catalog when it is opened.
_FINDING_COLUMNS = tuple((f.name, "INTEGER" if f.type in ("bool", "int") else "TEXT") for f in fields(Finding)
                         if f.name != "message")
# Columns added after the first release, added (empty) to an older catalog when it is opened. ``repos`` keeps
# the snapshot at the default branch's head; ``snapshots`` holds the dated ones (``at`` is the date), so a
# catalog without dated snapshots reads exactly as before.
ADDED_COLUMNS = {"findings": _FINDING_COLUMNS, "repos": (("commit_date", "TEXT"),),
                 "snapshot_findings": _FINDING_COLUMNS}

STATUSES = ("discovered", "downloaded", "failed", "classified")


@lru_cache(maxsize=1)
def tool_version() -> str:
    """The package version, with the git commit when run from a checkout (a report names what classified)."""
    try:
        out = subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse", "--short=12", "HEAD"],
                             capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return __version__
    sha = out.stdout.strip()
    return f"{__version__}+g{sha}" if out.returncode == 0 and sha else __version__


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class RepoMeta:
    """A repository as discovered: the catalog's column names."""
    full_name: str
    id: int = 0
    stars: int = 0
    forks: int = 0
    created_at: str = ""
    pushed_at: str = ""
    default_branch: str = "main"
    license: str = ""
    size: int = 0
    fork: bool = False
    archived: bool = False


@dataclass(frozen=True)
class RepoRecord:
    full_name: str
    status: str
    default_branch: str
    commit_sha: str
    source_path: str
    reason: str


class Catalog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=30, isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        for table, columns in ADDED_COLUMNS.items():
            have = {row[1] for row in self.db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns:
                if name not in have:
                    try:
                        self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
                    except sqlite3.OperationalError as exc:  # another process opening it added it first
                        if "duplicate column" not in str(exc):
                            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- search windows ------------------------------------------------------------------------------
    def window_done(self, query: str, lo: str, hi: str, stars=(-1, -1)) -> bool:
        row = self.db.execute(
            "SELECT done_at FROM windows WHERE query=? AND created_from=? AND created_to=? AND stars_from=? "
            "AND stars_to=?", (query, lo, hi, *stars)).fetchone()
        return bool(row and row[0])

    def mark_window(self, query: str, lo: str, hi: str, total: int, stars=(-1, -1)) -> None:
        self.db.execute(
            "INSERT INTO windows VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET total_count=excluded.total_count,"
            " done_at=excluded.done_at", (query, lo, hi, *stars, total, now()))

    def record_crawl(self, source: str, query: str = "", created=("", ""), min_stars: int = 0,
                     include_forks: bool = False) -> None:
        """What this crawl asked for, so a report can state how its corpus was found."""
        self.db.execute("INSERT INTO crawls VALUES (?,?,?,?,?,?,?,?)", (now(), source, query, created[0], created[1],
                                                                        min_stars, int(include_forks), tool_version()))

    # -- repositories --------------------------------------------------------------------------------
    def add_discovered(self, metas: List[RepoMeta], api_url: str) -> int:
        """Records repositories not yet in the catalog; returns how many were new."""
        before = self.db.total_changes
        with self.db:
            self.db.execute("BEGIN")
            for m in metas:
                self.db.execute(
                    "INSERT INTO repos (full_name, id, stars, forks, created_at, pushed_at, default_branch, license,"
                    " size, fork, archived, status, discovered_at, api_url, tool_version)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,'discovered',?,?,?) ON CONFLICT(full_name) DO NOTHING",
                    (m.full_name, m.id, m.stars, m.forks, m.created_at, m.pushed_at, m.default_branch, m.license,
                     m.size, int(m.fork), int(m.archived), now(), api_url, __version__))
        return self.db.total_changes - before

    def mark_downloaded(self, full_name: str, sha: str, source_path: str) -> None:
        self.db.execute("UPDATE repos SET status='downloaded', commit_sha=?, source_path=?, reason=NULL, fetched_at=?"
                        " WHERE full_name=?", (sha, source_path, now(), full_name))

    def requeue_failed(self, everything: bool = False) -> int:
        """Failed repositories back to ``discovered``: those whose reason says transient, or all of them."""
        where = "status='failed'" + ("" if everything else " AND reason LIKE 'transient: %'")
        before = self.db.total_changes
        self.db.execute(f"UPDATE repos SET status='discovered' WHERE {where}")
        return self.db.total_changes - before

    def mark_failed(self, full_name: str, reason: str) -> None:
        self.db.execute("UPDATE repos SET status='failed', reason=?, fetched_at=? WHERE full_name=?",
                        (reason, now(), full_name))

    def add_local(self, full_name: str, source_path: str, sha: str = "") -> None:
        self.db.execute(
            "INSERT INTO repos (full_name, status, commit_sha, source_path, discovered_at, fetched_at, tool_version)"
            " VALUES (?, 'downloaded', ?, ?, ?, ?, ?) ON CONFLICT(full_name) DO UPDATE SET"
            " source_path=excluded.source_path, commit_sha=excluded.commit_sha",
            (full_name, sha, source_path, now(), now(), __version__))

    def pending(self, status: str = "discovered") -> Iterator[RepoRecord]:
        rows = self.db.execute(
            "SELECT full_name, status, default_branch, commit_sha, source_path, reason FROM repos WHERE status=?"
            " ORDER BY rowid", (status,)).fetchall()
        for row in rows:
            yield RepoRecord(*[v if v is not None else "" for v in row])

    def counts(self) -> dict:
        return dict(self.db.execute("SELECT status, COUNT(*) FROM repos GROUP BY status").fetchall())

    def repos(self) -> List[dict]:
        cur = self.db.execute("SELECT * FROM repos ORDER BY full_name")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    # -- verdicts ------------------------------------------------------------------------------------
    def save_verdict(self, v: RepoVerdict, sha: str) -> None:
        row = v.row()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM findings WHERE repo=?", (v.repo,))
            self.db.execute(
                "INSERT OR REPLACE INTO verdicts VALUES (?,?,?,?,?,?,?,?,?,?)",
                (v.repo, sha, row["verdict"], row["rng_kind"], row["torch_pin"], row["effective"],
                 row["findings"], row["errors"], now(), tool_version()))
            names = [f.name for f in fields(v.findings[0])] if v.findings else []
            for f in v.findings:
                values = [getattr(f, n) for n in names if n != "message"]
                self.db.execute(f"INSERT INTO findings (repo, {', '.join(n for n in names if n != 'message')})"
                                f" VALUES (?{', ?' * len(values)})", (v.repo, *values))
            self.db.execute("UPDATE repos SET status='classified' WHERE full_name=?", (v.repo,))


def open_catalog(path: Optional[Path]) -> Catalog:
    return Catalog(path or Path("data/survey.db"))
