"""The runtime oracle: each runnable fixture's loader runs under a real multi-process DataLoader, and the
repeats it shows must agree with the static verdict and the `effective` column."""
import json
import subprocess
import sys

import pytest

from survey.analysis.pins import find_pins, torch_era
from conftest import FIXTURES, TESTS, expected_rows

ROWS = expected_rows()
RUNNABLE = sorted(name for name in ROWS
                  if (FIXTURES / name / "train.py").is_file()
                  and "def make_loader" in (FIXTURES / name / "train.py").read_text())


def run(name):
    proc = subprocess.run([sys.executable, str(TESTS / "oracle_runner.py"), str(FIXTURES / name)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_enough_runnable_fixtures():
    assert len(RUNNABLE) >= 30


@pytest.mark.parametrize("name", RUNNABLE)
def test_oracle_agrees_with_static_verdict(name):
    row = ROWS[name]
    seen = run(name)
    assert seen["values"] > 0
    if row["verdict"] in ("affected", "flawed-seed"):
        assert seen["undone"], "a bug verdict must show repeats on torch < 1.9 semantics"
    else:
        assert not seen["now"] and not seen["undone"], f"{row['verdict']} must never repeat"
    era = torch_era(find_pins(FIXTURES / name))
    if row["effective"] == "yes":
        assert seen["undone"] if era == "old" else seen["now"]
    elif row["effective"] == "no":
        assert not seen["now"]
    else:
        assert not seen["now"] and seen["undone"]
