"""Which parts of a repository can run together: the import graph's connected components, from bytes.

A loader whose dataset cannot be traced pairs with every drawing dataset of the repository. In a collection
of independent projects (course homework folders, a corpus of copied projects, sibling experiments each
with its own ``helpers/``) that pairs a loader of one project with a dataset of another that no program ever
loads together. Two modules can meet in one program only if they are linked by imports, in either direction
or through a third module (``train.py`` importing both). Imports are read from every file's bytes, names
resolved to the repository's modules as the linker does (exact, relative, then by suffix, since scripts
extend ``sys.path``), importing ``a.b.c`` also imports the packages ``a`` and ``a.b``. A module that imports
dynamically (``importlib``, ``__import__``, ``load_source``, ``runpy``) may load anything: its component is
joined to every other. Unsure is joined: a false link keeps today's pairing, a false split would hide a bug.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List

from .lines import at_line_start
from .sources import RepoFiles

# statements, found by at_line_start
_IMPORT = re.compile(rb"import[ \t]+([\w. \t,]+)")
_FROM = re.compile(rb"from[ \t]+(\.*[\w.]*)[ \t]+import[ \t]+\(?[ \t]*([\w., \t\\\n]+)")
_DYNAMIC = (b"importlib", b"__import__", b"load_source", b"runpy", b"spec_from_file_location")
_OPEN = "<dynamic>"


class ImportGraph:
    def __init__(self, repo: RepoFiles, suffix: Dict[str, List[str]]):
        self.repo = repo
        self.suffix = suffix
        self._parent: Dict[str, str] = {}
        self._built = False

    def together(self, a: str, b: str) -> bool:
        """Whether modules a and b can run in one program."""
        if a == b:
            return True
        if not self._built:
            self._build()
        ra, rb = self._find(a), self._find(b)
        return ra == rb or self._find(_OPEN) in (ra, rb)

    # -- the graph -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self._built = True
        modules = set(self.repo.paths)
        for module in self.repo.paths:
            data = self.repo.read(module)
            if not data:
                continue
            if any(token in data for token in _DYNAMIC):
                self._union(module, _OPEN)
            for target in self._targets(module, data, modules):
                self._union(module, target)
            for package in _packages(module):
                if package in modules:
                    self._union(module, package)

    def _targets(self, module: str, data: bytes, modules) -> Iterable[str]:
        package = module if self.repo.rels[module].endswith("__init__.py") else module.rpartition(".")[0]
        for m in at_line_start(_IMPORT, data):
            for part in m.group(1).split(b","):
                name = part.split()[0].decode("ascii", "replace") if part.split() else ""
                yield from self._resolve(name, modules)
        for m in at_line_start(_FROM, data):
            base = m.group(1).decode("ascii", "replace")
            if base.startswith("."):
                level = len(base) - len(base.lstrip("."))
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
                base = ".".join(p for p in parts + [base.lstrip(".")] if p)
            names = [n.split()[0].decode("ascii", "replace") for n in re.split(rb"[,\\\n]", m.group(2)) if n.split()]
            if base:
                yield from self._resolve(base, modules)
            for name in names:
                if name != "*":
                    yield from self._resolve(f"{base}.{name}" if base else name, modules)

    def _resolve(self, name: str, modules) -> List[str]:
        if not name:
            return []
        if name in modules:
            return [name]
        return self.suffix.get(name, [])

    # -- union-find ------------------------------------------------------------------------------------
    def _find(self, x: str) -> str:
        parent = self._parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def _union(self, a: str, b: str) -> None:
        ra, rb = self._find(a), self._find(b)
        if ra != rb:
            self._parent[ra] = rb


def _packages(module: str) -> List[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


__all__ = ["ImportGraph"]
