"""Dated snapshots: each repository at the last commit before a date, kept beside its head in the catalog.

The head stays where it always was (``repos``, ``verdicts``, ``findings``); a dated snapshot is a row of
``snapshots`` keyed by (repository, date), its findings in ``snapshot_findings``. A repository that did not
exist yet, or had no commit before the date, gets a row with status ``absent`` and the reason, so a resumed
crawl does not ask again and an exported manifest leaves its columns empty.

``crawl --at`` asks GitHub for one commit per repository (``GET /repos/{o}/{r}/commits?until=...&per_page=1``)
and downloads its tarball only when it differs from the head already on disk.
"""
from __future__ import annotations

import json
import os
import re
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, fields, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Tuple

import requests

from .. import __version__
from ..analysis.model import RepoVerdict
from .snapshot import SnapshotError
from .store import Catalog, now

STATUSES = ("downloaded", "failed", "absent", "classified")
MAX_ANSWER = 1 << 20     # bytes read of one commits answer: per_page=1 needs a few kilobytes
_SHA = re.compile(r"^[0-9a-f]{40}$")
GONE = {404: "not found (404)", 451: "unavailable for legal reasons (451)"}


def parse_at(text: str) -> str:
    """The snapshot's label: ``YYYY-MM-DD``, or an ISO timestamp normalised to UTC ``YYYY-MM-DDTHH:MM:SSZ``."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.strptime(text, "%Y-%m-%d").date().isoformat()
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"--at takes a date (YYYY-MM-DD) or an ISO timestamp, not {text!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def until(at: str) -> str:
    """The instant a label stands for, as GitHub's ``until`` wants it (a bare date is its midnight, UTC)."""
    return at if "T" in at else f"{at}T00:00:00Z"


def utc(stamp: str) -> str:
    """An ISO timestamp (any offset) as ``YYYY-MM-DDTHH:MM:SSZ``, so timestamps compare as strings."""
    try:
        value = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Snapshot:
    """One dated snapshot as the catalog records it: the ``snapshots`` table's column names."""
    repo: str
    at: str
    status: str
    reason: str = ""
    commit_sha: str = ""
    commit_date: str = ""
    source_path: str = ""


# -- the catalog's side ----------------------------------------------------------------------------------
def record(catalog: Catalog, s: Snapshot) -> None:
    """Records (or replaces) a snapshot; a replaced one loses its old verdict and findings."""
    with catalog.db:
        catalog.db.execute("BEGIN")
        catalog.db.execute("DELETE FROM snapshot_findings WHERE repo=? AND at=?", (s.repo, s.at))
        catalog.db.execute(
            "INSERT OR REPLACE INTO snapshots (repo, at, status, reason, commit_sha, commit_date, source_path,"
            " fetched_at, tool_version) VALUES (?,?,?,?,?,?,?,?,?)",
            (s.repo, s.at, s.status, s.reason or None, s.commit_sha, s.commit_date, s.source_path, now(),
             __version__))


def recorded(catalog: Catalog, at: str) -> set:
    return {r[0] for r in catalog.db.execute("SELECT repo FROM snapshots WHERE at=?", (at,))}


def snapshots(catalog: Catalog, at: Optional[str] = None) -> List[dict]:
    sql = "SELECT * FROM snapshots" + (" WHERE at=?" if at else "") + " ORDER BY repo, at"
    cur = catalog.db.execute(sql, (at,) if at else ())
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def labels(catalog: Catalog) -> List[str]:
    return [r[0] for r in catalog.db.execute("SELECT DISTINCT at FROM snapshots ORDER BY at")]


def set_commit_date(catalog: Catalog, repo: str, date: str) -> None:
    catalog.db.execute("UPDATE repos SET commit_date=? WHERE full_name=?", (date, repo))


