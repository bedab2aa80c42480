"""Dated snapshots (crawl --at), manifests (crawl --manifest, export-manifest) and the catalog's migration,
against the GitHub-compatible server on 127.0.0.1 with the real PyGithub and requests."""
import csv
import io
import sqlite3
from pathlib import Path

import pytest

from survey.cli import main
from survey.crawl.store import Catalog
from ghserver import FakeGitHub, repo_item
from test_crawl import BUGGY

SEEDED = BUGGY.replace(b"num_workers=2)", b"num_workers=2, worker_init_fn=w)").replace(
    b"loader =", b"def w(i):\n    import torch\n    np.random.seed(torch.initial_seed() % 2 ** 32)\n\n\nloader =")
AT = "2021-04-11"


def sha(n):
    return f"{n:040x}"


def study_server():
    """fixed/one was affected before AT and seeded now; same/one has not changed since; late/one was created
    after AT; slow/one existed at AT but first pushed after it."""
    repos = [repo_item("fixed/one", "2020-02-01", rid=1), repo_item("same/one", "2020-03-01", rid=2),
             repo_item("late/one", "2022-01-01", rid=3), repo_item("slow/one", "2021-03-01", rid=4)]
    gh = FakeGitHub(repos)
    gh.add_history("fixed/one", [(sha(1), "2020-02-02T10:00:00Z", {"train.py": BUGGY, "notes.md": b"x"}),
                                 (sha(2), "2021-04-10T23:59:00Z", {"train.py": BUGGY, "requirements.txt": b"torch\n"}),
                                 (sha(3), "2021-09-01T10:00:00Z", {"train.py": SEEDED})])
    gh.add_history("same/one", [(sha(4), "2020-03-02T10:00:00Z", {"train.py": BUGGY})])
    gh.add_history("late/one", [(sha(5), "2022-01-02T10:00:00Z", {"train.py": BUGGY})])
    gh.add_history("slow/one", [(sha(6), "2021-05-01T10:00:00Z", {"train.py": SEEDED})])
    gh.start()
    return gh


@pytest.fixture
def gh():
    server = study_server()
    yield server
    server.stop()


def crawl_args(gh, tmp_path, name="s"):
    return ["crawl", "--api-url", gh.url, "--created", "2020-01-01..2022-12-31", "--db", str(tmp_path / f"{name}.db"),
            "--sources", str(tmp_path / name), "--jobs", "2"]


def snapshot_rows(db):
    con = sqlite3.connect(db)
    rows = {r[0]: r[1:] for r in con.execute(
        "SELECT repo, status, commit_sha, commit_date, reason, verdict FROM snapshots ORDER BY repo")}
    con.close()
    return rows


