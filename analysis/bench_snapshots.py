"""Dated-snapshot benchmark: API requests per repository for `crawl --at`, and clones per second for
`crawl --from-git --at`.

    python analysis/bench_snapshots.py [N]

Crawls N repositories (default 300) from tests/ghserver.py on 127.0.0.1, a third of them changed since the
date, a third unchanged and a third created after it, then records their snapshots before 2021-04-11; and
registers N small git clones with three dated commits each. Prints request counts, timings and peak memory.
"""
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from ghserver import FakeGitHub, repo_item  # noqa: E402

from survey.crawl.dated import crawl_at  # noqa: E402
from survey.crawl.gitclones import register_git  # noqa: E402
from survey.crawl.github import CrawlOptions, Crawler  # noqa: E402
from survey.crawl.store import Catalog  # noqa: E402

AT = "2021-04-11"
CODE = {"train.py": b"import numpy as np\n" * 20, "requirements.txt": b"torch\n", "README.md": b"x" * 1000}


def api(n: int, tmp: Path) -> None:
    repos, gh = [], None
    for i in range(n):
        repos.append(repo_item(f"owner{i % 50}/repo{i}", "2022-02-01" if i % 3 == 2 else "2020-01-01", rid=i + 1))
    gh = FakeGitHub(repos)
    for i, r in enumerate(repos):
        old = (f"{2 * i + 1:040x}", "2020-06-01T00:00:00Z" if i % 3 != 2 else "2022-03-01T00:00:00Z", CODE)
        new = (f"{2 * i + 2:040x}", "2023-06-01T00:00:00Z", {**CODE, "extra.py": b"y = 2\n"})
        gh.add_history(r["full_name"], [old, new] if i % 3 == 0 else [old])
    gh.start()
    opts = CrawlOptions(api_url=gh.url, created=("2019-01-01", "2022-12-31"), sources=tmp / "api")
    with Catalog(tmp / "api.db") as catalog:
        crawler = Crawler(opts, catalog)
        crawler.discover()
        crawler.download_all()
        before = sum(gh.counts.values())
        t0 = time.perf_counter()
        counts = crawl_at(crawler, AT)
        dt = time.perf_counter() - t0
    gh.stop()
    extra = sum(gh.counts.values()) - before
    print(f"crawl --at: {n} repositories, {counts}, {extra} requests ({extra / n:.2f} per repository:"
          f" {gh.counts['commits']} commits, {gh.counts['tarball']} tarball incl. the heads) in {dt:.2f} s")


def clones(n: int, tmp: Path) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@x", "GIT_COMMITTER_NAME": "a",
           "GIT_COMMITTER_EMAIL": "a@x", "GIT_CONFIG_GLOBAL": os.devnull}
    root = tmp / "clones"
    t0 = time.perf_counter()
    for i in range(n):
        repo = root / f"owner{i % 50}+repo{i}"
        repo.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=repo, check=True, env=env)
        for k, date in enumerate(("2019-01-01T00:00:00Z", "2020-06-01T00:00:00Z", "2023-01-01T00:00:00Z")):
            for f in range(20):
                (repo / f"mod{f}.py").write_bytes(b"x = %d\n" % (k * f))
            (repo / "notes.md").write_bytes(b"n" * 10_000)
            subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
            subprocess.run(["git", "commit", "-qm", "m"], cwd=repo, check=True,
                           env={**env, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    built = time.perf_counter() - t0
    with Catalog(tmp / "git.db") as catalog:
        t0 = time.perf_counter()
        counts = register_git(catalog, root, tmp / "git", AT)
        dt = time.perf_counter() - t0
    print(f"crawl --from-git --at: {n} clones (built in {built:.1f} s), {counts}, in {dt:.2f} s"
          f" ({n / dt:.1f} clones/s, two trees each)")


def main(n: int) -> None:
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory() as tmp:
        api(n, Path(tmp))
        clones(n, Path(tmp))
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
