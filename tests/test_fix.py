"""`survey check --fix`: flagged loaders get a per-worker reseed, the rest of each file stays as it was, and
the fixed code really stops repeating numbers under a multi-process DataLoader."""
import difflib
import json
import shutil
import subprocess
import sys

import pytest

from survey.analysis.classify import classify_repo
from survey.cli import main
from survey.lint.fix import apply, fix_source, plan
from survey.lint.output import lint_findings
from conftest import FIXTURES, TESTS
from test_oracle import RUNNABLE

ALL = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir())


def fixed_copy(name, tmp_path):
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    before = classify_repo(root)
    fixes = plan(root, lint_findings(before))
    apply(root, fixes)
    return root, before, fixes


@pytest.mark.parametrize("name", ALL)
def test_fix_leaves_no_fixable_finding_and_touches_nothing_else(name, tmp_path):
    root, before, fixes = fixed_copy(name, tmp_path)
    after = classify_repo(root)
    fixed_loaders = {f.loader for f in before.findings if f.code == "SRV101"
                     and any(f.loader.startswith(x.path + ":") for x in fixes)}
    assert not [f for f in after.findings if f.code == "SRV101" and f.loader in fixed_loaders]
    for path in FIXTURES.joinpath(name).rglob("*"):
        rel = path.relative_to(FIXTURES / name).as_posix()
        if path.is_file() and rel not in {x.path for x in fixes}:
            assert (root / rel).read_bytes() == path.read_bytes()
    if fixes and before.verdict == "affected" and {f.code for f in before.findings} <= {"SRV101", "SRV302"}:
        assert after.verdict == "seeded"
    assert plan(root, lint_findings(after)) == []  # a second run has nothing left to do


def test_most_fixtures_with_srv101_are_fixed(tmp_path):
    fixed = [n for n in ALL if fixed_copy(n, tmp_path / "c")[2]]
    flagged = [n for n in ALL if any(f.code == "SRV101" for f in classify_repo(FIXTURES / n).findings)]
    assert len(fixed) >= 30 and set(fixed) <= set(flagged)


FIXED_RUNNABLE = [n for n in RUNNABLE if plan(FIXTURES / n, lint_findings(classify_repo(FIXTURES / n)))]


def test_enough_fixed_fixtures_run():
    assert len(FIXED_RUNNABLE) >= 15


@pytest.mark.parametrize("name", FIXED_RUNNABLE)
def test_fixed_code_no_longer_repeats_at_run_time(name, tmp_path):
    root, before, fixes = fixed_copy(name, tmp_path)
    assert before.verdict == "affected"
    proc = subprocess.run([sys.executable, str(TESTS / "oracle_runner.py"), str(root)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["values"] > 0 and not seen["now"] and not seen["undone"]


LAYOUT = '''"""Loaders."""  # module docstring stays first
from __future__ import annotations

import numpy as np  # the RNG
from torch.utils.data import DataLoader

# factory below
def make(ds):
    return DataLoader(
        ds,
        batch_size=4,  # small
        num_workers=2,
    )


def other(ds):
    return DataLoader(ds, num_workers=2)  # not flagged here
'''


def test_rewrite_keeps_layout_and_comments():
    after, count = fix_source(LAYOUT, {9})
    assert count == 1
    diff = [l for l in difflib.unified_diff(LAYOUT.splitlines(), after.splitlines(), lineterm="", n=0)
            if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    removed = [l for l in diff if l.startswith("-")]
    assert removed == []  # only additions: the helper and one argument line
    assert "        worker_init_fn=seed_numpy_worker,\n    )" in after
    assert "return DataLoader(ds, num_workers=2)  # not flagged here" in after
    assert after.index("from torch.utils.data import DataLoader") < after.index("def seed_numpy_worker") \
        < after.index("# factory below")
    compile(after, "loaders.py", "exec")


def test_rewrite_keeps_encoding_and_line_endings(write_repo):
    source = (FIXTURES / "global_getitem" / "train.py").read_text()
    text = "# -*- coding: latin-1 -*-\r\n# caf\xe9\r\n" + source.replace("\n", "\r\n")
    root = write_repo({"train.py": text.encode("latin-1")})
    apply(root, plan(root, lint_findings(classify_repo(root))))
    data = (root / "train.py").read_bytes()
    assert b"caf\xe9" in data and b"worker_init_fn=seed_numpy_worker" in data
    assert data.count(b"\n") == data.count(b"\r\n")
    assert classify_repo(root).verdict == "seeded"


def test_cli_diff_writes_nothing_and_fix_writes(tmp_path, capsys):
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "global_getitem", root)
    original = (root / "train.py").read_bytes()
    assert main(["check", str(root), "--diff"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("--- a/train.py") and "+    return DataLoader(" in out
    assert (root / "train.py").read_bytes() == original
    assert main(["check", str(root), "--fix"]) == 0
    captured = capsys.readouterr()
    assert "fixed 1 loader in 1 file" in captured.err and captured.out == ""
    assert main(["check", str(root), "--diff"]) == 0 and capsys.readouterr().out == ""


TWO_LOADERS = '''import numpy as np
from torch.utils.data import DataLoader, Dataset


class Jitter(Dataset):
    def __len__(self):
        return 8

    def __getitem__(self, i):
        return np.random.rand()


train_loader = DataLoader(Jitter(), num_workers=4, shuffle=True)
test_loader = DataLoader(Jitter(), num_workers=4)
'''


def test_every_loader_of_a_flagged_dataset_is_fixed_in_one_run(write_repo, capsys):
    # the finding names one loader; the second only shows once the first is fixed
    root = write_repo({"train.py": TWO_LOADERS})
    assert main(["check", str(root), "--fix"]) == 0
    assert "fixed 2 loaders in 1 file" in capsys.readouterr().err
    text = (root / "train.py").read_text()
    assert text.count("worker_init_fn=seed_numpy_worker") == 2 and text.count("def seed_numpy_worker") == 1


def test_diff_and_fix_survive_code_nested_beyond_libcsts_recursion(tmp_path, capsys):
    # check handles 2,000 chained operators (an iterative walk); libcst's rewrite recurses per level
    from survey.cli import main
    from conftest import FIXTURES
    src = (FIXTURES / "global_getitem" / "train.py").read_text() + "TABLE = 1" + " + 1" * 2000 + "\n"
    (tmp_path / "train.py").write_text(src)
    assert main(["check", str(tmp_path), "--target-torch", "1.8"]) == 1
    assert main(["check", str(tmp_path), "--diff"]) == 0
    assert main(["check", str(tmp_path), "--fix", "--target-torch", "1.8"]) == 1
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "internal error" not in err
    assert (tmp_path / "train.py").read_text() == src
