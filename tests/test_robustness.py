"""Bad input gets a clear error and loses nothing; real code never crashes the analyser."""
import os
from pathlib import Path

import pytest

import survey.analysis.link as link
import survey.analysis.sources as sources
from survey.analysis.classify import classify_repo
from conftest import FIXTURES

BUGGY = (FIXTURES / "global_getitem" / "train.py").read_text()


def errors_by_path(verdict):
    return {e.path: e.reason for e in verdict.errors}


def test_binary_file_is_skipped_with_a_reason(write_repo):
    root = write_repo({"train.py": BUGGY, "blob.py": b"class Dataset:\x00\x01\x02"})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert "binary" in errors_by_path(v)["blob.py"]


def test_huge_file_is_skipped_with_a_reason(write_repo, monkeypatch):
    monkeypatch.setattr(sources, "MAX_FILE_BYTES", 10_000)
    root = write_repo({"train.py": BUGGY, "generated.py": "# Dataset\n" + "x = 1\n" * 5000})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert "limit" in errors_by_path(v)["generated.py"]


def test_coding_cookie_is_honoured(write_repo):
    text = "# -*- coding: latin-1 -*-\n# Données\n" + BUGGY
    root = write_repo({"train.py": text.encode("latin-1")})
    v = classify_repo(root)
    assert v.verdict == "affected" and not v.errors


def test_undecodable_file_is_an_error(write_repo):
    root = write_repo({"train.py": BUGGY, "bad.py": b"class Faces(Dataset):  # \xff\xfe\xfa\n    pass\n"})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert "undecodable" in errors_by_path(v)["bad.py"]


def test_deep_nesting_does_not_crash(write_repo):
    # Both are beyond CPython's parser (and would segfault libcst's native one): recorded, never a crash.
    head = "class Deep(Dataset):\n    pass\n"  # a class line that makes each file worth parsing
    root = write_repo({"train.py": BUGGY, "deep.py": head + "X = " + "(" * 3000 + "1" + ")" * 3000 + "\n",
                       "chain.py": head + "X = 1" + " + 1" * 9000 + "\n"})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert set(errors_by_path(v)) == {"deep.py", "chain.py"}


def test_long_expression_in_a_dataset_file_is_still_analysed(write_repo):
    # 2,000 chained operators parse fine but nest 2,000 levels deep: the walk must not recurse per level.
    root = write_repo({"train.py": BUGGY + "TABLE = 1" + " + 1" * 2000 + "\n"})
    v = classify_repo(root)
    assert v.verdict == "affected" and not v.errors


def test_symlinks_are_never_followed(write_repo, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text(BUGGY)
    root = write_repo({"README.md": "x"})
    os.symlink(outside, root / "train.py")
    os.symlink(tmp_path, root / "loop")
    v = classify_repo(root)
    assert v.verdict == "no-dataset" and v.files == 0


def test_empty_repository(write_repo):
    v = classify_repo(write_repo({}))
    assert (v.verdict, v.files, v.errors) == ("no-dataset", 0, ())


def test_crawled_code_is_never_executed(write_repo, tmp_path):
    marker = tmp_path / "executed"
    payload = f"open({str(marker)!r}, 'w').write('x')\n"
    root = write_repo({"train.py": payload + BUGGY, "setup.py": payload + "setup(install_requires=['torch==1.8'])\n",
                       "pkg/__init__.py": payload + "from torch.utils.data import Dataset\n"})
    v = classify_repo(root)
    assert v.verdict == "affected" and v.effective == "yes"
    assert not marker.exists()


def _real_trees():
    import json
    import email
    import torch.utils.data
    return [Path(json.__file__).parent, Path(email.__file__).parent, Path(torch.utils.data.__file__).parent]


@pytest.mark.parametrize("root", _real_trees(), ids=lambda p: p.name)
def test_no_crash_on_real_code(root):
    v = classify_repo(root)
    assert v.verdict in ("affected", "flawed-seed", "seeded", "single-process", "clean", "no-dataset")
    assert v.files > 0


def test_columns_and_evidence_count_characters_not_utf8_bytes(write_repo):
    # ast reports byte offsets; an editor, flake8 and SARIF count characters
    text = BUGGY.replace("        noise = np.random.rand()", "        tag, noise = 'été→', np.random.rand()")
    v = classify_repo(write_repo({"train.py": text}))
    (f,) = [f for f in v.findings if f.verdict == "affected"]
    line = text.splitlines()[f.line - 1]
    assert line[f.col - 1:].startswith("np.random.rand()")
    assert f.rng_call.endswith(": np.random.rand()")


def test_parsing_stops_at_the_budget_with_a_reason(write_repo, monkeypatch):
    # facts stay in memory while a repository is judged: a repository of huge files must not exhaust it
    monkeypatch.setattr(sources, "PARSE_BUDGET", 10)
    filler = "class Block{n}(Dataset):\n    def __getitem__(self, i):\n        return i\n" * 1
    root = write_repo({"a_train.py": BUGGY, **{f"b{n}.py": "from torch.utils.data import Dataset\n" + filler.format(n=n) * 8
                                                for n in range(5)}})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert "parsing stopped after" in errors_by_path(v)["."]
    assert v.parsed < v.files


def test_facts_cache_is_bounded_by_source_bytes():
    cache = sources.FactsCache(max_bytes=1_000)
    for n in range(50):
        cache.put(f"k{n}", object(), 100)
    assert len(cache) == 10 and cache.size == 1_000 and "k49" in cache and "k39" not in cache
    cache.put("huge", object(), 5_000)
    assert "huge" not in cache


def test_star_imports_between_packages_stay_cheap_to_resolve(write_repo, monkeypatch):
    # A package whose __init__ star-imports its submodules, which star-import a sibling package that
    # star-imports the first: looking a name up in every star-imported module made up dotted names by the
    # ten thousand (pkg.m0.sub.s1.helper2...). A name is looked for only where a module can provide it.
    monkeypatch.setattr(link, "RESOLUTION_BUDGET", 2_000)
    n = 12
    files = {"pkg/__init__.py": "".join(f"from .m{k} import *\n" for k in range(n)) + "from .sub import *\n",
             "pkg/sub/__init__.py": "".join(f"from .s{k} import *\n" for k in range(n))}
    for k in range(n):
        files[f"pkg/m{k}.py"] = f"from pkg.sub import *\n\ndef helper{k}(x):\n    return scale{k}(x)\n"
        files[f"pkg/sub/s{k}.py"] = f"from pkg import *\n\ndef scale{k}(x):\n    return x * shift(x)\n"
    files["pkg/m3.py"] = "from pkg.sub import *\nimport numpy as np\n\ndef jitter(x):\n    return x + np.random.rand()\n"
    files["train.py"] = BUGGY.replace("import numpy as np", "import numpy as np\nfrom pkg import *").replace(
        "np.random.rand()", "jitter(helper1(0) + helper2(0) + other.thing.deep(1))")
    v = classify_repo(write_repo(files))
    assert v.errors == ()
    assert v.verdict == "affected"
    assert [f.rng_call for f in v.findings] == ["pkg/m3.py:5: np.random.rand()"]