def save_verdict(catalog: Catalog, v: RepoVerdict, at: str) -> None:
    row = v.row()
    names = [f.name for f in fields(v.findings[0]) if f.name != "message"] if v.findings else []
    with catalog.db:
        catalog.db.execute("BEGIN")
        catalog.db.execute("DELETE FROM snapshot_findings WHERE repo=? AND at=?", (v.repo, at))
        catalog.db.execute(
            "UPDATE snapshots SET status='classified', verdict=?, rng_kind=?, torch_pin=?, effective=?, findings=?,"
            " errors=?, classified_at=?, tool_version=? WHERE repo=? AND at=?",
            (row["verdict"], row["rng_kind"], row["torch_pin"], row["effective"], row["findings"], row["errors"],
             now(), __version__, v.repo, at))
        for f in v.findings:
            values = [getattr(f, n) for n in names]
            catalog.db.execute(f"INSERT INTO snapshot_findings (repo, at, {', '.join(names)})"
                               f" VALUES (?, ?{', ?' * len(values)})", (v.repo, at, *values))


def classify_jobs(catalog: Catalog, count_vendored: bool = False) -> Tuple[List[tuple], Dict[str, Callable]]:
    """Every downloaded, unclassified snapshot, head and dated: ``(path, key, count_vendored)`` items for
    ``classify_many`` and, per key, what saves a verdict in its place. A dated snapshot's key is
    ``owner/name@date``; one that shares its files with the head (no commit since the date) is classified
    once for both."""
    savers: Dict[str, List[Callable[[RepoVerdict], None]]] = {}
    key_of: Dict[str, str] = {}
    items = []

    def add(path: str, key: str, saver: Callable[[RepoVerdict], None]) -> None:
        if path not in key_of:
            key_of[path] = key
            items.append((path, key, count_vendored))
        savers.setdefault(key_of[path], []).append(saver)

    for r in catalog.pending("downloaded"):
        add(r.source_path, r.full_name, lambda v, name=r.full_name, sha=r.commit_sha:
            catalog.save_verdict(replace(v, repo=name), sha))
    for repo, at, path in catalog.db.execute("SELECT repo, at, source_path FROM snapshots WHERE status='downloaded'"
                                             " ORDER BY repo, at").fetchall():
        if not (path and os.path.isdir(path) and os.access(path, os.R_OK | os.X_OK)):
            catalog.db.execute("UPDATE snapshots SET status='failed', reason=? WHERE repo=? AND at=?",
                               (f"source folder missing or unreadable: {path}", repo, at))
            continue
        add(path, f"{repo}@{at}", lambda v, repo=repo, at=at: save_verdict(catalog, replace(v, repo=repo), at))

    def save_all(group):
        def save(v: RepoVerdict) -> None:
            for saver in group:
                saver(v)
        return save
    return items, {key: save_all(group) for key, group in savers.items()}


# -- the crawl's side ------------------------------------------------------------------------------------
def in_parallel(jobs: int, fn: Callable, items: Iterable) -> Iterator[Tuple[object, object]]:
    """``(item, fn(item))`` as each finishes; an exception is returned in place of the result, so one
    repository's failure costs only its own row. The caller records: the catalog is written by one thread."""
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(fn, item): item for item in items}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as exc:  # noqa: BLE001 - recorded as that repository's reason
                yield futures[fut], exc


def get_json(session: requests.Session, url: str, params: Optional[dict] = None) -> Tuple[int, object]:
    """Status and decoded body of a small API answer, read up to MAX_ANSWER bytes."""
    with session.get(url, params=params, stream=True, timeout=60) as resp:
        body = resp.raw.read(MAX_ANSWER + 1, decode_content=True)
        if resp.status_code != 200:
            return resp.status_code, None
    if len(body) > MAX_ANSWER:
        raise SnapshotError(f"the API answered with more than {MAX_ANSWER} bytes")
    try:
        return 200, json.loads(body)
    except ValueError:
        raise SnapshotError("the API answered with something that is not JSON") from None


def commit_of(answer) -> Tuple[str, str]:
    """(sha, committer date) of one commit object as the API returns it; SnapshotError when malformed."""
    try:
        sha, date = answer["sha"], answer["commit"]["committer"]["date"]
    except (KeyError, TypeError, IndexError):
        raise SnapshotError("the API's commit has no sha or date") from None
    if not isinstance(sha, str) or not _SHA.match(sha) or not isinstance(date, str) or not utc(date):
        raise SnapshotError("the API's commit has a malformed sha or date")
    return sha, utc(date)


