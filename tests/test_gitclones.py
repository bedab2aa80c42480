"""crawl --from-git against small git repositories built here, with dated commits."""
import os
import sqlite3
import subprocess
from pathlib import Path

import survey.crawl.gitclones as gitclones
from survey.cli import main
from survey.crawl.store import Catalog
from test_crawl import BUGGY
from test_snapshots import AT, SEEDED

ENV = {**os.environ, "GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@example.com", "GIT_COMMITTER_NAME": "c",
       "GIT_COMMITTER_EMAIL": "c@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd, *args, date=None):
    env = {**ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else ENV
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout.strip()


def make_repo(path, commits):
    """A work tree with one commit per (date, files); a file given as None is deleted."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    for date, files in commits:
        for rel, data in files.items():
            target = path / rel
            if data is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        git(path, "add", "-A")
        git(path, "commit", "-q", "--allow-empty", "-m", "m", date=date)
    return [c for c in git(path, "log", "--format=%H").split()][::-1]


def corpus(tmp_path):
    work, root = tmp_path / "work", tmp_path / "clones"
    root.mkdir()
    shas = {}
    shas["alice"] = make_repo(work / "alice", [
        ("2020-01-05T10:00:00Z", {"train.py": BUGGY, "requirements.txt": b"torch==1.8.1\n", "notes.md": b"x",
                                  "huge.py": b"0" * 3_000_000, "conf/data.yaml": b"a: 1\n"}),
        ("2021-06-01T09:30:00+02:00", {"train.py": SEEDED, "huge.py": None})])
    os.symlink("/etc/passwd", work / "alice" / "link.py")
    git(work / "alice", "add", "link.py")
    git(work / "alice", "update-index", "--add", "--cacheinfo", f"160000,{shas['alice'][0]},sub")
    git(work / "alice", "commit", "-q", "-m", "link and submodule", date="2021-07-01T00:00:00Z")
    shas["alice"] = git(work / "alice", "log", "--format=%H").split()[::-1]
    git(tmp_path, "clone", "-q", "--bare", str(work / "alice"), str(root / "alice+proj"))
    shas["bob"] = make_repo(root / "bob" / "tool", [("2022-02-01T00:00:00Z", {"train.py": BUGGY})])
    # the fetch tool's layout: owner+name/repo/.git, work tree files absent
    shas["carol"] = make_repo(root / "carol+mirror" / "repo", [("2019-05-01T00:00:00Z", {"train.py": BUGGY})])
    (root / "carol+mirror" / "repo" / "train.py").unlink()
    make_repo(root / "nameless", [("2020-01-01T00:00:00Z", {"a.py": b""})])
    (root / "dave+empty").mkdir()
    git(root / "dave+empty", "init", "-q")
    return root, shas


def repos(db):
    with Catalog(db) as c:
        return {r["full_name"]: r for r in c.repos()}


def snapshots(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    rows = {r["repo"]: dict(r) for r in con.execute("SELECT * FROM snapshots")}
    con.close()
    return rows


def kept(path):
    return sorted(p.relative_to(path).as_posix() for p in Path(path).rglob("*") if p.is_file() or p.is_symlink())


def test_clones_are_registered_at_head_and_before_the_date_without_a_checkout(tmp_path, capsys):
    root, shas = corpus(tmp_path)
    status_before = git(root / "carol+mirror" / "repo", "status", "--porcelain")
    db, sources = tmp_path / "g.db", tmp_path / "src"
    assert main(["crawl", "--from-git", str(root), "--at", AT, "--db", str(db), "--sources", str(sources)]) == 0
    err = capsys.readouterr().err
    assert "nameless: a clone, but not named owner+name" in err
    rows = repos(db)
    assert set(rows) == {"alice/proj", "bob/tool", "carol/mirror", "dave/empty"}
    alice = rows["alice/proj"]
    assert (alice["status"], alice["commit_sha"], alice["default_branch"]) == ("downloaded", shas["alice"][-1], "main")
    assert alice["created_at"] == "2020-01-05T10:00:00Z"
    assert alice["pushed_at"] == alice["commit_date"] == "2021-07-01T00:00:00Z"
    assert Path(alice["source_path"]) == sources / "alice" / "proj" / shas["alice"][-1]
    # only what the analysis reads: no link, no submodule, no oversized file, no notes
    assert kept(alice["source_path"]) == ["conf/data.yaml", "requirements.txt", "train.py"]
    assert (Path(alice["source_path"]) / "train.py").read_bytes() == SEEDED
    assert rows["dave/empty"]["status"] == "failed" and "empty repository" in rows["dave/empty"]["reason"]

    snaps = snapshots(db)
    then = snaps["alice/proj"]
    assert (then["status"], then["commit_sha"], then["commit_date"]) == ("downloaded", shas["alice"][0],
                                                                         "2020-01-05T10:00:00Z")
    assert kept(then["source_path"]) == ["conf/data.yaml", "requirements.txt", "train.py"]
    assert (Path(then["source_path"]) / "train.py").read_bytes() == BUGGY
    assert snaps["bob/tool"]["status"] == "absent" and snaps["bob/tool"]["reason"] == f"created after {AT}"
    carol = rows["carol/mirror"]
    assert (Path(carol["source_path"]) / "train.py").read_bytes() == BUGGY  # read from git, not the work tree
    assert snaps["carol/mirror"]["source_path"] == carol["source_path"]
    assert "dave/empty" not in snaps
    assert git(root / "carol+mirror" / "repo", "status", "--porcelain") == status_before
    assert not list(sources.rglob(".partial-*"))

    # again: same catalog, nothing rewritten
    inode = os.stat(alice["source_path"]).st_ino
    assert main(["crawl", "--from-git", str(root), "--at", AT, "--db", str(db), "--sources", str(sources)]) == 0
    assert {k: (r["commit_sha"], r["source_path"]) for k, r in repos(db).items()} == \
        {k: (r["commit_sha"], r["source_path"]) for k, r in rows.items()}
    assert os.stat(alice["source_path"]).st_ino == inode

    assert main(["classify", "--db", str(db), "--jobs", "1"]) == 0
    assert snapshots(db)["alice/proj"]["verdict"] == "affected"
    con = sqlite3.connect(db)
    assert con.execute("SELECT verdict FROM verdicts WHERE repo='alice/proj'").fetchone() == ("seeded",)
    con.close()


def test_a_hostile_tree_writes_nothing_outside_its_folder(tmp_path):
    root = tmp_path / "clones"
    make_repo(root / "evil+tree", [("2020-01-01T00:00:00Z", {"ok.py": b"x = 1\n"})])
    repo = root / "evil+tree"
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"bad\n", capture_output=True,
                          check=True).stdout.decode().strip()
    inner = subprocess.run(["git", "mktree"], cwd=repo, input=f"100644 blob {blob}\tescape.py\n".encode(),
                           capture_output=True, check=True).stdout.decode().strip()
    outer = subprocess.run(["git", "mktree"], cwd=repo, capture_output=True, check=True,
                           input=f"040000 tree {inner}\t..\n100644 blob {blob}\tok.py\n".encode()).stdout.decode().strip()
    commit = git(repo, "commit-tree", outer, "-p", "HEAD", "-m", "evil", date="2020-02-01T00:00:00Z")
    git(repo, "update-ref", "refs/heads/main", commit)
    db, sources = tmp_path / "e.db", tmp_path / "deep" / "src"
    assert main(["crawl", "--from-git", str(root), "--db", str(db), "--sources", str(sources)]) == 0
    row = repos(db)["evil/tree"]
    assert row["status"] == "downloaded" and kept(row["source_path"]) == ["ok.py"]
    assert kept(tmp_path / "deep") == [f"src/evil/tree/{commit}/ok.py"]


def test_a_git_that_takes_too_long_costs_only_that_clone(tmp_path, monkeypatch):
    root, _ = corpus(tmp_path)
    monkeypatch.setattr(gitclones, "GIT_TIMEOUT", 1e-6)
    db = tmp_path / "t.db"
    assert main(["crawl", "--from-git", str(root), "--db", str(db), "--sources", str(tmp_path / "s")]) == 0
    rows = repos(db)
    assert {r["status"] for r in rows.values()} == {"failed"}
    assert all("took more than 1e-06 s" in r["reason"] for r in rows.values())
