"""Which files are parsed: those that may define a Dataset or build a loader, found from bytes alone."""
import re

from survey.analysis.classify import classify_repo

BASE = '''from torch.utils.data import Dataset


class Base(Dataset):
    def __len__(self):
        return 64

    def __getitem__(self, i):
        return self.load(i)

    def load(self, i):
        return i
'''

# No token of a Dataset here: only the class line names Base, a Dataset of the repository.
CROPS = '''import numpy as np
from base import Base


class Crops(Base):
    def load(self, i):
        return np.random.randint(0, 224)
'''

# The dataset is chosen by name at run time, so no loader names Crops.
TRAIN = '''import crops
from torch.utils.data import DataLoader


def build(name):
    return getattr(crops, name)()


loader = DataLoader(build("Crops"), batch_size=8, num_workers=4)
'''

PROSE = '''"""Downloads the dataset used in the paper; every dataset lives under ./datasets/ once fetched."""
import os


def fetch(dataset_name):
    return os.path.join("datasets", dataset_name)
'''


def test_subclass_of_a_repo_dataset_is_found_through_class_lines(write_repo):
    root = write_repo({"base.py": BASE, "crops.py": CROPS, "train.py": TRAIN})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert [(f.path, f.line) for f in v.findings if f.verdict == "affected"] == [("crops.py", 7)]


def test_import_alias_of_dataset_is_followed(write_repo):
    aliased = BASE.replace("import Dataset", "import Dataset as TorchData").replace("(Dataset)", "(TorchData)")
    root = write_repo({"base.py": aliased.replace("def __getitem__", "def fetch_item"), "crops.py": CROPS,
                       "train.py": TRAIN})
    v = classify_repo(root)
    # no __getitem__ any more: not a map-style dataset that draws per sample, but still a Dataset
    assert v.verdict == "clean"


def test_dataset_in_prose_and_names_is_not_parsed(write_repo):
    root = write_repo({"base.py": BASE, "crops.py": CROPS, "train.py": TRAIN, "download.py": PROSE})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert v.files == 4 and v.parsed == 3


DATA = '''import numpy as np
from torch.utils.data import DataLoader, Dataset


class Noise(Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        return np.random.rand()


def train(workers):
    return DataLoader(Noise(), num_workers=workers)
'''

MAIN = '''import data

data.train(workers=4)
'''

MODEL = '''class Net:
    def train(self, mode=True):
        return self


Net().train()
'''


def test_call_sites_of_a_common_name_are_looked_for_where_they_can_be(write_repo):
    root = write_repo({"data.py": DATA, "main.py": MAIN, "model.py": MODEL})
    v = classify_repo(root)
    assert v.verdict == "affected"
    assert "4" in v.findings[0].num_workers.split(", ")
    assert v.parsed == 2  # data.py, and main.py for the value of workers; model.py's .train() is another train


def test_files_containing_a_name_come_in_path_order_kept_or_not(write_repo, monkeypatch):
    # call-site lookups search all kept bytes at once; a match never spans two files, parsed files drop out,
    # and files over the kept-bytes budget are searched too
    import survey.analysis.sources as sources
    files = {f"m{n}.py": f"x = {n}\nvalue = helper(x)\n" for n in range(6)}
    files["m2.py"] = "value = 2\n"
    files["m3.py"] = "# " + "y" * 200 + "\nvalue = helper(3)\n"
    files["m4.py"] = "help"
    files["m5.py"] = "er(5)\n"
    monkeypatch.setattr(sources, "BYTES_KEPT", 150)
    repo = sources.RepoFiles(write_repo(files))
    repo.scan()
    repo.facts("m1")
    assert repo.containing(b"helper") == ["m0", "m3"]
    assert repo.containing(b"value", lambda data: b"helper" in data, limit=1) == ["m0"]
    assert repo.containing(b"value = 2") == ["m2"]


def test_lookups_beyond_the_kept_bytes_find_what_kept_bytes_find(tmp_path, monkeypatch):
    """Files over the bytes budget are read again per lookup, ruled out by a bitmap of their words: the
    answer (files holding a name, in path order, at most ``limit``) is the same as with every file kept; in
    both a name counts only as a whole word (``build_loader`` is not in ``build_loader_v2``)."""
    import survey.analysis.sources as sources
    for i in range(30):
        calls = "build_loader(cfg)\n" if i % 3 == 0 else ""
        words = "build_loader_v2 = 1\n" if i % 3 == 1 else ""  # the name inside a longer word only
        (tmp_path / f"m{i:02d}.py").write_text(f"import torch\n{calls}{words}x{i} = {i}\n" + "# pad\n" * 50)

    def lookup(budget):
        monkeypatch.setattr(sources, "BYTES_KEPT", budget)
        repo = sources.RepoFiles(tmp_path, cache=sources.FactsCache())
        repo.scan()
        called = re.compile(rb"(?<![\w.])build_loader\s*\(")
        return ([repo.containing(b"build_loader", lambda data: bool(called.search(data))),
                 repo.containing(b"build_loader", lambda data: bool(called.search(data)), limit=4),
                 repo.containing(b"x17"), repo.containing(b"build_loader")], repo._unkept)

    kept, none_unkept = lookup(10_000_000)
    partly, unkept = lookup(2_000)
    assert not none_unkept and len(unkept) > 20
    assert partly == kept
    assert kept[1] == ["m00", "m03", "m06", "m09"]
    assert kept[3] == [f"m{i:02d}" for i in range(30) if i % 3 == 0]


def test_a_method_is_looked_for_where_its_class_is_spelled_in_code():
    """Files that may call a method of ``Crops`` are those spelling the class in code: a construction, a
    base, an attribute, a value or an import under another name; not an mmcv config naming it in a string,
    prose, a comment, or a lone import of it (a package re-exporting it)."""
    from survey.analysis.link import _method_site_pattern
    may_call = _method_site_pattern("Crops", "__init__")
    called = [b"x = Crops(root)\n" b"def __init__(self): pass\n",
              b"from data import Crops\n\nclass Mine(Crops):\n    def __init__(self):\n        super().__init__()\n",
              b"from data import Crops as Base\n\nclass Mine(Base):\n    def __init__(self):\n        pass\n",
              b"REGISTRY = {'a': Crops}\ndef __init__(): pass\n",
              b"Base = Crops\n# __init__\n"]
    not_called = [b"data = dict(type='Crops', pipeline=[])  # __init__\n",
                  b'"""Crops Processing, see __init__."""\n',
                  b"# class Mine(Crops):\n#     def __init__(self):\n",
                  b"from data import Crops\n__all__ = ['__init__']\n",
                  b"x = Crops(root)\n"]  # the method is not spelled
    assert [may_call(data) for data in called] == [True] * len(called)
    assert [may_call(data) for data in not_called] == [False] * len(not_called)


def test_a_function_is_not_imported_by_a_module_path_that_holds_its_name(write_repo):
    """``import libs.train.model`` imports no ``train``: a file that only calls its own ``train()`` besides
    does not call the train() looked up."""
    from survey.analysis.link import _call_site_pattern
    may_call = _call_site_pattern("data", "train")
    assert may_call(b"import libs.train.model as m\n\ndef train(a):\n    pass\n\ntrain(1)\n") is False
    assert may_call(b"from data import train\n\ndef train2(a):\n    pass\n\ntrain(1)\n") is True
    assert may_call(b"from tools import train as fit\n\nfit(1)\n") is True
    # a call commented out calls nothing
    assert may_call(b"from data import train\n# train(1)\n") is False
    assert may_call(b"from data import train\nx = 1  # train(1) below\ntrain(2)\n") is True
