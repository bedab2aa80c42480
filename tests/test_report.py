"""Report tables against hand-computed numbers; the HTML rendered by headless Chromium, offline."""
import csv
import os
import shutil
import subprocess
from pathlib import Path

import matplotlib.image as mpimg
import pytest

from survey.analysis.model import Finding, RepoVerdict
from survey.report.tables import build, wilson, write
from survey.crawl.store import Catalog, RepoMeta

HOSTILE = "evil/<script>document.title='pwned'</script>"


def finding(code, verdict, path="data.py", line=10, fingerprint=""):
    return Finding(code=code, path=path, line=line, col=5, message="m", verdict=verdict, dataset="data.D",
                   rng_call=f"{path}:{line}: np.random.rand()", rng_kind="global", loader="train.py:3: DataLoader(d)",
                   num_workers="4", fingerprint=fingerprint)


# (name, verdict, effective, stars, created, fork, finding codes, fingerprint)
CORPUS = [
    ("a/one", "affected", "unknown", 5, "2019-02-01", False, ["SRV101"], "fp1"),
    ("a/two", "affected", "yes", 50, "2020-05-01", False, ["SRV102"], "fp2"),
    ("b/copy-of-one", "affected", "unknown", 0, "2022-01-01", False, ["SRV101"], "fp1"),
    ("c/fork", "affected", "unknown", 0, "2022-03-01", True, ["SRV101"], "fp1"),
    ("d/flawed", "flawed-seed", "yes", 300, "2021-06-01", False, ["SRV202"], "fp3"),
    ("e/seeded", "seeded", "no", 7, "2021-09-09", False, ["SRV301"], "fp4"),
    ("f/seeded2", "seeded", "no", 2000, "2023-01-01", False, ["SRV301"], "fp5"),
    ("g/single", "single-process", "no", 1, "2018-01-01", False, ["SRV302"], "fp6"),
    ("h/clean", "clean", "no", 0, "2017-07-07", False, [], ""),
    ("i/clean2", "clean", "no", 3, "2024-01-01", False, [], ""),
    ("j/none", "no-dataset", "no", 9, "2025-01-01", False, [], ""),
    (HOSTILE, "affected", "yes", 1, "2024-04-04", False, ["SRV102"], "fp7"),
]


@pytest.fixture
def catalog(tmp_path):
    db = tmp_path / "survey.db"
    with Catalog(db) as cat:
        for name, verdict, eff, stars, created, fork, codes, fp in CORPUS:
            cat.add_discovered([RepoMeta(full_name=name, stars=stars, created_at=f"{created}T00:00:00Z", fork=fork)], "x")
            cat.mark_downloaded(name, "c0ffee" * 6 + "abcd", "/nowhere")
            path = "<img src=x onerror=alert(1)>.py" if name == HOSTILE else "data.py"
            findings = tuple(finding(c, verdict, path=path, fingerprint=fp) for c in codes)
            cat.save_verdict(RepoVerdict(name, verdict, "global", "", eff, findings), "c0ffee" * 6 + "abcd")
    return db


def test_wilson_matches_hand_computed_intervals():
    p, lo, hi = wilson(4, 6)
    assert (round(p, 4), round(lo, 4), round(hi, 4)) == (0.6667, 0.3000, 0.9032)
    assert wilson(0, 0)[0] != wilson(0, 0)[0]  # NaN when there is nothing to divide


def test_tables_match_hand_computed_numbers(catalog):
    r = build(catalog)
    assert list(r.tables["funnel"]["repositories"]) == [12, 11, 9, 8, 6]
    h = r.headline
    assert (h["with_workers"], h["affected"], h["still_affected_today"]) == (8, 6, 3)
    assert round(h["share"], 3) == 0.75
    collapsed = r.tables["collapsed"].set_index("population")
    assert collapsed.loc["forks excluded", "with_workers"] == 7
    # b/copy-of-one shares a/one's per-sample code: counted once
    assert collapsed.loc["forks excluded, copied Datasets counted once", "with_workers"] == 6
    by_stars = r.tables["by_stars"].set_index("stars")
    assert by_stars.loc["0", "with_workers"] == 2 and by_stars.loc["1000+", "affected"] == 0
    recipes = r.tables["by_recipe"].set_index("recipe")["repositories"].to_dict()
    assert recipes == {"no reseed": 5, "per-worker, per-epoch reseed": 2, "worker_id seed": 1}
    years = r.tables["by_year"].set_index("created_year")
    assert years.loc["2022", "affected"] == 2 and years.loc["2021", "with_workers"] == 2