def test_at_records_the_last_commit_before_the_date_as_a_second_snapshot(gh, tmp_path):
    assert main(crawl_args(gh, tmp_path) + ["--at", AT]) == 0
    rows = snapshot_rows(tmp_path / "s.db")
    assert rows["fixed/one"][:3] == ("downloaded", sha(2), "2021-04-10T23:59:00Z")
    assert rows["same/one"][:3] == ("downloaded", sha(4), "2020-03-02T10:00:00Z")
    assert rows["late/one"][0] == "absent" and rows["late/one"][3] == f"created after {AT}"
    assert rows["slow/one"][0] == "absent" and rows["slow/one"][3] == f"no commit before {AT}"
    assert any(f"until={AT}T00%3A00%3A00Z" in p and "per_page=1" in p for p in gh.requests)
    # the head stays where it was, now with its commit date
    with Catalog(tmp_path / "s.db") as c:
        heads = {r["full_name"]: (r["commit_sha"], r["commit_date"]) for r in c.repos()}
    assert heads["fixed/one"] == (sha(3), "2021-09-01T10:00:00Z")
    # the dated tree is the old commit's, filtered like a head; an unchanged repository shares its head's tree
    con = sqlite3.connect(tmp_path / "s.db")
    paths = dict(con.execute("SELECT repo, source_path FROM snapshots WHERE status='downloaded'").fetchall())
    head_paths = dict(con.execute("SELECT full_name, source_path FROM repos").fetchall())
    con.close()
    assert Path(paths["fixed/one"]) == tmp_path / "s" / "fixed" / "one" / sha(2)
    assert sorted(p.name for p in Path(paths["fixed/one"]).iterdir()) == ["requirements.txt", "train.py"]
    assert paths["same/one"] == head_paths["same/one"]
    assert sum(f"/tarball/{sha(4)}" in p for p in gh.requests) == 0
    assert sum(f"/tarball/{sha(2)}" in p for p in gh.requests) == 1

    # a second run asks nothing more about the dated snapshots
    before = gh.counts["commits"]
    assert main(crawl_args(gh, tmp_path) + ["--at", AT]) == 0
    assert gh.counts["commits"] == before and snapshot_rows(tmp_path / "s.db") == rows

    # classify --db classifies every snapshot: then affected, now seeded
    assert main(["classify", "--db", str(tmp_path / "s.db"), "--jobs", "1", "--csv", str(tmp_path / "v.csv")]) == 0
    with open(tmp_path / "v.csv", newline="") as fh:  # same/one's unchanged tree is classified once for both
        assert sorted(r["repo"] for r in csv.DictReader(fh)) == [
            "fixed/one", f"fixed/one@{AT}", "late/one", "same/one", "slow/one"]
    rows = snapshot_rows(tmp_path / "s.db")
    assert rows["fixed/one"][0] == "classified" and rows["fixed/one"][4] == "affected"
    assert rows["same/one"][4] == "affected"
    con = sqlite3.connect(tmp_path / "s.db")
    assert dict(con.execute("SELECT repo, verdict FROM verdicts")) == {
        "fixed/one": "seeded", "same/one": "affected", "late/one": "affected", "slow/one": "seeded"}
    assert con.execute("SELECT code FROM snapshot_findings WHERE repo='fixed/one'").fetchall() == [("SRV101",)]
    assert con.execute("SELECT code FROM findings WHERE repo='fixed/one'").fetchall() == [("SRV301",)]
    con.close()

    # the report's then-versus-now tables, on the two repositories that existed at AT
    out = tmp_path / "report"
    assert main(["report", "--db", str(tmp_path / "s.db"), "--out", str(out)]) == 0
    with open(out / "then_now_transitions.csv", newline="") as fh:
        moves = {(r["verdict_then"], r["verdict_now"]): r for r in csv.DictReader(fh)}
    assert set(moves) == {("affected", "seeded"), ("affected", "affected")}
    assert moves[("affected", "seeded")]["repositories"] == "1" and moves[("affected", "seeded")]["of_then"] == "2"
    with open(out / "then_now_shares.csv", newline="") as fh:
        shares = {r["snapshot"]: r for r in csv.DictReader(fh)}
    assert (shares["then"]["affected"], shares["then"]["with_workers"]) == ("2", "2")
    assert (shares["now"]["affected"], shares["now"]["with_workers"]) == ("1", "2")
    with open(out / "repos.csv", newline="") as fh:
        assert len(list(csv.DictReader(fh))) == 4  # the head report is unchanged: one row per repository


def test_a_gone_repository_costs_only_its_dated_row_and_limits_are_waited_out(gh, tmp_path):
    assert main(crawl_args(gh, tmp_path)) == 0
    gh.status["same/one"] = 404
    n = len(gh.requests)  # the search window is done: from here on, only the dated snapshots' requests
    gh.faults = {n: "secondary", n + 2: "502", n + 4: "primary"}
    assert main(crawl_args(gh, tmp_path) + ["--at", AT]) == 0
    assert not gh.faults and all("/commits" in p or "tarball" in p or "codeload" in p for p in gh.requests[n:])
    rows = snapshot_rows(tmp_path / "s.db")
    assert rows["same/one"][0] == "failed" and "404" in rows["same/one"][3]
    assert rows["fixed/one"][:2] == ("downloaded", sha(2))


def test_a_bad_date_is_a_usage_error(gh, tmp_path):
    assert main(crawl_args(gh, tmp_path) + ["--at", "April 2021"]) == 2
    assert not (tmp_path / "s.db").exists()


