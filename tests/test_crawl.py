"""The crawler against a GitHub-compatible server on 127.0.0.1, with the real PyGithub and requests."""
import io
import os
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

import survey.crawl.snapshot as snapshot
from survey.crawl.github import CrawlOptions, Crawler, register_dir
from survey.crawl.store import Catalog
from ghserver import FakeGitHub, make_tarball, repo_item

BUGGY = b"import numpy as np\nfrom torch.utils.data import Dataset, DataLoader\n\n\nclass D(Dataset):\n" \
        b"    def __len__(self):\n        return 4\n\n    def __getitem__(self, i):\n        return np.random.rand()\n\n\n" \
        b"loader = DataLoader(D(), num_workers=2)\n"


def corpus(n, start="2020-01-01", days=10, stars=lambda i: i % 50):
    d0 = date.fromisoformat(start)
    repos = [repo_item(f"owner{i % 7}/repo{i}", (d0 + timedelta(days=i % days)).isoformat(), stars=stars(i), rid=i + 1)
             for i in range(n)]
    files = {r["full_name"]: {"train.py": BUGGY, "requirements.txt": b"torch==1.8.1\n", "notes.md": b"no"}
             for r in repos}
    return repos, files


@pytest.fixture
def server():
    servers = []

    def start(repos, files=None):
        gh = FakeGitHub(repos, files)
        gh.start()
        servers.append(gh)
        return gh
    yield start
    for gh in servers:
        gh.stop()


def crawl(gh, tmp_path, download=True, **kw):
    kw.setdefault("created", ("2020-01-01", "2020-12-31"))
    opts = CrawlOptions(api_url=gh.url, sources=tmp_path / "repos", retry_wait=1, **kw)
    with Catalog(tmp_path / "survey.db") as catalog:
        crawler = Crawler(opts, catalog)
        crawler.discover()
        if download:
            crawler.download_all()
        return catalog.repos()


def test_more_than_1000_results_are_all_reached_by_slicing(server, tmp_path):
    repos, _ = corpus(2600, days=5)
    # one day holds 1200 repositories: the date split bottoms out and stars slice it
    repos += [repo_item(f"busy/r{i}", "2020-01-03", stars=i, rid=10_000 + i) for i in range(1200)]
    gh = server(repos)
    rows = crawl(gh, tmp_path, download=False)
    assert len(rows) == len(repos)
    assert {r["full_name"] for r in rows} == {r["full_name"] for r in repos}
    assert all(r["status"] == "discovered" for r in rows)
    # every query asked for at most the 1000 reachable results
    assert not any("page=11" in p for p in gh.requests)
    assert gh.counts["search"] / len(repos) < 0.05  # windows that split cost one page each


def test_download_records_commit_and_keeps_only_what_the_analysis_reads(server, tmp_path):
    repos, files = corpus(30)
    gh = server(repos, files)
    rows = crawl(gh, tmp_path)
    assert [r["status"] for r in rows] == ["downloaded"] * 30
    for r in rows:
        assert r["commit_sha"] == gh.shas[r["full_name"]] and len(r["commit_sha"]) == 40
        kept = sorted(p.name for p in Path(r["source_path"]).rglob("*") if p.is_file())
        assert kept == ["requirements.txt", "train.py"]
        assert Path(r["source_path"]).is_relative_to(tmp_path / "repos" / r["full_name"])
    assert r["stars"] >= 0 and r["license"] == "MIT" and r["created_at"].startswith("2020-01-")
    # one API request per repository beyond its share of the search pages
    api = gh.counts["search"] + gh.counts["tarball"]
    assert api / len(repos) <= 1.1


def test_forks_are_excluded_unless_asked(server, tmp_path):
    repos, files = corpus(10)
    repos.append(repo_item("someone/fork", "2020-01-02", fork=True, rid=99))
    gh = server(repos, files)
    assert "someone/fork" not in {r["full_name"] for r in crawl(gh, tmp_path, download=False)}
    rows = crawl(gh, tmp_path / "b", download=False, include_forks=True)
    assert "someone/fork" in {r["full_name"] for r in rows}
    assert any("fork%3Atrue" in p for p in gh.requests)


