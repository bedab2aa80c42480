"""Report tables against hand-computed numbers; the CSVs against their data dictionary; the HTML's DOM as
written and as rendered by headless Chromium, offline; a corpus without metadata; classify's progress."""
import csv
import io
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import matplotlib.image as mpimg
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from survey.analysis.model import Finding, RepoVerdict
from survey.crawl.store import Catalog, RepoMeta
from survey.report.files import SCHEMAS, write
from survey.report.progress import VerdictProgress
from survey.report.tables import build, wilson

ROOT = Path(__file__).parent.parent
SAMPLE = ROOT / "data" / "sample"
HOSTILE = "evil/<script>document.title='pwned'</script>"
SHA = "c0ffee" * 6 + "abcd"


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
        cat.record_crawl("https://api.github.com", "torch", ("2017-01-01", "2025-12-31"), 1, False)
        cat.mark_window("torch", "2017-01-01", "2025-12-31", 13)
        for name, verdict, eff, stars, created, fork, codes, fp in CORPUS:
            meta = RepoMeta(full_name=name, stars=stars, created_at=f"{created}T00:00:00Z", fork=fork)
            cat.add_discovered([meta], "x")
            cat.mark_downloaded(name, SHA, "/nowhere")
            path = "<img src=x onerror=alert(1)>.py" if name == HOSTILE else "data.py"
            findings = tuple(finding(c, verdict, path=path, fingerprint=fp) for c in codes)
            cat.save_verdict(RepoVerdict(name, verdict, "global", "", eff, findings), SHA)
        cat.add_discovered([RepoMeta(full_name="k/gone", stars=4)], "x")
        cat.mark_failed("k/gone", "HTTP 404 on the tarball")
    return db


def _folder_without_metadata(tmp_path) -> Path:
    root = tmp_path / "plain"
    root.mkdir()
    with open(SAMPLE / "metadata.csv", newline="") as fh:
        folders = [row["folder"] for row in csv.DictReader(fh)][:12]
    for name in folders:
        shutil.copytree(SAMPLE / name, root / name)
    return root


@pytest.fixture
def plain_report(tmp_path):
    """A --from-dir corpus with no metadata.csv: no names, dates, stars, fork flags or commits."""
    from survey.cli import main
    db = tmp_path / "plain.db"
    assert main(["crawl", "--from-dir", str(_folder_without_metadata(tmp_path)), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db), "--jobs", "1"]) == 0
    return write(build(db), tmp_path / "plain-out")


def _rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_wilson_matches_hand_computed_intervals():
    p, lo, hi = wilson(4, 6)
    assert (round(p, 4), round(lo, 4), round(hi, 4)) == (0.6667, 0.3000, 0.9032)
    assert wilson(0, 0)[0] != wilson(0, 0)[0]  # NaN when there is nothing to divide


def test_tables_match_hand_computed_numbers(catalog):
    r = build(catalog)
    assert list(r.tables["funnel"]["repositories"]) == [12, 11, 9, 8, 6]
    h = r.headline
    assert (h["with_workers"], h["affected"], h["effective_yes"], h["effective_unknown"]) == (8, 6, 3, 3)
    assert round(h["share"], 3) == 0.75
    collapsed = r.tables["collapsed"].set_index("population")
    assert collapsed.loc["forks excluded", "with_workers"] == 7
    # b/copy-of-one shares a/one's per-sample code: counted once
    assert collapsed.loc["forks excluded, copied Datasets counted once", "with_workers"] == 6
    by_stars = r.tables["by_stars"].set_index("stars")
    assert by_stars.loc["0", "with_workers"] == 2 and by_stars.loc["1000+", "affected"] == 0
    recipes = r.tables["by_recipe"].set_index("recipe")
    assert recipes["repositories"].to_dict() == {"no reseed": 5, "per-worker, per-epoch reseed": 2, "worker_id seed": 1}
    assert recipes["works"].to_dict() == {"no reseed": False, "per-worker, per-epoch reseed": True,
                                          "worker_id seed": False}
    years = r.tables["by_year"].set_index("created_year")
    assert years.loc["2022", "affected"] == 2 and years.loc["2021", "with_workers"] == 2
    # every year and quarter from the first to the last is kept, empty or not
    assert list(years.index) == [str(y) for y in range(2017, 2026)] and years.loc["2017", "with_workers"] == 0
    quarters = list(r.tables["by_quarter"]["created_quarter"])
    assert quarters[0] == "2017Q3" and quarters[-1] == "2025Q1" and len(quarters) == 31
    groups = r.repos.set_index("repo")
    assert groups.loc["b/copy-of-one", "copy_group"] == "a/one" == groups.loc["c/fork", "copy_group"]
    assert groups.loc["a/one", "copies"] == 3 and groups.loc["a/two", "copies"] == 1