def export(db, *extra):
    out = db.parent / "manifest.csv"
    assert main(["export-manifest", "--db", str(db), "--out", str(out), *extra]) == 0
    return out


def test_a_manifest_rebuilds_exactly_the_same_pairs(gh, tmp_path):
    assert main(crawl_args(gh, tmp_path) + ["--at", AT]) == 0
    manifest = export(tmp_path / "s.db")
    with open(manifest, newline="") as fh:
        table = list(csv.DictReader(fh))
    assert list(table[0]) == ["repo", "commit", "commit_date", "commit_2021", "commit_2021_date"]
    assert {r["repo"]: (r["commit"], r["commit_2021"]) for r in table} == {
        "fixed/one": (sha(3), sha(2)), "same/one": (sha(4), sha(4)), "late/one": (sha(5), ""), "slow/one": (sha(6), "")}
    assert all(r["commit_date"] for r in table)

    # the repositories move on; the manifest still names the commits of the study
    gh.add_history("fixed/one", gh.history["fixed/one"] + [(sha(7), "2024-01-01T00:00:00Z", {"x.py": b""})])
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    first = len(gh.requests)
    assert main(["crawl", "--manifest", str(manifest), "--api-url", gh.url, "--db", str(rebuilt / "r.db"),
                 "--sources", str(rebuilt / "src"), "--at", AT]) == 0
    assert export(rebuilt / "r.db").read_text() == manifest.read_text()
    with Catalog(rebuilt / "r.db") as c:
        meta = {r["full_name"]: r for r in c.repos()}
    assert meta["fixed/one"]["created_at"] == "2020-02-01T12:00:00Z" and meta["fixed/one"]["license"] == "MIT"
    assert (Path(meta["fixed/one"]["source_path"]) / "train.py").read_bytes() == SEEDED
    assert not any("/commits" in p for p in gh.requests[first:])  # the manifest says which commit: no lookups

    # started again, it downloads nothing
    tarballs = gh.counts["tarball"]
    assert main(["crawl", "--manifest", str(manifest), "--api-url", gh.url, "--db", str(rebuilt / "r.db"),
                 "--sources", str(rebuilt / "src"), "--at", AT]) == 0
    assert gh.counts["tarball"] == tarballs


