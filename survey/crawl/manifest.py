"""Manifests: the (repository, commit) pairs of a study, as CSV, so anyone with a token can rebuild it.

Columns ``repo, commit, commit_date, commit_2021, commit_2021_date``: the head snapshot, then the dated one
(named after the 2021 study it was made for; the date it stands for is given with ``--at``, by default the
eve of the April 2021 post). The dated columns are empty when the repository did not exist yet.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, TextIO

from github import GithubException, UnknownObjectException

from . import dated
from .dated import Snapshot
from .github import _meta as repo_meta
from .snapshot import SnapshotError
from .store import Catalog, RepoMeta

COLUMNS = ("repo", "commit", "commit_date", "commit_2021", "commit_2021_date")
STUDY_AT = "2021-04-11"
MAX_ROWS = 1_000_000
NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class ManifestError(ValueError):
    pass


@dataclass(frozen=True)
class ManifestRow:
    repo: str
    commit: str
    commit_date: str = ""
    commit_2021: str = ""
    commit_2021_date: str = ""


def read_manifest(path: Path) -> List[ManifestRow]:
    """Every row of a manifest, checked; ManifestError naming each bad line, before anything is downloaded."""
    problems, rows, seen = [], [], set()
    with Path(path).open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("repo", "commit") if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: no {' or '.join(missing)} column (columns: {', '.join(COLUMNS)})")
        for line, raw in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise ManifestError(f"{path}: more than {MAX_ROWS} rows")
            row = ManifestRow(**{c: (raw.get(c) or "").strip() for c in COLUMNS})
            bad = _problems(row)
            if row.repo.lower() in seen:
                bad.append(f"{row.repo} is listed twice")
            seen.add(row.repo.lower())
            problems += [f"{path}:{line}: {p}" for p in bad]
            rows.append(row)
    if problems:
        raise ManifestError("\n".join(problems[:20]) + (f"\n... and {len(problems) - 20} more" if len(problems) > 20
                                                        else ""))
    return [replace(r, commit_date=dated.utc(r.commit_date) if r.commit_date else "",
                    commit_2021_date=dated.utc(r.commit_2021_date) if r.commit_2021_date else "") for r in rows]


def _problems(row: ManifestRow) -> List[str]:
    out = []
    if not NAME.match(row.repo) or row.repo.rsplit("/", 1)[-1] in (".", ".."):
        out.append(f"repo {row.repo!r} is not owner/name")
    for col in ("commit", "commit_2021"):
        value = getattr(row, col)
        if (value or col == "commit") and not _SHA.match(value):
            out.append(f"{col} {value!r} is not a 40-digit lower-case hex sha")
    for col in ("commit_date", "commit_2021_date"):
        value = getattr(row, col)
        if value and not dated.utc(value):
            out.append(f"{col} {value!r} is not an ISO date")
    if row.commit_2021_date and not row.commit_2021:
        out.append("commit_2021_date without commit_2021")
    return out


def pick_at(catalog: Catalog, at: Optional[str] = None) -> str:
    """The date whose snapshots fill the 2021 columns: ``at``, else the catalog's only one ("" for none)."""
    if at is not None:
        return at
    have = dated.labels(catalog)
    if len(have) > 1:
        raise ManifestError(f"the catalog has snapshots at {', '.join(have)}: say which with --at")
    return have[0] if have else ""


def export_manifest(catalog: Catalog, out: TextIO, at: Optional[str] = None) -> int:
    """Writes the manifest of every downloaded repository; the 2021 columns from the snapshots at ``at``
    (default: the catalog's only date). Returns the number of rows."""
    at = pick_at(catalog, at)
    then = {s["repo"]: s for s in dated.snapshots(catalog, at) if s["status"] in ("downloaded", "classified")} \
        if at else {}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for r in catalog.repos():
        if r["status"] not in ("downloaded", "classified") or not r["commit_sha"]:
            continue
        s = then.get(r["full_name"], {})
        writer.writerow([r["full_name"], r["commit_sha"], r.get("commit_date") or "", s.get("commit_sha") or "",
                         s.get("commit_date") or ""])
        n += 1
    return n


