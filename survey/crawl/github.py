"""GitHub discovery (PyGithub search, adaptively sliced) and snapshot download (requests, streamed tarballs).

Rate limits are PyGithub's ``GithubRetry``: it sleeps until ``X-RateLimit-Reset`` on a primary limit, waits
on secondary limits and ``Retry-After``, and retries 5xx with backoff. The same retry policy is mounted on
the requests session that downloads tarballs, so both halves of the crawl obey one set of rules.
"""
from __future__ import annotations

import csv
import itertools
import logging
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, List, Optional, Tuple
from urllib.parse import quote

import requests
from github import Auth, Github
from requests.adapters import HTTPAdapter

from .bounds import CappedRetry, WaitTooLong, scrub, shown, valid_full_name, valid_ref
from .download import DOWNLOAD_SECONDS, MAX_REDIRECTS, download
from .snapshot import SnapshotError, extract_snapshot
from .store import Catalog, RepoMeta

log = logging.getLogger("survey.crawl")

SEARCH_CAP = 1000          # GitHub search answers at most 1000 results per query
PER_PAGE = 100
DOWNLOAD_JOBS = 4          # GitHub asks for few concurrent requests; more trips secondary limits
DOWNLOAD_TRIES = 3
API_TIMEOUT = 30           # seconds of silence from the API before a request counts as failed


@dataclass(frozen=True)
class CrawlOptions:
    api_url: str = "https://api.github.com"
    token: Optional[str] = None
    query: str = ""
    created: Tuple[str, str] = ("2008-01-01", date.today().isoformat())
    min_stars: int = 0
    limit: Optional[int] = None
    include_forks: bool = False
    sources: Path = Path("data/repos")
    jobs: int = DOWNLOAD_JOBS
    retry_wait: float = 60.0   # secondary-limit wait when GitHub does not say how long
    max_wait: float = 3600.0   # longest wait a server may ask for (rate-limit reset, Retry-After)
    retry_failed: bool = False  # download again every failed repository, not only transient failures


def _retry(opts: CrawlOptions, read: int = 2) -> CappedRetry:
    # connect and read failures are retried twice, not eight times: an API that refuses connections or
    # never answers is reported within a minute or two instead of sitting silent
    return CappedRetry(max_wait=opts.max_wait, total=8, connect=2, read=read, backoff_factor=0.5,
                       backoff_max=min(120.0, opts.max_wait), secondary_rate_wait=opts.retry_wait,
                       status_forcelist=list(range(500, 600)) + [429])


def github_client(opts: CrawlOptions) -> Github:
    auth = Auth.Token(opts.token) if opts.token else None
    return Github(base_url=opts.api_url.rstrip("/"), auth=auth, per_page=PER_PAGE, retry=_retry(opts),
                  seconds_between_requests=None, timeout=API_TIMEOUT, user_agent="survey-crawler")


def http_session(opts: CrawlOptions) -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = "survey-crawler"
    s.headers["Accept"] = "application/vnd.github+json"
    s.max_redirects = MAX_REDIRECTS
    if opts.token:
        s.headers["Authorization"] = f"Bearer {opts.token}"
    # read failures of a download are retried by fetch(), within the repository's deadline
    adapter = HTTPAdapter(max_retries=_retry(opts, read=0), pool_maxsize=max(4, opts.jobs))
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    return s


# -- discovery -----------------------------------------------------------------------------------------
def search_query(opts: CrawlOptions, lo: str, hi: str, stars: Tuple[int, int] = (-1, -1)) -> str:
    parts = [opts.query.strip(), "language:Python", f"created:{lo}..{hi}"]
    if stars != (-1, -1):
        parts.append(f"stars:{stars[0]}..{stars[1]}")
    elif opts.min_stars:
        parts.append(f"stars:>={opts.min_stars}")
    if opts.include_forks:
        parts.append("fork:true")
    return " ".join(p for p in parts if p)


def _iso(value) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else ""


def _meta(repo) -> RepoMeta:
    # Attributes, not raw_data: raw_data "completes" the object with one more request per repository.
    lic = repo.license
    return RepoMeta(
        full_name=repo.full_name, id=repo.id or 0, stars=repo.stargazers_count or 0,
        forks=repo.forks_count or 0, created_at=_iso(repo.created_at), pushed_at=_iso(repo.pushed_at),
        default_branch=repo.default_branch or "main", license=(lic.spdx_id or "") if lic is not None else "",
        size=repo.size or 0, fork=bool(repo.fork), archived=bool(repo.archived),
    )


