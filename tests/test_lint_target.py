"""The target torch and the severity it gives each finding (survey/lint/target.py)."""
import json
import subprocess
import sys

import pytest

from survey.cli import main
from survey.lint.target import TargetError, as_specifier, installed_torch, resolve
from conftest import FIXTURES


@pytest.fixture(autouse=True)
def in_fixtures(monkeypatch):
    monkeypatch.chdir(FIXTURES)


def check(capsys, *args):
    status = main(["check", *map(str, args)])
    return status, capsys.readouterr()


@pytest.mark.parametrize("text, spec", [("1.8", "==1.8.*"), ("2.1.0", "==2.1.0"), ("2.13.0+cpu", "==2.13.0+cpu"),
                                        (">=1.6,<2", ">=1.6,<2"), ("<1.9", "<1.9")])
def test_target_spellings(text, spec):
    assert as_specifier(text) == spec


@pytest.mark.parametrize("text", ["latest", "", ">=x"])
def test_bad_target_is_an_error(text):
    with pytest.raises(TargetError):
        as_specifier(text)


def test_order_given_then_pins_then_installed(write_repo):
    pinned = write_repo({"requirements.txt": "torch==1.7.1\n"}, name="pinned")
    assert resolve(pinned, "2.1").era == "new"
    assert (resolve(pinned).source, resolve(pinned).era) == ("pinned in requirements.txt", "old")
    bare = write_repo({"a.py": ""}, name="bare")
    assert resolve(bare).source == "installed" and resolve(bare).spec == f"=={installed_torch()}"


def test_installed_torch_is_read_from_metadata_not_imported():
    code = "import sys; from survey.lint.target import installed_torch; print(installed_torch(), 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0].startswith("2.") and out[1] == "False"


@pytest.mark.parametrize("name, target, status, level", [
    ("argparse_workers", "1.8", 1, "error"),        # SRV101: shows before 1.9
    ("argparse_workers", "2.1", 0, "note"),         # PyTorch reseeds the global RNG since 1.9
    ("argparse_workers", ">=1.6", 1, "error"),      # admits both: may show
    ("argparse_workers", None, 0, "note"),          # unpinned: the installed torch (2.x)
    ("tutorial_landmarks", None, 1, "error"),       # pinned torch==1.7.1
    ("rng_object_init", "2.1", 1, "error"),         # SRV102: RNG objects are never reseeded by PyTorch
    ("wif_get_state", "2.1", 1, "error"),           # SRV203 replaces PyTorch's own reseed
])
def test_exit_status_follows_the_target(capsys, name, target, status, level):
    args = [name, "--format", "json"] + (["--target-torch", target] if target else [])
    got, out = check(capsys, *args)
    records = json.loads(out.out)
    assert got == status and records and {r["level"] for r in records} == {level}


def test_notes_say_why_they_do_not_fail(capsys):
    status, out = check(capsys, "argparse_workers", "--target-torch", "2.1")
    assert status == 0
    assert out.out.rstrip().endswith("(note: does not show with the target torch 2.1.* (--target-torch))")
    assert "1 note that does not show with the target torch 2.1.* (--target-torch)" in out.err