def test_every_csv_matches_its_data_dictionary(catalog, tmp_path):
    out = tmp_path / "out"
    write(build(catalog), out)
    package = json.loads((out / "datapackage.json").read_text())
    assert package["profile"] == "tabular-data-package"
    names = {res["name"] for res in package["resources"]}
    assert names == {p.stem for p in out.glob("*.csv")} == set(SCHEMAS)
    parse = {"integer": int, "number": float, "boolean": {"True": True, "False": False}.__getitem__,
             "datetime": lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ"), "string": str}
    for res in package["resources"]:
        fields = res["schema"]["fields"]
        with open(out / res["path"], newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            assert next(reader) == [f["name"] for f in fields], res["name"]
            for row in reader:
                for value, f in zip(row, fields):
                    if value != "":
                        parse[f["type"]](value)  # raises when a value does not have its declared type
        assert all(f["description"] for f in fields)


def test_csvs_are_tidy(catalog, tmp_path):
    write(build(catalog), tmp_path / "out")
    f = next(r for r in _rows(tmp_path / "out" / "findings.csv") if r["repo"] == "a/one")
    assert (f["draw_path"], f["draw_line"], f["draw_col"], f["draw_code"]) == ("data.py", "10", "5", "np.random.rand()")
    assert (f["loader_path"], f["loader_line"], f["loader_code"]) == ("train.py", "3", "DataLoader(d)")
    assert (f["num_workers"], f["num_workers_evidence"], f["recipe"]) == ("4", "4", "no reseed")
    assert f["url"] == f"https://github.com/a/one/blob/{SHA}/data.py#L10"
    repos = {r["repo"]: r for r in _rows(tmp_path / "out" / "repos.csv")}
    assert len(repos) == 12
    one = repos["a/one"]
    assert (one["recipe"], one["copy_group"], one["stars"], one["fork"]) == ("no reseed", "a/one", "5", "False")
    assert one["classified_at"] and one["tool_version"].startswith("0.") and one["created_at"] == "2019-02-01T00:00:00Z"


def test_recipe_and_copy_tables_can_be_recomputed_from_repos_csv(catalog, tmp_path):
    out = tmp_path / "out"
    write(build(catalog), out)
    repos = pd.read_csv(out / "repos.csv", keep_default_na=False, dtype=str)
    base = repos[repos["verdict"].isin(["affected", "flawed-seed", "seeded"])]
    by_recipe = pd.read_csv(out / "by_recipe.csv").set_index("recipe")["repositories"].to_dict()
    assert base["recipe"].value_counts().to_dict() == by_recipe
    once = repos[repos["fork"] != "True"].sort_values(["created_at", "repo"]).drop_duplicates("copy_group")
    once = once[once["verdict"].isin(["affected", "flawed-seed", "seeded"])]
    collapsed = pd.read_csv(out / "collapsed.csv").set_index("population")
    assert collapsed.loc["forks excluded, copied Datasets counted once", "with_workers"] == len(once)


def test_html_is_self_contained_and_escapes_crawled_text(catalog, tmp_path):
    html = write(build(catalog), tmp_path / "out").read_text()
    assert "<script" not in html
    assert "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;" in html
    assert "<img src=x" not in html
    for attr in ("src=\"http", "src='http", "@import", "url(http"):
        assert attr not in html


def test_methods_and_comparison_come_from_the_catalog(catalog, tmp_path):
    with Catalog(catalog) as cat:  # the same crawl resumed: one corpus definition, run twice
        cat.record_crawl("https://api.github.com", "torch", ("2017-01-01", "2025-12-31"), 1, False)
    dom = BeautifulSoup(write(build(catalog), tmp_path / "out").read_text(), "html.parser")
    searches = [li for li in dom.find(id="corpus").find_all("li") if "GitHub search" in li.get_text()]
    assert len(searches) == 1 and "run 2 times" in searches[0].get_text()
    corpus = dom.find(id="corpus").get_text(" ", strip=True)
    assert "torch language:Python" in corpus and "2017-01-01..2025-12-31" in corpus and "at least 1 stars" in corpus
    assert "forks left out" in corpus and "1 search windows" in corpus
    counts = {td[0].get_text(strip=True): td[1].get_text(strip=True)
              for td in (tr.find_all("td") for tr in dom.find(id="catalog-counts").find_all("tr")) if td}
    assert counts["discovered (in the catalog)"] == "13" and counts["failed to download"] == "1"
    assert counts["failed: HTTP 404 on the tarball"] == "1" and counts["classified"] == "12"
    assert "survey 0." in dom.find(id="tool-version").get_text()
    assert len(dom.find(id="verdicts").find_all("tr")) == 7
    rows = [[td.get_text(strip=True) for td in tr.find_all("td")] for tr in dom.find(id="comparison").find_all("tr")]
    assert rows[1][4] == "over 95%" and rows[2][2:6] == ["8", "6", "75.0%", "40.9%–92.9%"]


def test_summary_script_states_the_comparison_the_html_states(catalog, tmp_path):
    out = tmp_path / "out"
    dom = BeautifulSoup(write(build(catalog), out).read_text(), "html.parser")
    sentence = dom.find(id="comparison-sentence").get_text(" ", strip=True)
    assert "6 of 8 (75.0%, 95% CI 40.9%–92.9%)" in sentence and "lies above" in sentence
    text = subprocess.run([sys.executable, str(ROOT / "analysis" / "summary.py"), str(out)], capture_output=True,
                          text=True, check=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout
    assert sentence in [" ".join(line.split()) for line in text.splitlines()]


def test_affected_table_groups_copies_and_sorts_by_stars(catalog, tmp_path):
    dom = BeautifulSoup(write(build(catalog), tmp_path / "out").read_text(), "html.parser")
    table = dom.find(id="affected")
    bodies = table.find_all("tbody")
    firsts = [b.find("tr", class_=lambda c: c != "group-head").find("td").get_text(strip=True) for b in bodies]
    assert firsts[:2] == ["d/flawed", "a/two"]  # 300 stars, then 50
    group = next(b for b in bodies if "copy group" in b.get_text())
    names = [tr.find("td").get_text(strip=True) for tr in group.find_all("tr")[1:]]
    assert names == ["a/one", "b/copy-of-one", "c/fork(fork)"]
    assert "3 in copy group" in group.get_text(" ", strip=True)
    evidence = group.find("div", class_="evidence").get_text(" ", strip=True)
    assert "np.random.rand()" in evidence and "num_workers 4" in evidence and "no worker_init_fn" in evidence
    assert group.find("a", string="data.py:10")["href"] == f"https://github.com/a/one/blob/{SHA}/data.py#L10"
    stars = [td for td in table.find_all("td") if td.get_text(strip=True) == "300"]
    assert stars and "num" in stars[0]["class"]


def test_charts_keep_text_and_mark_2021_whatever_the_data(tmp_path):
    db = tmp_path / "old.db"
    with Catalog(db) as cat:  # every repository from 2017 and 2018: the markers must still be drawn
        for i in range(4):
            name = f"o/r{i}"
            cat.add_discovered([RepoMeta(full_name=name, stars=i, created_at=f"201{7 + i % 2}-03-01T00:00:00Z")], "x")
            cat.mark_downloaded(name, SHA, "/nowhere")
            cat.save_verdict(RepoVerdict(name, "affected", "global", "", "unknown", (finding("SRV101", "affected"),)),
                             SHA)
    dom = BeautifulSoup(write(build(db), tmp_path / "out").read_text(), "html.parser")
    svg = dom.find(id="time-chart").find("svg")
    texts = {t.get_text(strip=True) for t in svg.find_all("text")}
    assert {"2021 post", "PyTorch 1.9", "2017", "2021"} <= texts
    assert svg["role"] == "img" and "2017" in svg["aria-label"]
    assert dom.find(id="time-chart").find("figcaption").get_text(strip=True)
    assert "n = 4" in {t.get_text(strip=True) for t in dom.find(id="kind-chart").find_all("text")} | {
        " ".join(t.get_text(" ", strip=True).split()) for t in dom.find(id="kind-chart").find_all("text")}


def test_a_corpus_without_metadata_says_so_and_links_nowhere(plain_report):
    out = plain_report.parent
    dom = BeautifulSoup(plain_report.read_text(), "html.parser")
    assert "No creation dates in this corpus" in dom.find(id="time-chart").get_text()
    assert "Stars unknown" in dom.find(id="stars-chart").get_text()
    assert dom.find(id="forks-unknown") is not None
    assert not [a["href"] for a in dom.find_all("a") if "github.com" in a["href"]]
    assert dom.find(id="affected").find_all("tbody") and "blob//" not in plain_report.read_text()
    repos = _rows(out / "repos.csv")
    assert repos and all(r["stars"] == "" and r["created_at"] == "" and r["fork"] == "" for r in repos)
    assert [r["stars"] for r in _rows(out / "by_stars.csv")] == ["unknown"]
    assert all(r["url"] == "" for r in _rows(out / "findings.csv"))


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # the network is off for the page: every host resolves nowhere, every proxy is dead
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9"]
needs_chromium = pytest.mark.skipif(not CHROMIUM and not os.environ.get("CI"),
                                    reason="chromium is installed by .ci/run")


def _chromium(page: Path, tmp_path: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)


@needs_chromium
def test_report_renders_in_headless_chromium(catalog, tmp_path):
    page = write(build(catalog), tmp_path / "out")
    dom = BeautifulSoup(_chromium(page, tmp_path, "--dump-dom").stdout, "html.parser")
    assert dom.title.string == "survey: NumPy randomness in DataLoader workers"  # the hostile name ran nothing
    assert not dom.find_all("script")
    for section in ("methods", "compare-2021", "funnel", "copies", "over-time", "popularity", "rng-kind", "torch-pin",
                    "recipes", "effective", "affected-repositories"):
        assert dom.find("h2", id=section), section
    for chart in ("funnel-chart", "time-chart", "stars-chart", "kind-chart", "pin-chart", "recipe-chart"):
        figure = dom.find(id=chart)
        assert figure.find("svg").find("text") and figure.find("figcaption"), chart
    headline = dom.find(id="headline")
    assert [b.get_text() for b in headline.find_all("b")][:3] == ["8", "6", "75.0%"]
    shot = tmp_path / "shot.png"
    _chromium(page, tmp_path, "--window-size=1200,2400", f"--screenshot={shot}")
    rgb = mpimg.imread(shot)[..., :3]
    assert (rgb.sum(axis=2) < 2.7).mean() > 0.03, "the page rendered (almost) blank"
    red = ((rgb[..., 0] > 0.6) & (rgb[..., 1] < 0.2) & (rgb[..., 2] < 0.25)).sum()
    blue = ((rgb[..., 2] > 0.6) & (rgb[..., 0] < 0.3)).sum()
    assert red > 500 and blue > 5000, "the funnel chart was not drawn"


def test_tables_have_readable_headers_right_aligned_numbers_and_scroll_in_their_box(catalog, tmp_path):
    dom = BeautifulSoup(write(build(catalog), tmp_path / "out").read_text(), "html.parser")
    assert ".scroll{overflow-x:auto" in dom.style.string and ".num{text-align:right" in dom.style.string
    tables = dom.find_all("table")
    assert len(tables) >= 12 and all("scroll" in t.parent.get("class", []) for t in tables)
    headers = [th.get_text(strip=True) for th in dom.find(id="collapsed").find_all("th")]
    assert headers == ["population", "classified", "n (draws under workers)", "affected", "share affected", "95% CI"]
    assert not [h for t in tables for h in t.find_all("th") if "_" in h.get_text()]  # no snake_case headers
    cells = dom.find(id="collapsed").find_all("tr")[1].find_all("td")
    assert [c.get("class") for c in cells] == [None] + [["num"]] * 5 and cells[4].get_text() == "75.0%"


@needs_chromium
def test_the_no_metadata_report_renders_in_headless_chromium(plain_report, tmp_path):
    dom = BeautifulSoup(_chromium(plain_report, tmp_path, "--dump-dom").stdout, "html.parser")
    assert "No creation dates in this corpus" in dom.find(id="time-chart").get_text()
    assert dom.find(id="affected").find("td") is not None and not dom.find_all("script")


def test_classify_progress_is_plain_lines_off_a_terminal_with_a_summary():
    stream = io.StringIO()
    with VerdictProgress(2, stream) as progress:
        progress.update(RepoVerdict("a/x", "affected", "global", "", "yes"))
        progress.update(RepoVerdict("a/y", "clean", "", "", "no"))
    lines = stream.getvalue().splitlines()
    assert lines[:2] == ["survey: [1/2] a/x: affected", "survey: [2/2] a/y: clean"]
    assert lines[2].startswith("survey: classified 2 of 2 repositories in ")
    assert lines[2].endswith("affected 1, clean 1")


def test_classify_progress_is_a_bar_with_the_tally_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self):
            return True
    stream = Terminal()
    with VerdictProgress(3, stream) as progress:
        for name in ("a/x", "a/y"):
            progress.update(RepoVerdict(name, "affected", "global", "", "yes"))
    out = stream.getvalue()
    assert "2/3" in out and "affected 2" in out and "<" in out  # tqdm's elapsed<remaining: the ETA
    assert "a/x" not in out and out.rstrip().splitlines()[-1].startswith("survey: classified 2 of 3")


def test_the_offline_demo_runs_the_whole_pipeline_on_the_sample_corpus(tmp_path, capsys):
    from survey.cli import main
    db = tmp_path / "demo.db"
    assert main(["crawl", "--from-dir", str(SAMPLE), "--db", str(db)]) == 0
    assert main(["classify", "--db", str(db)]) == 0
    assert "survey: classified 42 of 42 repositories" in capsys.readouterr().err
    assert main(["report", "--db", str(db), "--out", str(tmp_path / "reports")]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "reports" / "report.html")
    rows = _rows(tmp_path / "reports" / "repos.csv")
    assert len(rows) >= 40
    assert {r["verdict"] for r in rows} == {"affected", "flawed-seed", "seeded", "single-process", "clean",
                                            "no-dataset"}
    years = {r["created_at"][:4] for r in rows}
    assert min(years) == "2017" and max(years) == "2025"
    assert sum(r["fork"] == "True" for r in rows) >= 3
    assert all("/" in r["repo"] and len(r["commit"]) == 40 for r in rows)
    dom = BeautifulSoup((tmp_path / "reports" / "report.html").read_text(), "html.parser")
    assert "local checkouts registered from" in dom.find(id="corpus").get_text()
    assert dom.find(id="affected").find("a", href=lambda h: h and "/blob/" in h)


def test_pairing_table_accounts_for_every_bug_verdict(catalog, tmp_path):
    report = build(catalog)
    table = report.tables["by_pairing"]
    bug = report.repos["verdict"].isin(["affected", "flawed-seed"]).sum()
    assert table["repositories"].sum() == bug
    assert list(table["pairing"]) == ["construction site", "class", "untraced", "no loader"]
    write(report, tmp_path / "out")
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert 'id="pairing"' in page and "What the verdicts rest on" in page
