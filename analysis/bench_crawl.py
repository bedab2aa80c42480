"""Crawl benchmark: API requests per repository and wall time, against the local GitHub-compatible server.

    python analysis/bench_crawl.py [N]

Discovers and downloads N small repositories (default 1000) from tests/ghserver.py on 127.0.0.1 with the
real PyGithub and requests clients, and prints the request counts and timings.
"""
import platform
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ghserver import FakeGitHub, repo_item  # noqa: E402

from survey.crawl.github import CrawlOptions, Crawler  # noqa: E402
from survey.crawl.store import Catalog  # noqa: E402


def main(n: int) -> None:
    d0 = date(2019, 1, 1)
    repos = [repo_item(f"owner{i % 50}/repo{i}", (d0 + timedelta(days=i % 700)).isoformat(), stars=i % 300, rid=i + 1)
             for i in range(n)]
    files = {r["full_name"]: {"train.py": b"import numpy as np\n" * 20, "requirements.txt": b"torch\n"} for r in repos}
    gh = FakeGitHub(repos, files)
    gh.start()
    with tempfile.TemporaryDirectory() as tmp:
        opts = CrawlOptions(api_url=gh.url, created=("2019-01-01", "2021-12-31"), sources=Path(tmp) / "repos")
        with Catalog(Path(tmp) / "survey.db") as catalog:
            crawler = Crawler(opts, catalog)
            t0 = time.perf_counter()
            crawler.discover()
            t1 = time.perf_counter()
            done, failed = crawler.download_all()
            t2 = time.perf_counter()
    gh.stop()
    api = gh.counts["search"] + gh.counts["tarball"]
    print(f"machine: {platform.machine()} {platform.processor() or ''} python {platform.python_version()}")
    print(f"repositories: {n} discovered, {done} downloaded, {failed} failed")
    print(f"search requests: {gh.counts['search']}  tarball API requests: {gh.counts['tarball']}  "
          f"redirected downloads: {gh.counts['codeload']}")
    print(f"API requests per repository: {api / n:.3f}")
    print(f"discovery {t1 - t0:.1f} s, download {t2 - t1:.1f} s, total {t2 - t0:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
