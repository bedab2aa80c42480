"""Parallel classification gives the same verdicts: a process pool, and a real Dask LocalCluster."""
import csv
import io
import sqlite3

import pytest

from survey.cli import main
from conftest import FIXTURES, expected_rows

NAMES = ["global_getitem", "rng_object_init", "wif_partial", "clean_init_random", "no_dataset_script",
         "loader_helper_param", "single_process_zero", "wif_imported"]


def rows_of(text):
    return {r["repo"]: r for r in csv.DictReader(io.StringIO(text))}


def test_jobs_give_the_same_rows_in_the_same_order(capsys):
    paths = [str(FIXTURES / n) for n in NAMES]
    assert main(["classify", "--jobs", "1", *paths]) == 0
    one = capsys.readouterr().out
    assert main(["classify", "--jobs", "2", *paths]) == 0
    two = capsys.readouterr().out
    assert one == two
    assert [r for r in rows_of(two)] == NAMES
    expected = expected_rows()
    assert all(r["verdict"] == expected[n]["verdict"] for n, r in rows_of(two).items())


def test_dask_cluster_classifies_a_catalog_and_only_the_client_writes(tmp_path, capsys):
    distributed = pytest.importorskip("distributed")
    src = tmp_path / "checkouts"
    src.mkdir()
    for n in NAMES:
        (src / n).symlink_to(FIXTURES / n, target_is_directory=True)
    db = tmp_path / "s.db"
    assert main(["crawl", "--from-dir", str(src), "--db", str(db)]) == 0
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None,
                                  processes=True) as cluster:
        assert main(["classify", "--db", str(db), "--scheduler", cluster.scheduler_address]) == 0
        paths = [str(FIXTURES / n) for n in NAMES]
        capsys.readouterr()
        assert main(["classify", "--scheduler", cluster.scheduler_address, *paths]) == 0
        on_cluster = capsys.readouterr().out
    assert main(["classify", "--jobs", "1", *paths]) == 0
    assert on_cluster == capsys.readouterr().out  # same rows, in the order asked, though big ones ran first
    con = sqlite3.connect(db)
    got = dict(con.execute("SELECT repo, verdict FROM verdicts").fetchall())
    expected = expected_rows()
    assert got == {n: expected[n]["verdict"] for n in NAMES}


def test_catalog_with_jobs_saves_every_verdict_as_it_finishes(tmp_path):
    src = tmp_path / "checkouts"
    src.mkdir()
    for n in NAMES:
        (src / n).symlink_to(FIXTURES / n, target_is_directory=True)
    db = tmp_path / "s.db"
    out = tmp_path / "rows.csv"
    assert main(["crawl", "--from-dir", str(src), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db), "--jobs", "2", "--csv", str(out)]) == 0
    con = sqlite3.connect(db)
    got = dict(con.execute("SELECT repo, verdict FROM verdicts").fetchall())
    expected = expected_rows()
    assert got == {n: expected[n]["verdict"] for n in NAMES}
    assert {r["repo"]: r["verdict"] for r in csv.DictReader(out.open())} == got


def test_classifying_leaves_no_cyclic_garbage():
    # Facts, trees and indexes are freed by reference counting as each repository finishes; a cycle (a table
    # of bound methods, a class made per call) would keep a whole repository's trees alive until the cyclic
    # collector runs, and that collector then costs a third of the run on real code. Only what the analysis
    # builds is looked at: other tests' threads (Dask's event loop) leave garbage of their own.
    import ast
    import gc
    import survey.analysis.link as link
    import survey.analysis.walk as walk
    from survey.analysis import model
    from survey.analysis.classify import classify_repo
    from survey.analysis.sources import FactsCache, RepoFiles
    ours = (ast.AST, walk.Collector, walk.Scope, link.Index, RepoFiles, model.FileFacts, model.Function)
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for repo in sorted(FIXTURES.iterdir()):
            classify_repo(repo, cache=FactsCache())
            gc.collect()
            cyclic = [type(o).__name__ for o in gc.garbage if isinstance(o, ours) or type(o) is type]
            gc.garbage.clear()
            assert cyclic == [], repo.name
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
