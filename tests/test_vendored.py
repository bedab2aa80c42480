"""Vendored third-party trees: marked in the findings, left out of verdicts unless asked, silent in check."""
import json

from survey.analysis.classify import classify_repo
from survey.analysis.vendored import vendored_roots
from survey.cli import main
from conftest import FIXTURES


def test_vendored_copy_marked_and_not_counted():
    v = classify_repo(FIXTURES / "vendored_copy")
    assert v.verdict == "clean"
    assert [f.vendored for f in v.findings] == [True]
    assert classify_repo(FIXTURES / "vendored_copy", count_vendored=True).verdict == "affected"
    # the same tree without its own packaging and licence is the project's code
    own = classify_repo(FIXTURES / "vendored_copy_own")
    assert own.verdict == "affected" and not any(f.vendored for f in own.findings)


def test_cli_switch_and_json(capsys):
    assert main(["classify", "--json", str(FIXTURES / "vendored_copy")]) == 0
    data = json.loads(capsys.readouterr().out)[0]
    assert data["verdict"] == "clean" and data["findings_detail"][0]["vendored"] is True
    assert main(["classify", "--count-vendored", str(FIXTURES / "vendored_copy")]) == 0
    assert capsys.readouterr().out.splitlines()[1].split(",")[1] == "affected"
    assert main(["check", str(FIXTURES / "vendored_copy")]) == 0  # nothing of the project's own to report


def test_rules(tmp_path):
    (tmp_path / "third_party" / "lib").mkdir(parents=True)
    (tmp_path / "vocoder").mkdir()
    (tmp_path / "vocoder" / "LICENSE.txt").write_text("adapted from elsewhere")
    (tmp_path / "csrc").mkdir()
    (tmp_path / "csrc" / "setup.py").write_text("")
    (tmp_path / "timm").mkdir()
    (tmp_path / "timm" / "setup.py").write_text("")
    (tmp_path / "LICENSE").write_text("the project's own")
    (tmp_path / "setup.py").write_text("")
    assert vendored_roots(tmp_path) == {"third_party", "timm"}
