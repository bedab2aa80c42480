"""Hostile local checkouts: FIFOs, devices, huge and oddly named files, missing folders, quadratic bait."""
import os
import sqlite3
import stat
import threading
import time

import pytest

import survey.analysis.sources as sources
from survey.analysis.classify import classify_repo
from survey.cli import main
from conftest import FIXTURES

BUGGY = (FIXTURES / "global_getitem" / "train.py").read_text()


def finished(fn, seconds=60):
    """fn's result, or a failure if it has not returned within ``seconds`` (it would block for ever)."""
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("v", fn()), daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "blocked"
    return out["v"]


def test_a_fifo_and_a_device_named_py_are_skipped_not_read(write_repo):
    root = write_repo({"train.py": BUGGY})
    os.mkfifo(root / "x.py")
    try:
        os.mknod(root / "zero.py", stat.S_IFCHR | 0o666, os.makedev(1, 5))  # /dev/zero
    except PermissionError:
        pass
    v = finished(lambda: classify_repo(root))
    assert v.verdict == "affected"
    errors = {e.path: e.reason for e in v.errors}
    assert errors["x.py"] == "skipped: not a regular file"
    if (root / "zero.py").exists():
        assert errors["zero.py"] == "skipped: not a regular file"


def test_the_size_cap_holds_before_reading(write_repo):
    root = write_repo({"train.py": BUGGY})
    with open(root / "sparse.py", "wb") as fh:
        fh.truncate(50_000_000_000)  # 50 GB that claim nothing on disk
    v = finished(lambda: classify_repo(root))
    assert v.verdict == "affected"
    assert "over the 1000000-byte limit" in {e.path: e.reason for e in v.errors}["sparse.py"]


def test_file_names_that_are_not_utf8_are_analysed_and_stored(tmp_path):
    src = tmp_path / "checkouts" / "odd"
    src.mkdir(parents=True)
    (src / os.fsdecode(b"tr\xe9in.py")).write_text(BUGGY)
    (src / os.fsdecode(b"bad\xff.py")).write_bytes(b"class X(Dataset):\n    def f(:\n")
    db = tmp_path / "s.db"
    assert main(["crawl", "--from-dir", str(tmp_path / "checkouts"), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db), "--jobs", "1"]) == 0
    con = sqlite3.connect(db)
    assert con.execute("SELECT verdict, errors FROM verdicts").fetchall() == [("affected", 1)]
    assert con.execute("SELECT path FROM findings").fetchall() == [("tr\\xe9in.py",)]


def test_missing_source_folders_are_errors_not_no_dataset(tmp_path, capsys):
    src = tmp_path / "checkouts"
    for name in ("alpha", "gone"):
        (src / name).mkdir(parents=True)
        (src / name / "train.py").write_text(BUGGY)
    db = tmp_path / "s.db"
    assert main(["crawl", "--from-dir", str(src), "--db", str(db)]) == 0
    (src / "gone" / "train.py").unlink()
    (src / "gone").rmdir()
    assert main(["classify", "--db", str(db), "--jobs", "1"]) == 2
    assert "gone: source folder missing" in capsys.readouterr().err
    con = sqlite3.connect(db)
    assert con.execute("SELECT full_name, status, reason LIKE 'source folder missing%' FROM repos ORDER BY 1").fetchall() \
        == [("alpha", "classified", None), ("gone", "failed", 1)]
    assert classify_repo(src / "gone").errors[0].reason.startswith("missing")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_folder_is_an_error(write_repo):
    root = write_repo({"train.py": BUGGY, "sub/data.py": BUGGY})
    os.chmod(root / "sub", 0)
    try:
        v = classify_repo(root)
    finally:
        os.chmod(root / "sub", 0o755)
    assert "unreadable folder" in {e.path: e.reason for e in v.errors}["sub"]


@pytest.mark.parametrize("bait", ["unclosed", "chain"])
def test_the_byte_prefilter_is_linear(write_repo, bait):
    # 1 MB of unclosed heads took 814 s; a chain of class lines ending in (Dataset) over 600 s, in a
    # repository that never says torch.
    if bait == "unclosed":
        text = "class a(" * 125_000
    else:
        n = 40_000
        text = "".join(f"class C{i}(C{i + 1}): pass\n" for i in range(n)) + f"class C{n}(Dataset): pass\n"
    root = write_repo({"gen.py": text})
    t0 = time.process_time()
    v = finished(lambda: classify_repo(root))
    took = time.process_time() - t0
    print(f"{bait}: {len(text) / 1e6:.2f} MB scanned in {took:.2f} s CPU")
    assert v.verdict == "no-dataset"
    assert took < 10
    if bait == "chain":
        names, _ = sources._dataset_classes([sources.class_lines(text.encode())])
        assert len(names) == n + 1


def test_class_lines_agree_with_the_regular_expression():
    import re
    pattern = re.compile(rb"class[ \t]+(\w+)[ \t]*\(([^)]*)\)")
    for text in [b"class A(B): pass\nclass C(\n  D, E)\n", b"class a(class b(X)\nclass c(Y)", b"class a(b(",
                 b"xclass Q(R) class  S (T)", b"class A(B, metaclass=M(C)):"]:
        assert sources.class_lines(text) == pattern.findall(text)


def test_a_repository_out_of_time_keeps_what_was_done(write_repo, monkeypatch):
    monkeypatch.setattr(sources, "REPO_SECONDS", 0.0)
    root = write_repo({"train.py": BUGGY, "other.py": "import torch\n"})
    v = classify_repo(root)
    assert any("analysis stopped after 0 s" in e.reason for e in v.errors)