def _halves(lo: str, hi: str) -> Tuple[Tuple[str, str], Tuple[str, str]]:
    a, b = date.fromisoformat(lo), date.fromisoformat(hi)
    mid = a + (b - a) // 2
    return (a.isoformat(), mid.isoformat()), ((mid + timedelta(days=1)).isoformat(), b.isoformat())


class Crawler:
    def __init__(self, opts: CrawlOptions, catalog: Catalog, progress: Callable[[str], None] = lambda s: None):
        self.opts = opts
        self.catalog = catalog
        self.gh = github_client(opts)
        self.session = http_session(opts)
        self.progress = progress

    def _full(self) -> bool:
        if self.opts.limit is None:
            return False
        return sum(self.catalog.counts().values()) >= self.opts.limit

    def discover(self) -> int:
        """Searches every window of the created range; returns how many repositories were new."""
        new = 0
        todo = [(self.opts.created, (-1, -1))]
        while todo and not self._full():
            (lo, hi), stars = todo.pop(0)
            if self.catalog.window_done(self.opts.query, lo, hi, stars):
                continue
            pages = self.gh.search_repositories(search_query(self.opts, lo, hi, stars))
            it = iter(pages)
            first = next(it, None)
            total = pages.totalCount  # known from the first page; asked up front it costs a request more
            if total > SEARCH_CAP:
                parts = self._split(lo, hi, stars)
                if parts:
                    todo[:0] = parts
                    continue
                log.warning("window %s..%s stars %s holds %d repositories; only the first %d are reachable",
                            lo, hi, stars, total, SEARCH_CAP)
            batch: List[RepoMeta] = []
            for repo in itertools.chain([first] if first is not None else [], it):
                batch.append(_meta(repo))
                if len(batch) == PER_PAGE:
                    new += self._record(batch)
                    batch = []
                    if self._full():
                        return new
            new += self._record(batch)
            self.catalog.mark_window(self.opts.query, lo, hi, total, stars)
            where = f"created:{lo}..{hi}" + (f" stars:{stars[0]}..{stars[1]}" if stars[0] >= 0 else "")
            self.progress(f"searched {where}: {total} repositories")
        return new

    def _record(self, batch: List[RepoMeta]) -> int:
        if self.opts.limit is not None:
            room = self.opts.limit - sum(self.catalog.counts().values())
            batch = batch[:max(0, room)]
        if not self.opts.include_forks:
            batch = [m for m in batch if not m.fork]
        bad = [m for m in batch if not valid_full_name(m.full_name)]
        for m in bad:  # names become paths: one that breaks GitHub's rules is never fetched nor stored
            log.warning("skipped a repository whose name breaks GitHub's rules: %s", shown(m.full_name))
            self.progress(f"skipped invalid repository name {shown(m.full_name)}")
        batch = [m for m in batch if valid_full_name(m.full_name)]
        return self.catalog.add_discovered(batch, self.opts.api_url) if batch else 0

    def _split(self, lo: str, hi: str, stars: Tuple[int, int]):
        """Halves a window over the search cap: by dates down to a day, then by star ranges."""
        if stars == (-1, -1) and lo != hi:
            return [(w, stars) for w in _halves(lo, hi)]
        s_lo, s_hi = (self.opts.min_stars, 10_000_000) if stars == (-1, -1) else stars
        if s_lo >= s_hi:
            return []
        mid = (s_lo + s_hi) // 2
        return [((lo, hi), (s_lo, mid)), ((lo, hi), (mid + 1, s_hi))]

    # -- download ----------------------------------------------------------------------------------
    def download_all(self) -> Tuple[int, int]:
        """Downloads every discovered repository; returns (downloaded, failed).

        Whatever one download raises becomes that repository's ``failed`` row with a reason, and the crawl
        goes on; only a wait longer than ``max_wait`` (which every later request would hit too) stops it."""
        done = failed = 0
        # a failure another try may cure (5xx, a cut connection, an expired token, a full disk) is retried
        # by the next crawl; --retry-failed retries the permanent ones too
        self.catalog.requeue_failed(everything=self.opts.retry_failed)
        pending = list(self.catalog.pending("discovered"))
        with ThreadPoolExecutor(max_workers=self.opts.jobs) as pool:
            futures = {pool.submit(self.fetch, r.full_name, r.default_branch): r.full_name for r in pending}
            try:
                for fut in as_completed(futures):
                    name = futures[fut]
                    try:
                        sha, path = fut.result()
                    except WaitTooLong:
                        raise
                    except Exception as exc:  # noqa: BLE001 - one repository's failure is its own row
                        reason = self.scrub(str(exc) if isinstance(exc, SnapshotError)
                                            else f"{type(exc).__name__}: {exc}")
                        if isinstance(exc, (MemoryError, OSError)) or getattr(exc, "retry", False):
                            reason = TRANSIENT + reason
                        self.catalog.mark_failed(name, reason)
                        failed += 1
                        self.progress(f"failed {name}: {reason}")
                        continue
                    self.catalog.mark_downloaded(name, sha, path)
                    done += 1
                    self.progress(f"downloaded {name} @ {sha[:12]}")
            except WaitTooLong:
                for fut in futures:
                    fut.cancel()
                raise
        return done, failed

    def scrub(self, text: str) -> str:
        return scrub(text, [self.opts.token])

    def fetch(self, full_name: str, ref: str) -> Tuple[str, str]:
        """Downloads one tarball and extracts what the analysis reads; returns (commit sha, source path).

        Tries again only what another try may cure (a cut connection, a 5xx), within DOWNLOAD_SECONDS."""
        if not valid_full_name(full_name):
            raise SnapshotError("the name breaks GitHub's rules for owners and repositories")
        if not valid_ref(ref):
            raise SnapshotError(f"the default branch {shown(ref)} is not a valid git ref")
        url = f"{self.opts.api_url.rstrip('/')}/repos/{full_name}/tarball/{quote(ref)}"
        deadline = time.monotonic() + DOWNLOAD_SECONDS
        last = ""
        for attempt in range(DOWNLOAD_TRIES):
            with tempfile.TemporaryFile() as tmp:
                try:
                    download(self.session, url, tmp, deadline)
                    tmp.seek(0)
                    return extract_snapshot(tmp, full_name, self.opts.sources)
                except SnapshotError as exc:
                    if not exc.retry or time.monotonic() > deadline:
                        raise
                    last = str(exc)
                    log.info("%s: %s (try %d of %d)", full_name, last, attempt + 1, DOWNLOAD_TRIES)
        raise SnapshotError(f"{last} after {DOWNLOAD_TRIES} tries", retry=True)