def test_rate_limits_and_server_errors_are_waited_out(server, tmp_path):
    repos, files = corpus(150)
    gh = server(repos, files)
    gh.faults = {0: "primary", 2: "secondary", 4: "502", 40: "502", 60: "secondary"}
    t0 = time.monotonic()
    rows = crawl(gh, tmp_path)
    assert len(rows) == 150 and all(r["status"] == "downloaded" for r in rows)
    assert time.monotonic() - t0 >= 1.0  # it waited for the reset instead of failing
    assert not gh.faults  # every fault was served


def test_gone_blocked_and_empty_repositories_are_recorded_with_a_reason(server, tmp_path):
    repos, files = corpus(6)
    gh = server(repos, files)
    names = sorted(r["full_name"] for r in repos)
    gh.status = {names[0]: 404, names[1]: 451, names[2]: 409}
    rows = {r["full_name"]: r for r in crawl(gh, tmp_path)}
    assert rows[names[0]]["status"] == "failed" and "404" in rows[names[0]]["reason"]
    assert "451" in rows[names[1]]["reason"] and "empty" in rows[names[2]]["reason"]
    assert all(rows[n]["status"] == "downloaded" for n in names[3:])


def test_a_dropped_download_is_retried_never_half_recorded(server, tmp_path):
    repos, files = corpus(5)
    gh = server(repos, files)
    victim = repos[0]["full_name"]
    gh.drop_once = {victim}
    rows = {r["full_name"]: r for r in crawl(gh, tmp_path)}
    assert rows[victim]["status"] == "downloaded" and rows[victim]["commit_sha"] == gh.shas[victim]
    assert (Path(rows[victim]["source_path"]) / "train.py").read_bytes() == BUGGY
    assert gh.counts["codeload"] == 6


