"""What a report reads from the catalog: classified repositories, their findings, and the provenance a methods
section needs (how the corpus was found, when, what failed, which tool version classified it).

The catalog is opened read-only; catalogs written before a table or column existed read as "not recorded".
"""
from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple
from urllib.parse import quote

import pandas as pd

GITHUB_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
COMMIT = re.compile(r"[0-9a-f]{40}")
FAILURE_REASONS = 12  # the methods table lists the commonest reasons; the rest are summed


@dataclass
class Provenance:
    crawls: List[dict] = field(default_factory=list)
    windows: Dict[str, object] = field(default_factory=dict)
    statuses: Dict[str, int] = field(default_factory=dict)
    failures: List[Tuple[str, int]] = field(default_factory=list)
    dates: Dict[str, Tuple[str, str]] = field(default_factory=dict)   # discovered/fetched/classified: (first, last)
    tool_versions: List[Tuple[str, int]] = field(default_factory=list)
    with_errors: int = 0

    @property
    def discovered(self) -> int:
        return sum(self.statuses.values())

    @property
    def downloaded(self) -> int:
        return self.statuses.get("downloaded", 0) + self.statuses.get("classified", 0)


def _query(con, sql: str, params=()) -> list:
    try:
        return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:  # an older catalog without this table or column
        return []


def _columns(con, table: str) -> set:
    return {row[1] for row in _query(con, f"PRAGMA table_info({table})")}


def web_base(api_url: str) -> str:
    """The web host for links: github.com, or a GitHub Enterprise host (its API lives under /api/v3)."""
    api_url = (api_url or "").rstrip("/")
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/api/v3")]
    return "https://github.com"


def _open_read_only(db: Path) -> sqlite3.Connection:
    uri = Path(db).resolve().as_uri()
    try:
        con = sqlite3.connect(f"{uri}?mode=ro", uri=True)
        con.execute("SELECT 1 FROM repos LIMIT 1")
        return con
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            raise
        # a WAL catalog in a read-only folder: its -shm file cannot be made, so it is read as immutable
        return sqlite3.connect(f"{uri}?immutable=1", uri=True)


def load(db: Path) -> Tuple[pd.DataFrame, pd.DataFrame, Provenance]:
    """Classified repositories (one row each), their findings, and the catalog's provenance."""
    con = _open_read_only(db)
    try:
        rcols, vcols = _columns(con, "repos"), _columns(con, "verdicts")

        def col(table_alias: str, name: str, cols: set, alias: str = "") -> str:
            return f"{table_alias}.{name} AS {alias or name}" if name in cols else f"NULL AS {alias or name}"
        select = ", ".join([
            "r.full_name AS repo", "v.commit_sha AS \"commit\"", "v.verdict", "v.rng_kind", "v.effective",
            "v.torch_pin", "r.stars", "r.forks", "r.created_at", col("r", "pushed_at", rcols), "r.fork",
            col("r", "archived", rcols), "r.license", "v.findings", "v.errors", col("v", "classified_at", vcols),
            col("v", "tool_version", vcols), col("r", "api_url", rcols, "source"), col("r", "fetched_at", rcols)])
        repos = pd.read_sql_query(f"SELECT {select} FROM repos r JOIN verdicts v ON v.repo = r.full_name"
                                  " ORDER BY r.full_name", con)
        findings = pd.read_sql_query(
            "SELECT f.*, v.commit_sha AS \"commit\" FROM findings f JOIN verdicts v ON v.repo = f.repo"
            " ORDER BY f.repo, f.path, f.line", con)
        prov = provenance(con)
    finally:
        con.close()
    # unknown stays unknown: a local checkout without metadata has no stars, dates or fork flag
    repos["stars"] = pd.to_numeric(repos["stars"], errors="coerce").astype("Int64")
    repos["forks"] = pd.to_numeric(repos["forks"], errors="coerce").astype("Int64")
    for name in ("fork", "archived"):
        repos[name] = pd.to_numeric(repos[name], errors="coerce").astype("Int64").astype("boolean")
    for name in ("created_at", "pushed_at", "classified_at", "fetched_at"):
        repos[name] = pd.to_datetime(repos[name].replace("", None), errors="coerce", utc=True, format="ISO8601")
    repos = repos.fillna({"rng_kind": "", "torch_pin": "", "license": "", "commit": "", "tool_version": "",
                          "source": ""})
    repos["findings"] = repos["findings"].fillna(0).astype(int)
    repos["errors"] = repos["errors"].fillna(0).astype(int)
    findings = findings.fillna("")
    return repos, findings, prov


