"""GitHub discovery (PyGithub search, adaptively sliced) and snapshot download (requests, streamed tarballs).

Rate limits are PyGithub's ``GithubRetry``: it sleeps until ``X-RateLimit-Reset`` on a primary limit, waits
on secondary limits and ``Retry-After``, and retries 5xx with backoff. The same retry policy is mounted on
the requests session that downloads tarballs, so both halves of the crawl obey one set of rules.
"""
from __future__ import annotations

import csv
import itertools
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import requests
from github import Auth, Github
from github.GithubRetry import GithubRetry
from requests.adapters import HTTPAdapter

from .snapshot import SnapshotError, extract_snapshot
from .store import Catalog, RepoMeta

log = logging.getLogger("survey.crawl")

SEARCH_CAP = 1000          # GitHub search answers at most 1000 results per query
PER_PAGE = 100
DOWNLOAD_JOBS = 4          # GitHub asks for few concurrent requests; more trips secondary limits
DOWNLOAD_TRIES = 3
GONE = {404: "not found (404)", 451: "unavailable for legal reasons (451)", 409: "empty repository (409)"}


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


def _retry(opts: CrawlOptions) -> GithubRetry:
    return GithubRetry(total=8, backoff_factor=0.5, secondary_rate_wait=opts.retry_wait,
                       status_forcelist=list(range(500, 600)) + [429])


def github_client(opts: CrawlOptions) -> Github:
    auth = Auth.Token(opts.token) if opts.token else None
    return Github(base_url=opts.api_url.rstrip("/"), auth=auth, per_page=PER_PAGE, retry=_retry(opts),
                  seconds_between_requests=None, timeout=30, user_agent="survey-crawler")


def http_session(opts: CrawlOptions) -> requests.Session:
    s = requests.Session()
    s.headers["User-Agent"] = "survey-crawler"
    s.headers["Accept"] = "application/vnd.github+json"
    if opts.token:
        s.headers["Authorization"] = f"Bearer {opts.token}"
    adapter = HTTPAdapter(max_retries=_retry(opts), pool_maxsize=max(4, opts.jobs))
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
        """Downloads every discovered repository; returns (downloaded, failed)."""
        done = failed = 0
        pending = list(self.catalog.pending("discovered"))
        with ThreadPoolExecutor(max_workers=self.opts.jobs) as pool:
            futures = {pool.submit(self.fetch, r.full_name, r.default_branch): r.full_name for r in pending}
            for fut in as_completed(futures):
                name = futures[fut]
                try:
                    sha, path = fut.result()
                except SnapshotError as exc:
                    self.catalog.mark_failed(name, str(exc))
                    failed += 1
                    self.progress(f"failed {name}: {exc}")
                    continue
                self.catalog.mark_downloaded(name, sha, path)
                done += 1
                self.progress(f"downloaded {name} @ {sha[:12]}")
        return done, failed

    def fetch(self, full_name: str, ref: str) -> Tuple[str, str]:
        """Downloads one tarball and extracts what the analysis reads; returns (commit sha, source path)."""
        url = f"{self.opts.api_url.rstrip('/')}/repos/{full_name}/tarball/{ref}"
        last = ""
        for attempt in range(DOWNLOAD_TRIES):
            with tempfile.TemporaryFile() as tmp:
                try:
                    with self.session.get(url, stream=True, timeout=60) as resp:
                        if resp.status_code in GONE:
                            raise SnapshotError(GONE[resp.status_code])
                        if resp.status_code != 200:
                            raise SnapshotError(f"HTTP {resp.status_code} for the tarball")
                        expected = resp.headers.get("Content-Length")
                        got = 0
                        for chunk in resp.iter_content(chunk_size=1 << 16):
                            tmp.write(chunk)
                            got += len(chunk)
                        if expected is not None and got != int(expected):
                            raise requests.exceptions.ChunkedEncodingError(f"got {got} of {expected} bytes")
                except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError,
                        requests.exceptions.Timeout) as exc:
                    last = f"download interrupted: {type(exc).__name__}"
                    log.info("%s: %s (try %d of %d)", full_name, last, attempt + 1, DOWNLOAD_TRIES)
                    continue
                except requests.exceptions.RetryError:
                    raise SnapshotError("gave up after repeated server errors or rate limits") from None
                tmp.seek(0)
                try:
                    return extract_snapshot(tmp, full_name, self.opts.sources)
                except SnapshotError as exc:
                    if not exc.retry:
                        raise
                    last = str(exc)
        raise SnapshotError(f"{last} after {DOWNLOAD_TRIES} tries")


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
    """Removes extraction folders a killed crawl left behind."""
    if not sources.exists():
        return
    for partial in sources.glob("**/.partial-*"):
        shutil.rmtree(partial, ignore_errors=True)