def hostile_tarball(sha):
    buf = io.BytesIO()
    top = f"evil-repo-{sha[:7]}"
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": sha}) as tar:
        def add(name, data=b"", **attrs):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            for k, v in attrs.items():
                setattr(info, k, v)
            tar.addfile(info, io.BytesIO(data) if data else None)
        add(f"{top}/ok.py", b"x = 1\n")
        add(f"{top}/../../escape.py", b"bad\n")
        add("/tmp/absolute-survey-test.py", b"bad\n")
        add(f"{top}/link.py", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        add(f"{top}/hard.py", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        add(f"{top}/fifo.py", type=tarfile.FIFOTYPE)
        add(f"{top}/dev.py", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        add(f"{top}/huge.py", b"0" * 5_000_000)
    return buf.getvalue()


def test_hostile_tarball_writes_nothing_outside_sources(server, tmp_path):
    repos, files = corpus(1)
    gh = server(repos, files)
    name = repos[0]["full_name"]
    gh.tarballs[name] = hostile_tarball(gh.shas[name])
    rows = crawl(gh, tmp_path)
    assert rows[0]["status"] == "downloaded"
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink())
    kept = Path(rows[0]["source_path"])
    assert sorted(p.name for p in kept.iterdir()) == ["ok.py"]
    assert all(w.startswith("repos/") or w.startswith("survey.db") for w in written)
    assert not Path("/tmp/absolute-survey-test.py").exists()
    assert not (tmp_path / "escape.py").exists() and not (tmp_path.parent / "escape.py").exists()


def test_a_decompression_bomb_is_cut_off_with_a_reason(server, tmp_path, monkeypatch):
    monkeypatch.setattr(snapshot, "MAX_STREAM", 1_000_000)
    repos, files = corpus(2)
    files[repos[0]["full_name"]]["zeros.bin"] = b"\0" * 20_000_000
    gh = server(repos, files)
    rows = {r["full_name"]: r for r in crawl(gh, tmp_path)}
    bomb = rows[repos[0]["full_name"]]
    assert bomb["status"] == "failed" and "cut off" in bomb["reason"]
    assert rows[repos[1]["full_name"]]["status"] == "downloaded"
    assert not list((tmp_path / "repos").rglob(".partial-*"))


def run_cli(args, **kw):
    return subprocess.Popen([sys.executable, "-m", "survey", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, **kw)


def catalog_rows(db):
    con = sqlite3.connect(db)
    rows = con.execute("SELECT full_name, id, stars, created_at, default_branch, status, reason, commit_sha"
                       " FROM repos ORDER BY full_name").fetchall()
    windows = con.execute("SELECT query, created_from, created_to, stars_from, stars_to, total_count"
                          " FROM windows WHERE done_at IS NOT NULL ORDER BY 1, 2, 3, 4").fetchall()
    con.close()
    return rows, windows


def test_a_crawl_killed_with_sigkill_resumes_to_the_same_catalog(server, tmp_path):
    repos, files = corpus(240, days=40)
    gh = server(repos, files)
    gh.delay = 0.02
    common = ["crawl", "--api-url", gh.url, "--created", "2020-01-01..2020-03-31", "--jobs", "2"]
    full = run_cli(common + ["--db", str(tmp_path / "full.db"), "--sources", str(tmp_path / "full")])
    assert full.wait(timeout=300) == 0, full.stderr.read()

    args = common + ["--db", str(tmp_path / "k.db"), "--sources", str(tmp_path / "k")]
    proc = run_cli(args)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.1)
        try:
            con = sqlite3.connect(tmp_path / "k.db")
            done = con.execute("SELECT COUNT(*) FROM repos WHERE status='downloaded'").fetchone()[0]
            con.close()
        except sqlite3.Error:
            continue
        if done >= 40:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_rows, _ = catalog_rows(tmp_path / "k.db")
    assert 0 < sum(r[5] == "downloaded" for r in killed_rows) < len(repos)

    again = run_cli(args)
    assert again.wait(timeout=300) == 0, again.stderr.read()
    assert catalog_rows(tmp_path / "k.db") == catalog_rows(tmp_path / "full.db")
    assert len(catalog_rows(tmp_path / "k.db")[0]) == len(repos)
    assert not list((tmp_path / "k").rglob(".partial-*"))
    for full_name, *_rest, sha in catalog_rows(tmp_path / "k.db")[0]:
        assert (tmp_path / "k" / full_name / sha / "train.py").read_bytes() == BUGGY


def test_the_token_never_appears_in_logs_errors_or_the_catalog(server, tmp_path):
    repos, files = corpus(5)
    gh = server(repos, files)
    gh.status = {repos[0]["full_name"]: 404}
    secret = "ghp_SECRETSECRETSECRET1234"
    proc = run_cli(["crawl", "--api-url", gh.url, "--created", "2020-01-01..2020-01-31", "--db",
                    str(tmp_path / "s.db"), "--sources", str(tmp_path / "r")], env={**os.environ, "GITHUB_TOKEN": secret})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert secret not in out + err
    assert secret.encode() not in (tmp_path / "s.db").read_bytes()
    assert all(h.endswith(secret) for h in gh.auth_headers)  # it was sent, to the server only


def test_from_dir_and_classify_db(tmp_path, capsys):
    from survey.cli import main
    src = tmp_path / "checkouts"
    for name, body in (("alpha", BUGGY), ("beta", b"print('hi')\n")):
        (src / name).mkdir(parents=True)
        (src / name / "train.py").write_bytes(body)
    db = tmp_path / "s.db"
    assert main(["crawl", "--from-dir", str(src), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db), "--csv", str(tmp_path / "rows.csv")]) == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT repo, verdict FROM verdicts ORDER BY repo").fetchall() == [
        ("alpha", "affected"), ("beta", "no-dataset")]
    assert con.execute("SELECT COUNT(*) FROM findings WHERE repo='alpha'").fetchone()[0] == 1
    assert {r[0] for r in con.execute("SELECT status FROM repos")} == {"classified"}
    # classified repositories are not classified again
    assert main(["classify", "--db", str(db), "--csv", str(tmp_path / "again.csv")]) == 0
    assert (tmp_path / "again.csv").read_text().splitlines()[1:] == []