def provenance(con) -> Provenance:
    p = Provenance()
    names = ("started_at", "source", "query", "created_from", "created_to", "min_stars", "include_forks",
             "tool_version")
    p.crawls = [dict(zip(names, row)) for row in _query(con, f"SELECT {', '.join(names)} FROM crawls ORDER BY rowid")]
    row = _query(con, "SELECT COUNT(*), SUM(total_count), MIN(created_from), MAX(created_to), MIN(done_at),"
                      " MAX(done_at) FROM windows WHERE done_at IS NOT NULL")
    if row and row[0][0]:
        p.windows = dict(zip(("count", "results", "created_from", "created_to", "first", "last"), row[0]))
    p.statuses = dict(_query(con, "SELECT status, COUNT(*) FROM repos GROUP BY status"))
    reasons = _query(con, "SELECT COALESCE(reason, ''), COUNT(*) AS n FROM repos WHERE status='failed'"
                          " GROUP BY 1 ORDER BY n DESC, 1")
    p.failures = [(r or "no reason recorded", n) for r, n in reasons[:FAILURE_REASONS]]
    if len(reasons) > FAILURE_REASONS:
        rest = reasons[FAILURE_REASONS:]
        p.failures.append((f"{len(rest)} other reasons", sum(n for _, n in rest)))
    for label, table, column in (("discovered", "repos", "discovered_at"), ("downloaded", "repos", "fetched_at"),
                                 ("classified", "verdicts", "classified_at")):
        row = _query(con, f"SELECT MIN({column}), MAX({column}) FROM {table} WHERE {column} <> ''")
        if row and row[0][0]:
            p.dates[label] = (row[0][0], row[0][1])
    p.tool_versions = [(v or "not recorded", n) for v, n in _query(
        con, "SELECT tool_version, COUNT(*) AS n FROM verdicts GROUP BY 1 ORDER BY n DESC")]
    row = _query(con, "SELECT COUNT(*) FROM verdicts WHERE errors > 0")
    p.with_errors = row[0][0] if row else 0
    return p


def code_url(base: str, repo: str, commit: str, path: str, line) -> str:
    """A link pinned to the analysed commit, or "" when the repository is not a named GitHub snapshot
    (a local folder without metadata has no URL to point at)."""
    if not (GITHUB_NAME.fullmatch(repo) and COMMIT.fullmatch(commit or "") and path):
        return ""
    anchor = f"#L{int(line)}" if str(line).isdigit() and int(line) > 0 else ""
    return f"{base}/{repo}/blob/{commit}/{quote(path)}{anchor}"


def code_urls(base: str, f: pd.DataFrame) -> list:
    """code_url for every row of a findings frame (repo, commit, path, line), memoised per repository and path
    for large corpora."""
    named = {r: bool(GITHUB_NAME.fullmatch(r)) for r in set(f["repo"].tolist())}
    paths = {p: quote(p) for p in set(f["path"].tolist())}
    lines = pd.to_numeric(f["line"], errors="coerce").fillna(0).astype(int).tolist()
    return [f"{base}/{r}/blob/{c}/{paths[p]}{f'#L{n}' if n > 0 else ''}"
            if named[r] and p and COMMIT.fullmatch(c) else ""
            for r, c, p, n in zip(f["repo"].tolist(), f["commit"].astype(str).tolist(), f["path"].tolist(), lines)]
