"""`survey check` on files and folders, with [tool.survey] configuration (survey/lint/config.py, scope.py)."""
import json
import shutil

import pytest

from survey.cli import main
from conftest import FIXTURES


@pytest.fixture
def project(tmp_path, monkeypatch):
    """tutorial_landmarks (draws in data.py, the loader in train.py, torch==1.7.1 pinned) as a project with
    a pyproject.toml, the current directory at the project."""
    def make(pyproject="", name="proj", extra=None):
        root = tmp_path / name
        shutil.copytree(FIXTURES / "tutorial_landmarks", root)
        (root / "pyproject.toml").write_text('[project]\nname = "x"\n' + pyproject)
        for rel, text in (extra or {}).items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        monkeypatch.chdir(root)
        return root
    return make


def check(capsys, *args):
    status = main(["check", *map(str, args)])
    out = capsys.readouterr()
    return status, out.out.splitlines(), out.err


def test_a_file_is_checked_with_its_whole_project(capsys, project):
    root = project()
    status, lines, _ = check(capsys, "data.py")
    # the loader is in train.py: the project was analysed, and the findings of data.py reported
    assert status == 1 and [line.split(": ")[0] for line in lines] == ["data.py:42:15", "data.py:43:16"]
    status, lines, _ = check(capsys, root / "train.py")
    assert (status, lines) == (0, [])


def test_a_file_in_a_subfolder_finds_the_root_above_it(capsys, tmp_path, monkeypatch):
    root = tmp_path / "mono"
    shutil.copytree(FIXTURES / "tutorial_landmarks", root / "svc")
    (root / "svc" / "setup.cfg").write_text("[metadata]\nname = svc\n")
    monkeypatch.chdir(tmp_path)
    status, lines, _ = check(capsys, "mono/svc/data.py", "mono/svc/train.py", "--format", "sarif")
    log = json.loads("\n".join(lines))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert status == 1 and uris == {"mono/svc/data.py"}
    assert all((tmp_path / uri).is_file() for uri in uris)  # relative to where the check ran: they exist


@pytest.mark.parametrize("pyproject, args", [
    ('[tool.survey]\nignore = ["SRV101"]\n', []),
    ('[tool.survey]\nignore = ["SRV1"]\n', []),
    ('[tool.survey]\nselect = ["SRV2"]\n', []),
    ('[tool.survey.per-file-ignores]\n"data.py" = ["SRV101"]\n', []),
    ('[tool.survey]\nexclude = ["data.py"]\n', []),
    ('[tool.survey]\nextend-exclude = ["*.py", "!train.py"]\n', []),
    ("", ["--ignore", "SRV101"]),
    ("", ["--exclude", "data.py"]),
    ('[tool.survey]\ntarget-torch = "2.1"\n', []),
    ('[tool.survey]\nselect = ["SRV101"]\n', ["--select", "SRV2"]),
])
def test_configuration_silences(capsys, project, pyproject, args):
    project(pyproject)
    status, lines, _ = check(capsys, ".", *args)
    assert status == 0
    assert all("(note:" in line for line in lines)  # a target of 2.1 leaves notes; the rest leave nothing


@pytest.mark.parametrize("pyproject, args", [
    ('[tool.survey.per-file-ignores]\n"other/*.py" = ["SRV101"]\n', []),
    ('[tool.survey]\nignore = ["SRV2"]\n', []),
    ('[tool.survey]\nexclude = ["data.py"]\n', ["--exclude", "nothing.py"]),   # the command line wins
    ('[tool.survey]\ntarget-torch = "2.1"\n', ["--target-torch", "1.8"]),
    ('[tool.survey]\nselect = ["SRV2"]\n', ["--extend-select", "SRV101"]),
])
def test_configuration_keeps(capsys, project, pyproject, args):
    project(pyproject)
    status, lines, _ = check(capsys, ".", *args)
    assert status == 1 and len(lines) == 2


def test_gitignore_is_honoured_unless_turned_off(capsys, project):
    project(extra={".gitignore": "# generated\n/data.py\n"})
    assert check(capsys, ".")[:2] == (0, [])
    project('[tool.survey]\nrespect-gitignore = false\n', name="p2", extra={".gitignore": "data.py\n"})
    assert check(capsys, ".")[0] == 1


def test_nested_gitignore(capsys, tmp_path, monkeypatch):
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "tutorial_landmarks", root / "pkg")
    (root / "pkg" / ".gitignore").write_text("data.py\n")
    monkeypatch.chdir(root)
    assert check(capsys, ".")[:2] == (0, [])


@pytest.mark.parametrize("pyproject, message", [
    ('[tool.survey]\nselct = ["SRV1"]\n', "unknown key [tool.survey] 'selct'"),
    ('[tool.survey]\nselect = ["SRV9X"]\n', "'SRV9X' is no rule code"),
    ('[tool.survey]\nselect = "SRV1"\nignore = [1]\n', "ignore must be a list of strings"),
    ('[tool.survey]\ntarget-torch = "latest"\n', "target torch 'latest'"),
    ('[tool.survey]\nrespect-gitignore = "no"\n', "respect-gitignore must be true or false"),
    ('[tool.survey\n', "not valid TOML"),
])
def test_bad_configuration_is_a_usage_error_naming_the_key(capsys, project, pyproject, message):
    project(pyproject)
    status, lines, err = check(capsys, ".")
    assert status == 2 and lines == [] and message in err


def test_unknown_code_on_the_command_line(capsys, project):
    project()
    status, _, err = check(capsys, ".", "--ignore", "SRV1,XYZ")
    assert status == 2 and "'XYZ'" in err


def test_fix_with_a_file_argument_fixes_the_loader_in_another_file(capsys, project):
    root = project()
    before = (root / "train.py").read_text()
    status, lines, err = check(capsys, "data.py", "--fix")
    assert "fixed 1 loader in 1 file" in err and (status, lines) == (0, [])
    assert "worker_init_fn=seed_numpy_worker" in (root / "train.py").read_text() != before
