"""A parsed file's calls indexed by what their syntax says they may call; it holds the unevaluated bodies.

Linking asks every parsed file which calls may call something named ``build_dataset``, which call sits at
a line and column, and which may build a library dataset. Evaluating every callee to answer would cost
what evaluating every function body does, and most bodies are never reached. The syntax narrows the
candidates first: an attribute call ``x.build_dataset(...)`` names only things ending in ``build_dataset``
(the evaluator's qualified names of an attribute always end in it), and a name is followed through the
scopes as the evaluator follows it (an import by what it imports). Only callees the syntax cannot tell (a
name bound by assignment or a parameter with a default, ``f()(...)``, ``table[k](...)``) are evaluated for
every question.
"""
from __future__ import annotations

import ast
from heapq import merge
from typing import Dict, FrozenSet, List, Optional, Tuple

from . import atoms as A
from . import names as N
from .model import Call, Function
from .syntax import is_super_call
from .walk import Scope

_NAMING_CALLS = frozenset({"getattr", "eval", "dict"}) | N.PASS_THROUGH_BUILTINS
Site = Tuple[int, int]  # (function index, call index) in the file


def name_paths(name: str, origin: Scope, module: str, star_imports) -> Optional[Tuple[str, ...]]:
    """The qualified names a name may stand for, as ``Evaluator.name_atoms`` resolves it; ``()`` when it can
    be no qualified name (a plain parameter), None when only evaluating its value can tell."""
    s = origin
    while s is not None:
        if s.kind == "class" and s is not origin:
            s = s.parent
            continue
        if name in s.params:
            return None if s is origin and name in s.defaults and name != s.self_name else ()
        if name in s.defs:
            return (s.defs[name].replace(".<module>", ""),)
        if name in s.assigns:
            imports = tuple(v[1] for v in s.assigns[name] if isinstance(v, tuple))
            if imports:
                return imports
            if s.kind == "module" and s is not origin:
                return (f"{module}.{name}",)
            return None
        s = s.parent
    if star_imports and name not in N.BUILTINS:
        return tuple(f"{m}.{name}" for m in star_imports)
    return (name,)


def callee_terminals(func, scope: Scope, module: str, star_imports) -> Optional[FrozenSet[str]]:
    """The last parts of the qualified names a callee may resolve to; None when the syntax cannot tell."""
    if isinstance(func, ast.Attribute):
        return frozenset((func.attr,))
    if isinstance(func, ast.Name):
        paths = name_paths(func.id, scope, module, star_imports)
        return None if paths is None else frozenset(p.rsplit(".", 1)[-1] for p in paths)
    return None


def may_name_datasets(func, scope: Scope, module: str, star_imports) -> bool:
    """Whether a callee's qualified names may hold "datasets" (torchvision.datasets.X, an import of it).
    Only asked in a file whose text or module name says "datasets": the qualified names of a file are
    spelled in it, or come from its module's name (``datasets_possible``)."""
    node = func
    while True:
        if isinstance(node, ast.Attribute):
            if "datasets" in node.attr or is_super_call(node.value):
                return True
            node = node.value
        elif isinstance(node, ast.Subscript) and node is not func:
            node = node.value  # an item keeps the names of what it is taken from: self.sets[k].build(...)
        elif isinstance(node, ast.Call) and node is not func:
            # x.method().y(...): a call's value names nothing but an instance, except where the evaluator
            # passes names through (getattr, eval, int(...), list(...))
            inner = node.func
            if isinstance(inner, ast.Name) and inner.id in _NAMING_CALLS \
                    or not isinstance(inner, (ast.Name, ast.Attribute)):
                return True
            node = inner
        else:
            break
    if isinstance(node, (ast.Constant, ast.JoinedStr)):  # "".join(...), f"...".format(...)
        return False
    if not isinstance(node, ast.Name):
        return True
    paths = name_paths(node.id, scope, module, star_imports)
    return paths is None or any("datasets" in p for p in paths)


