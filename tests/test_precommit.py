"""The pre-commit hook (.pre-commit-hooks.yaml, run by the real pre-commit with `try-repo`) and the
GitHub action's command line (action.yml's check step, run by bash).

Offline: pre-commit builds the hook's virtualenv from this repository with `language: python`, as it does
for users, but pip is told to use no index (PIP_NO_INDEX), to build with the setuptools already here
(no build isolation) and to install no dependencies; the dependencies come from this environment through
PYTHONPATH. The hook's own code is the one pip installed into that virtualenv from the repository.
"""
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

from conftest import FIXTURES

ROOT = Path(__file__).resolve().parent.parent
DATA = (FIXTURES / "tutorial_landmarks" / "data.py").read_text()
TRAIN = (FIXTURES / "tutorial_landmarks" / "train.py").read_text()


def _project(tmp_path, pin="torch==1.7.1\n"):
    proj = tmp_path / "proj"
    proj.mkdir()
    for name, text in {"data.py": DATA, "train.py": TRAIN, "requirements.txt": pin, "README.md": "x\n"}.items():
        (proj / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=proj, check=True)
    subprocess.run(["git", "add", "."], cwd=proj, check=True)
    return proj


def _try_repo(proj, tmp_path, *files):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PRE_COMMIT", "VIRTUALENV_"))}
    env.update(PRE_COMMIT_HOME=str(tmp_path / "pre-commit-home"), PIP_NO_INDEX="1", PIP_NO_DEPS="1",
               PIP_NO_BUILD_ISOLATION="0", PYTHONPATH=sysconfig.get_paths()["purelib"], NO_COLOR="1")
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "survey-check", "--verbose",
                           "--files", *files], cwd=proj, env=env, capture_output=True, text=True, timeout=300)


def test_hook_definition():
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "survey-check" and hook["types"] == ["python"] and hook["pass_filenames"] is True
    assert hook["entry"] == "survey check" and hook["language"] == "python"


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_hook_fails_on_findings_in_the_files_passed(tmp_path):
    proj = _project(tmp_path)
    proc = _try_repo(proj, tmp_path, "data.py", "README.md")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "data.py:42:15: SRV101" in proc.stdout and "data.py:43:16: SRV101" in proc.stdout
    assert "survey: 2 findings in 1 file" in proc.stdout


@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_pre_commit_hook_passes_when_the_files_passed_are_clean(tmp_path):
    # the loader is in train.py, the draws in data.py: only train.py is staged, so nothing is reported
    proj = _project(tmp_path)
    proc = _try_repo(proj, tmp_path, "train.py")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Passed" in proc.stdout and "SRV101" not in proc.stdout


def _action_step(step_id):
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    return next(s for s in action["runs"]["steps"] if s.get("id") == step_id), action


def _run_check_step(tmp_path, upload, **inputs):
    step, action = _action_step("check")
    tmp_path.mkdir(exist_ok=True)
    temp = tmp_path / "runner-temp"
    survey = temp / "survey-venv" / "bin" / "survey"
    survey.parent.mkdir(parents=True)
    # what the install step leaves: a `survey` console script of this checkout
    survey.write_text(f"#!/bin/sh\nPYTHONPATH={ROOT} exec {sys.executable} -m survey \"$@\"\n")
    survey.chmod(0o755)
    defaults = {k: v.get("default", "") for k, v in action["inputs"].items()}
    values = {**defaults, **inputs, "upload-sarif": upload}
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    for name, expr in step["env"].items():
        env[name] = values[expr.strip("${} ").split(".", 1)[1]]
    env.update(RUNNER_TEMP=str(temp), GITHUB_OUTPUT=str(tmp_path / "output"))
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                          cwd=FIXTURES, env=env, capture_output=True, text=True, timeout=300)
    outputs = dict(line.split("=", 1) for line in (tmp_path / "output").read_text().splitlines())
    return proc, outputs


def test_action_writes_sarif_and_reports_the_exit_status(tmp_path):
    sarif = tmp_path / "out.sarif"
    proc, outputs = _run_check_step(tmp_path, "true", paths="tutorial_landmarks clean_init_random",
                                    **{"sarif-file": str(sarif)})
    assert proc.returncode == 0, proc.stderr
    assert outputs == {"exit-code": "1", "sarif-file": str(sarif)}
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == \
        {"tutorial_landmarks/data.py"}


def test_action_passes_target_torch_and_args_and_annotates_without_sarif(tmp_path):
    proc, outputs = _run_check_step(tmp_path, "false", paths="tutorial_landmarks", **{
        "target-torch": "2.1", "args": "--select SRV1"})
    assert outputs == {"exit-code": "0"}
    assert proc.stdout.startswith("::notice file=tutorial_landmarks/data.py,line=42,col=15,title=survey SRV101::")
    proc, outputs = _run_check_step(tmp_path / "b", "false", paths="tutorial_landmarks", args="--select SRV2")
    assert outputs == {"exit-code": "0"} and proc.stdout == ""