def last_commit_before(crawler, full_name: str, at: str) -> Optional[Tuple[str, str]]:
    """(sha, date) of the default branch's last commit before ``at``; None when there is none."""
    url = f"{crawler.opts.api_url.rstrip('/')}/repos/{full_name}/commits"
    try:
        status, answer = get_json(crawler.session, url, {"until": until(at), "per_page": 1})
    except requests.exceptions.RetryError:
        raise SnapshotError("gave up after repeated server errors or rate limits") from None
    if status == 409:
        return None  # an empty repository has no commits at all
    if status in GONE:
        raise SnapshotError(GONE[status])
    if status != 200:
        raise SnapshotError(f"HTTP {status} for the commits before {at}")
    if not isinstance(answer, list):
        raise SnapshotError("the API's commit list is not a list")
    return commit_of(answer[0]) if answer else None


def commit_date(crawler, full_name: str, sha: str) -> str:
    """The committer date of one commit (``GET /repos/{o}/{r}/commits/{sha}``), "" when it cannot be had."""
    url = f"{crawler.opts.api_url.rstrip('/')}/repos/{full_name}/commits/{sha}"
    try:
        status, answer = get_json(crawler.session, url)
        return commit_of(answer)[1] if status == 200 else ""
    except (SnapshotError, requests.exceptions.RequestException):
        return ""


def download_at(crawler, full_name: str, at: str, sha: str, date: str, head_sha: str, head_path: str) -> Snapshot:
    """The snapshot at ``sha``: the head's files when it is the head commit, else its tarball."""
    if sha == head_sha and head_path and Path(head_path).is_dir():
        return Snapshot(full_name, at, "downloaded", commit_sha=sha, commit_date=date, source_path=head_path)
    got, path = crawler.fetch(full_name, sha)
    if not sha.startswith(got):
        raise SnapshotError(f"the tarball for {sha} holds commit {got}")
    return Snapshot(full_name, at, "downloaded", commit_sha=sha, commit_date=date, source_path=path)


def snapshot_before(crawler, row: dict, at: str) -> Tuple[Snapshot, str]:
    """One repository's dated snapshot, and its head's commit date when the catalog lacks it."""
    name = row["full_name"]
    head_date = "" if row.get("commit_date") or not row.get("commit_sha") else \
        commit_date(crawler, name, row["commit_sha"])
    created = utc(row.get("created_at") or "")
    if created and created >= until(at):
        return Snapshot(name, at, "absent", f"created after {at}"), head_date
    try:
        found = last_commit_before(crawler, name, at)
        if found is None:
            return Snapshot(name, at, "absent", f"no commit before {at}"), head_date
        return download_at(crawler, name, at, *found, row.get("commit_sha") or "", row.get("source_path") or ""), \
            head_date
    except SnapshotError as exc:
        return Snapshot(name, at, "failed", str(exc)), head_date


def crawl_at(crawler, at: str, progress: Callable[[str], None] = lambda s: None) -> Dict[str, int]:
    """Records the snapshot before ``at`` of every downloaded repository that has none yet at that date."""
    catalog = crawler.catalog
    done = recorded(catalog, at)
    todo = [r for r in catalog.repos() if r["status"] in ("downloaded", "classified") and r["full_name"] not in done
            and (r.get("api_url") or "").startswith("http")]
    counts: Dict[str, int] = {}
    for row, result in in_parallel(crawler.opts.jobs, lambda r: snapshot_before(crawler, r, at), todo):
        if isinstance(result, Exception):
            result = (Snapshot(row["full_name"], at, "failed", f"{type(result).__name__}: {result}"), "")
        snap, head_date = result
        record(catalog, snap)
        if head_date:
            set_commit_date(catalog, snap.repo, head_date)
        counts[snap.status] = counts.get(snap.status, 0) + 1
        progress(f"{snap.repo} at {at}: {snap.status}" + (f" @ {snap.commit_sha[:12]}" if snap.commit_sha else
                                                         f" ({snap.reason})"))
    return counts