def datasets_possible(source: str, module: str) -> bool:
    return "datasets" in source or "datasets" in module


class CallIndex:
    """The calls of one file's functions by the names their callees may end in, by position, and those
    that may build a library dataset; and the evaluator of the bodies not worked out yet.

    ``release`` works out every body left and lets the syntax tree go: a file's tree takes tens of times
    its source in memory, so a repository keeps only a bounded number of them (``RepoFiles``)."""

    def __init__(self, evaluator, scopes: List[Scope], functions: List[Function]):
        self._ev = evaluator
        self._scopes = scopes
        self.functions = functions
        self.classes: List = []  # the file's classes (model.Klass), whose attributes are pending too
        self._named: Dict[str, List[Site]] = {}
        self._wild: List[Site] = []
        self._library: List[Tuple[Site, bool]] = []
        self._at: Dict[Tuple[int, int], Site] = {}
        self._callees: Dict[Site, Tuple[str, ...]] = {}  # a name looked up asks every wild call again

    def add(self, fi: int, ci: int, line: int, col: int, terminals, datasets: bool, transform: bool) -> None:
        """Call ci of function fi: ``terminals`` as ``callee_terminals`` has them, ``datasets`` whether it may
        name "datasets", ``transform`` whether it passes a transform by keyword."""
        site = (fi, ci)
        if terminals is None:
            self._wild.append(site)
        else:
            for name in terminals:
                self._named.setdefault(name, []).append(site)
        if datasets or transform:
            self._library.append((site, transform))
        self._at[(line, col)] = site

    # -- questions -----------------------------------------------------------------------------------
    def candidates(self, names) -> List[Site]:
        """Calls whose callee may end in one of names, in source order."""
        if self._wild:
            self._place_wild()
        lists = [self._named[n] for n in names if n in self._named]
        if len(lists) == 1:
            return lists[0]
        return sorted(set(merge(*lists)))

    def _place_wild(self) -> None:
        """Indexes the calls the syntax could not tell by the names their evaluated callees end in: every
        question asks about them, so they are evaluated once, at the first."""
        touched = set()
        for site in self._wild:
            for atom in self.callee(site):
                if A.is_qual(atom):
                    name = atom.rsplit(".", 1)[-1]
                    self._named.setdefault(name, []).append(site)
                    touched.add(name)
        for name in touched:
            self._named[name] = sorted(set(self._named[name]))
        self._wild = []

    def library_candidates(self) -> List[Tuple[Site, bool]]:
        """Calls that may build a library dataset, each with whether it passes a transform by keyword (else
        its callee may name "datasets")."""
        return self._library

    def at(self, line: int, col: int) -> Optional[Site]:
        return self._at.get((line, col))

    def callee(self, site: Site) -> Tuple[str, ...]:
        hit = self._callees.get(site)
        if hit is None:
            fi, ci = site
            fn = self.functions[fi]
            if fn.materialised or self._ev is None:
                hit = fn.calls[ci].callee
            else:
                hit = self._ev.callee(self._scopes[fi], ci)
            self._callees[site] = hit
        return hit

    def call(self, site: Site) -> Tuple[Call, Function]:
        fn = self.functions[site[0]]
        return fn.call(site[1]), fn

    # -- the bodies ----------------------------------------------------------------------------------
    @property
    def complete(self) -> bool:
        return all(fn.materialised for fn in self.functions) and all(k.materialised for k in self.classes)

    def release(self) -> None:
        """Works out the bodies and class attributes still pending and drops the syntax tree."""
        for fn in self.functions:
            fn.calls  # noqa: B018 - reading it works the body out
        for klass in self.classes:
            klass.attrs  # noqa: B018
        self.drop()

    def drop(self) -> None:
        """Drops the syntax tree once every body is worked out (a file kept in the process-wide cache)."""
        if self.complete:
            self._ev = None
            self._scopes = []
