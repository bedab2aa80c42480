"""Test code: a repository's unit tests build datasets and loaders too, but they do not ship.

A loader in a test file (``tests/test_data.py`` with ``num_workers=4`` over a random fixture dataset) is the
project's test, not the project: its findings are kept, marked ``in_tests``, and decide nothing, like those
of a vendored copy. A file is test code when

- it is named like a test (``test_*.py``, ``*_test.py``) and lies in a test folder (``tests/``, ``test/``,
  ``testing/``, ``unittests/``), or is a ``conftest.py``; or
- it is named like a test or lies in a test folder, and imports ``pytest`` or ``unittest``.

``test.py`` and ``test_model.py`` at the top of an ML repository are usually evaluation scripts, with
loaders that run: named alone, without a test folder or a test framework, a file is not test code.
"""
from __future__ import annotations

import re
from typing import Dict

from .facts import module_name
from .sources import RepoFiles

_TEST_DIRS = frozenset({"test", "tests", "testing", "unittest", "unittests", "unit_tests", "unit_test"})
_FRAMEWORK = re.compile(rb"^\s*(?:import|from)\s+(?:pytest|unittest)\b", re.MULTILINE)


class TestFiles:
    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, repo: RepoFiles):
        self.repo = repo
        self._memo: Dict[str, bool] = {}

    def holds(self, path: str) -> bool:
        """Whether the repo-relative file is test code."""
        hit = self._memo.get(path)
        if hit is None:
            hit = self._memo[path] = self._is_test(path)
        return hit

    def _is_test(self, path: str) -> bool:
        parts = path.split("/")
        name = parts[-1]
        if name == "conftest.py":
            return True
        named = name.startswith("test_") or name.endswith("_test.py")
        in_folder = any(p.lower() in _TEST_DIRS for p in parts[:-1])
        if named and in_folder:
            return True
        if not (named or in_folder):
            return False
        module = module_name(path)
        data = self.repo.read(module) if module in self.repo.paths else None
        return bool(data and _FRAMEWORK.search(data))
