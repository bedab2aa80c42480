"""Hostile names in the report, and catalogs that are no catalogs."""
import csv
import os
import sqlite3

import pytest

from survey.cli import main
from conftest import FIXTURES

BUGGY = (FIXTURES / "global_getitem" / "train.py").read_text()


@pytest.fixture
def catalog(tmp_path):
    src = tmp_path / "checkouts"
    names = ["=1+1", "@SUM(1)", "evil\u202etxt.py", "n" * 100]
    for name in names:
        (src / name).mkdir(parents=True)
        (src / name / "+train.py").write_text(BUGGY)
    db = tmp_path / "s.db"
    assert main(["crawl", "--from-dir", str(src), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db), "--jobs", "1"]) == 0
    return db


def test_csv_cells_cannot_run_as_formulas(catalog, tmp_path):
    assert main(["report", "--db", str(catalog), "--out", str(tmp_path / "out")]) == 0
    for table in ("repos.csv", "findings.csv"):
        with open(tmp_path / "out" / table, newline="", encoding="utf-8") as fh:
            cells = [c for row in csv.reader(fh) for c in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
        assert "'=1+1" in cells and "'@SUM(1)" in cells


def test_bidi_controls_are_shown_not_obeyed_and_long_names_wrap(catalog, tmp_path):
    assert main(["report", "--db", str(catalog), "--out", str(tmp_path / "out")]) == 0
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "\u202e" not in page and "evil\\u202etxt.py" in page
    assert "overflow-wrap:anywhere" in page


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_catalog_whose_folder_cannot_be_written_is_still_read(catalog, tmp_path):
    # SQLite cannot make the WAL index beside a catalog in a read-only folder
    os.chmod(catalog.parent, 0o555)
    try:
        assert main(["report", "--db", str(catalog), "--out", str(tmp_path.parent / (tmp_path.name + "-out"))]) == 0
    finally:
        os.chmod(catalog.parent, 0o755)


@pytest.mark.parametrize("content", [b"", b"garbage, not SQLite" * 100, "sqlite"], ids=["empty", "corrupt", "other-db"])
def test_a_file_that_is_no_catalog_is_said_so(tmp_path, capsys, content):
    db = tmp_path / "x.db"
    if content == "sqlite":
        sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    else:
        db.write_bytes(content)
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "not a survey catalog" in err and "internal error" not in err