# -- rebuilding a corpus from a manifest -------------------------------------------------------------------
def crawl_manifest(crawler, rows: List[ManifestRow], at: Optional[str] = None,
                   progress: Callable[[str], None] = lambda s: None) -> Dict[str, int]:
    """Downloads exactly the manifest's pairs: metadata (one request each), the head commit and the dated one.

    The dated snapshots are labelled ``at``; without it, STUDY_AT when the manifest names any 2021 commit,
    else there are none. Resumable: a repository already downloaded at the manifest's commit, and a dated
    snapshot already recorded, are not asked for again.
    """
    catalog = crawler.catalog
    if at is None and any(r.commit_2021 for r in rows):
        at = STUDY_AT
    known = {r["full_name"]: r for r in catalog.repos()}
    for row in rows:
        if row.repo not in known:
            _discover(crawler, row)
            progress(f"found {row.repo}")
    known = {r["full_name"]: r for r in catalog.repos()}
    heads = [row for row in rows if known[row.repo]["status"] == "discovered"
             or (known[row.repo]["status"] in ("downloaded", "classified") and known[row.repo]["commit_sha"] != row.commit)]
    counts: Dict[str, int] = {}
    for row, result in dated.in_parallel(crawler.opts.jobs, lambda r: crawler.fetch(r.repo, r.commit), heads):
        if isinstance(result, tuple) and not row.commit.startswith(result[0]):
            result = SnapshotError(f"the tarball for {row.commit} holds commit {result[0]}")
        if isinstance(result, Exception):
            catalog.mark_failed(row.repo, str(result))
            counts["failed"] = counts.get("failed", 0) + 1
            progress(f"failed {row.repo}: {result}")
            continue
        catalog.mark_downloaded(row.repo, row.commit, result[1])
        dated.set_commit_date(catalog, row.repo, row.commit_date)
        counts["downloaded"] = counts.get("downloaded", 0) + 1
        progress(f"downloaded {row.repo} @ {row.commit[:12]}")
    if at is None:
        return counts
    known = {r["full_name"]: r for r in catalog.repos()}
    done = dated.recorded(catalog, at)
    todo = [row for row in rows if row.repo not in done and known[row.repo]["status"] in ("downloaded", "classified")]
    for row, snap in dated.in_parallel(crawler.opts.jobs, lambda r: _then(crawler, r, at, known[r.repo]), todo):
        if isinstance(snap, Exception):
            snap = Snapshot(row.repo, at, "failed", str(snap))
        dated.record(catalog, snap)
        progress(f"{row.repo} at {at}: {snap.status}")
    return counts


def _discover(crawler, row: ManifestRow) -> None:
    try:
        meta = replace(_meta_of(crawler, row.repo), full_name=row.repo)
    except UnknownObjectException:
        crawler.catalog.add_discovered([RepoMeta(full_name=row.repo)], crawler.opts.api_url)
        crawler.catalog.mark_failed(row.repo, "not found (404)")
        return
    except GithubException as exc:
        crawler.catalog.add_discovered([RepoMeta(full_name=row.repo)], crawler.opts.api_url)
        crawler.catalog.mark_failed(row.repo, f"metadata: HTTP {exc.status}")
        return
    crawler.catalog.add_discovered([meta], crawler.opts.api_url)


def _meta_of(crawler, full_name: str) -> RepoMeta:
    return repo_meta(crawler.gh.get_repo(full_name))


def _then(crawler, row: ManifestRow, at: str, head: dict) -> Snapshot:
    if not row.commit_2021:
        return Snapshot(row.repo, at, "absent", f"no commit before {at} in the manifest")
    try:
        return dated.download_at(crawler, row.repo, at, row.commit_2021, row.commit_2021_date,
                                 head["commit_sha"] or "", head["source_path"] or "")
    except SnapshotError as exc:
        return Snapshot(row.repo, at, "failed", str(exc))
