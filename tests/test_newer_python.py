"""Code written for a newer Python than this one (PEP 695, PEP 701) is analysed, with its own line numbers."""
import sys

from survey.analysis.classify import classify_repo

NEWER = '''import numpy as np
from torch.utils.data import Dataset, DataLoader

type Sample = tuple[float, str]


class Noisy[T](Dataset):
    def __init__(self, cfg: dict):
        self.cfg = cfg
        self.name = f"{cfg["name"]}-{f'{cfg["split"]}'}"

    def describe[U](self, x: U) -> U:
        return f"""{
            self.cfg["name"]
        }"""

    def __len__(self):
        return 8

    def __getitem__(self, i) -> Sample:
        return np.random.rand(), self.name


loader = DataLoader(Noisy({"name": "a", "split": "b"}), num_workers=4)
'''


def test_pep_695_and_701_code_is_analysed_on_this_python(write_repo):
    root = write_repo({"train.py": NEWER})
    v = classify_repo(root)
    print(f"Python {sys.version.split()[0]}: {v.verdict}, errors {[e.reason for e in v.errors]}")
    assert not v.errors
    assert v.verdict == "affected"
    (finding,) = v.findings
    assert finding.line == NEWER.splitlines().index("        return np.random.rand(), self.name") + 1
    loader_line = NEWER.splitlines().index('loader = DataLoader(Noisy({"name": "a", "split": "b"}), num_workers=4)') + 1
    assert finding.loader.startswith(f"train.py:{loader_line}:")


def test_real_syntax_errors_and_python_2_are_still_errors(write_repo):
    head = "from torch.utils.data import Dataset\nclass D(Dataset):\n    pass\n"
    root = write_repo({"py2.py": head + "print 'hello'\n", "bad.py": head + "x = f'{'\n",
                       "deep.py": head + "X = f'{" + "(" * 3000 + "1" + ")" * 3000 + "}'\n"})
    v = classify_repo(root)
    reasons = {e.path: e.reason for e in v.errors}
    assert set(reasons) == {"py2.py", "bad.py", "deep.py"}
    assert "Python 2" in reasons["py2.py"]