def test_a_manifest_with_bad_rows_is_refused_before_any_request(gh, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("repo,commit,commit_date,commit_2021,commit_2021_date\n"
                   f"ok/one,{sha(1)},,,\n"
                   f"../etc,{sha(1)},,,\n"
                   f"a/b,HEAD,,,\n"
                   f"ok/one,{sha(2)},,,\n"
                   f"c/d,{sha(3)},yesterday,{sha(4)},\n")
    assert main(["crawl", "--manifest", str(bad), "--api-url", gh.url, "--db", str(tmp_path / "b.db")]) == 2
    err = capsys.readouterr().err
    for line in ("bad.csv:3: repo", "bad.csv:4: commit 'HEAD'", "bad.csv:5: ok/one is listed twice",
                 "bad.csv:6: commit_date 'yesterday'"):
        assert line in err
    assert gh.requests == [] and not (tmp_path / "b.db").exists()
    (tmp_path / "nocol.csv").write_text("name,sha\nx/y,1\n")
    assert main(["crawl", "--manifest", str(tmp_path / "nocol.csv"), "--db", str(tmp_path / "b.db")]) == 2
    assert "no repo or commit column" in capsys.readouterr().err


def test_a_manifest_row_that_cannot_be_had_costs_only_its_row(gh, tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_text("repo,commit\n"
                        f"fixed/one,{sha(2)}\n"
                        f"gone/away,{sha(9)}\n"
                        f"same/one,{sha(1)}\n")  # a commit the repository does not have: the tarball is another
    gh.tarballs["same/one"] = gh.tarball("same/one")
    assert main(["crawl", "--manifest", str(manifest), "--api-url", gh.url, "--db", str(tmp_path / "m.db"),
                 "--sources", str(tmp_path / "src")]) == 0
    with Catalog(tmp_path / "m.db") as c:
        rows = {r["full_name"]: r for r in c.repos()}
    assert rows["fixed/one"]["status"] == "downloaded" and rows["fixed/one"]["commit_sha"] == sha(2)
    assert rows["gone/away"]["status"] == "failed" and "404" in rows["gone/away"]["reason"]
    assert rows["same/one"]["status"] == "failed" and sha(4) in rows["same/one"]["reason"]
    assert snapshot_rows(tmp_path / "m.db") == {}  # no 2021 column, no --at: no dated snapshots


def test_export_needs_a_date_when_the_catalog_has_several(gh, tmp_path, capsys):
    assert main(crawl_args(gh, tmp_path) + ["--at", AT]) == 0
    assert main(crawl_args(gh, tmp_path) + ["--at", "2020-06-01"]) == 0
    assert main(["export-manifest", "--db", str(tmp_path / "s.db"), "--out", str(tmp_path / "manifest.csv")]) == 2
    assert not (tmp_path / "manifest.csv").exists()
    assert "2020-06-01, 2021-04-11" in capsys.readouterr().err
    with open(export(tmp_path / "s.db", "--at", "2020-06-01"), newline="") as fh:
        rows = {r["repo"]: r["commit_2021"] for r in csv.DictReader(fh)}
    assert rows == {"fixed/one": sha(1), "same/one": sha(4), "late/one": "", "slow/one": ""}


OLD_SCHEMA = """
CREATE TABLE repos (
    full_name TEXT PRIMARY KEY, id INTEGER, stars INTEGER, forks INTEGER, created_at TEXT, pushed_at TEXT,
    default_branch TEXT, license TEXT, size INTEGER, fork INTEGER, archived INTEGER,
    status TEXT NOT NULL, reason TEXT, commit_sha TEXT, source_path TEXT,
    discovered_at TEXT, fetched_at TEXT, api_url TEXT, tool_version TEXT
);
CREATE TABLE verdicts (
    repo TEXT PRIMARY KEY REFERENCES repos(full_name), commit_sha TEXT, verdict TEXT, rng_kind TEXT,
    torch_pin TEXT, effective TEXT, findings INTEGER, errors INTEGER, classified_at TEXT, tool_version TEXT
);
CREATE TABLE findings (
    repo TEXT NOT NULL, code TEXT, path TEXT, line INTEGER, col INTEGER, verdict TEXT, dataset TEXT,
    rng_call TEXT, rng_kind TEXT, loader TEXT, num_workers TEXT, worker_init_fn TEXT, seed TEXT, fingerprint TEXT
);
"""


def test_a_catalog_from_before_dated_snapshots_keeps_working(tmp_path):
    db = tmp_path / "old.db"
    con = sqlite3.connect(db)
    con.executescript(OLD_SCHEMA)
    con.execute("INSERT INTO repos (full_name, status, commit_sha, created_at) VALUES ('a/b', 'classified', 'c', "
                "'2020-01-01T00:00:00Z')")
    con.execute("INSERT INTO verdicts VALUES ('a/b', 'c', 'affected', 'global', '', 'unknown', 1, 0, 'x', '0')")
    con.commit()
    con.close()
    from survey.report.then_now import load_pairs
    assert load_pairs(db).empty  # read-only readers see no snapshots rather than an error
    with Catalog(db) as c:
        (row,) = c.repos()
        assert row["full_name"] == "a/b" and row["commit_date"] is None and row["status"] == "classified"
    with Catalog(db) as c:  # opened again: nothing to add twice
        assert [r[1] for r in c.db.execute("PRAGMA table_info(repos)")].count("commit_date") == 1
        # a finding's later fields (vendored, unreachable) become columns, so saving a verdict works
        assert {"vendored", "unreachable"} <= {r[1] for r in c.db.execute("PRAGMA table_info(findings)")}
    out = io.StringIO()
    with Catalog(db) as c:
        from survey.crawl.manifest import export_manifest
        assert export_manifest(c, out) == 1
    assert out.getvalue().splitlines()[1] == "a/b,c,,,"