TRANSIENT = "transient: "


def register_dir(catalog: Catalog, root: Path) -> int:
    """Registers each sub-folder of root as a downloaded repository named after the folder.

    An optional ``metadata.csv`` beside the folders (columns: folder, then any of RepoMeta's) gives each
    one its GitHub name and metadata, so a local corpus reports like a crawled one.
    """
    meta = {}
    table = Path(root) / "metadata.csv"
    if table.is_file():
        with table.open(newline="", encoding="utf-8") as fh:
            meta = {row["folder"]: row for row in csv.DictReader(fh)}
    count = 0
    for child in sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")):
        row = meta.get(child.name)
        if row:
            m = RepoMeta(full_name=row.get("full_name") or child.name, stars=int(row.get("stars") or 0),
                         forks=int(row.get("forks") or 0), created_at=row.get("created_at", ""),
                         pushed_at=row.get("pushed_at", ""), default_branch=row.get("default_branch") or "main",
                         license=row.get("license", ""), fork=row.get("fork", "").lower() in ("1", "true", "yes"))
            catalog.add_discovered([m], "local")
            catalog.mark_downloaded(m.full_name, row.get("commit", ""), str(child.resolve()))
        else:
            catalog.add_local(child.name, str(child.resolve()))
        count += 1
    return count


def clean_partials(sources: Path) -> None:
    """Removes extraction folders a killed crawl left behind, never those of a crawl still running (two
    crawls may share ``--sources``): a folder is named after the process that writes it."""
    if not sources.exists():
        return
    for partial in sources.glob("**/.partial-*"):
        pid = partial.name.split("-")[1]
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(partial, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