def test_csv_files_and_links(catalog, tmp_path):
    page = write(build(catalog), tmp_path / "out")
    assert page.name == "report.html"
    with open(tmp_path / "out" / "repos.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 12 and {"repo", "commit", "verdict", "rng_kind", "effective", "torch_pin", "stars",
                                "created_at", "fork"} <= set(rows[0])
    with open(tmp_path / "out" / "findings.csv", newline="") as fh:
        f = next(r for r in csv.DictReader(fh) if r["repo"] == "a/one")
    assert f["url"] == "https://github.com/a/one/blob/" + "c0ffee" * 6 + "abcd/data.py#L10"
    for name in ("funnel", "by_year", "by_quarter", "by_stars", "by_rng_kind", "by_torch_pin", "by_recipe",
                 "effective", "collapsed"):
        assert (tmp_path / "out" / f"{name}.csv").is_file()


def test_html_is_self_contained_and_escapes_crawled_text(catalog, tmp_path):
    html = write(build(catalog), tmp_path / "out").read_text()
    assert "<script" not in html
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;&lt;/script&gt;" in html
    assert "<img src=x" not in html
    for attr in ("src=\"http", "src='http", "@import", "url(http"):
        assert attr not in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # the network is off for the page: every host resolves nowhere, every proxy is dead
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"]


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"), reason="chromium is installed by .ci/run")
def test_report_renders_in_headless_chromium(catalog, tmp_path):
    page = write(build(catalog), tmp_path / "out")
    args = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(args + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert "<title>survey: NumPy randomness in DataLoader workers</title>" in dom  # the hostile name ran nothing
    assert "<script" not in dom
    for chart in ("funnel-chart", "quarter-chart", "stars-chart", "kind-chart", "pin-chart", "recipe-chart"):
        start = dom.index(f'id="{chart}"')
        assert "<svg" in dom[start:start + 400]
    headline = dom[dom.index('id="headline"'):]
    assert "<b>8</b>" in headline and "<b>6</b>" in headline and "75.0%" in headline
    shot = tmp_path / "shot.png"
    subprocess.run(args + ["--window-size=1200,2400", f"--screenshot={shot}", page.as_uri()], capture_output=True,
                   timeout=120)
    img = mpimg.imread(shot)
    rgb = img[..., :3]
    ink = (rgb.sum(axis=2) < 2.7).mean()
    assert ink > 0.03, "the page rendered (almost) blank"
    red = ((rgb[..., 0] > 0.65) & (rgb[..., 1] < 0.35) & (rgb[..., 2] < 0.3)).sum()
    blue = ((rgb[..., 2] > 0.6) & (rgb[..., 0] < 0.3)).sum()
    assert red > 500 and blue > 5000, "the funnel and share charts were not drawn"


def test_the_offline_demo_runs_the_whole_pipeline_on_the_sample_corpus(tmp_path, capsys):
    from survey.cli import main
    sample = Path(__file__).parent.parent / "data" / "sample"
    db = tmp_path / "demo.db"
    assert main(["crawl", "--from-dir", str(sample), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db)]) == 0
    capsys.readouterr()
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "reports")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "reports" / "report.html")
    with open(tmp_path / "reports" / "repos.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 40
    assert {r["verdict"] for r in rows} == {"affected", "flawed-seed", "seeded", "single-process", "clean",
                                            "no-dataset"}
    years = {r["created_at"][:4] for r in rows}
    assert min(years) == "2017" and max(years) == "2025"
    assert sum(r["fork"] == "True" for r in rows) >= 3
    assert all("/" in r["repo"] and len(r["commit"]) == 40 for r in rows)
