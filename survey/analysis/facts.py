"""Per-file facts: what the repository-level judgement needs from one file, assembled from one walk.

The tree comes from ``ast.parse`` (C speed, with line and column of every node); ``walk`` records raw
nodes per scope in one iterative pass (deeply nested code costs no Python recursion), and ``evaluate``
summarises expressions as atoms (the vocabulary of ``atoms``) and builds the facts of ``model``.
"""
from __future__ import annotations

import ast
import re
import warnings
from functools import partial
from typing import Dict, List, Set, Tuple

from . import atoms as A
from . import names as N
from .calls import CallIndex, callee_terminals, datasets_possible, may_name_datasets
from .evaluate import Evaluator, sorted_atoms
from .model import AttrSet, FileFacts, Klass
from .syntax import SourceText
from .walk import Collector, Scope


_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)


def module_name(relpath: str) -> str:
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def noqa_lines(source: str) -> Tuple[Tuple[int, str], ...]:
    out = []
    if "noqa" not in source.lower():
        return ()
    for i, line in enumerate(source.splitlines(), 1):
        m = _NOQA.search(line)
        if m:
            codes = m.group("codes") or ""
            out.append((i, ",".join(c.upper() for c in re.split(r"[,\s]+", codes) if c)))
    return tuple(out)


def extract(source: str, path: str) -> FileFacts:
    """Facts of one file. Raises SyntaxError, ValueError (NUL bytes), RecursionError or MemoryError on code
    that does not parse."""
    module = module_name(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escapes and the like are the crawled code's business
        tree = ast.parse(source, filename=path)
    collector = Collector(module, path.endswith("__init__.py"), SourceText(source))
    collector.walk(tree)
    ev = Evaluator(collector)
    scopes = [s for s in collector.scopes if s.kind != "class"]
    functions = [ev.function(s) for s in scopes]
    calls = CallIndex(ev, scopes, functions)
    loaders, options, lightning = [], [], []
    star = collector.star_imports
    datasets = datasets_possible(source, module)
    for fi, s in enumerate(scopes):
        terminals = []
        for ci, (node, line, col, _) in enumerate(s.calls):
            ends = callee_terminals(node.func, s, module, star)
            terminals.append(ends)
            calls.add(fi, ci, line, col, ends,
                      datasets and _hands_library_transforms(node) and may_name_datasets(node.func, s, module, star),
                      bool(node.keywords) and any(k.arg in N.TRANSFORM_KEYWORDS for k in node.keywords))
        ls, opts, light = ev.scope_facts(s, terminals)
        loaders.extend(ls)
        options.extend(opts)
        lightning.extend(light)
    methods: Dict[str, List[Scope]] = {}
    for s in collector.scopes:
        if s.kind == "function" and s.cls and s.self_name:
            methods.setdefault(s.cls, []).append(s)
    classes = [_klass(ev, scope, node, line, methods.get(scope.qualname, [])) for scope, node, line in collector.classes]
    for scope, _, _ in collector.classes:
        for name, values in scope.assigns.items():
            if N.may_count_workers(name):
                options.append((name, frozenset().union(*(ev.atoms(v, scope) for v in values))))
    root = collector.root
    variables = []
    imports = []
    for name, values in root.assigns.items():
        imported = [v for v in values if isinstance(v, tuple)]
        if imported:
            imports.append((name, imported[-1][1]))
        else:
            variables.append((name, sorted_atoms(ev.name_atoms(name, root, 0))))
    for m in collector.star_imports:
        imports.append(("*", m))
    calls.classes = classes
    return FileFacts(
        path=path, module=module, imports=tuple(imports), functions=tuple(functions), classes=tuple(classes),
        variables=tuple(variables), loaders=tuple(loaders),
        options=tuple((k, sorted_atoms(v)) for k, v in options),
        lightning_workers=tuple(line for line, workers in lightning if workers),
        lightning_plain=tuple(line for line, workers in lightning if not workers),
        noqa=noqa_lines(source), calls=calls,
    )


def _hands_library_transforms(node: ast.Call) -> bool:
    """Whether a call can hand a library dataset its transforms without a transform keyword: by
    ``transforms=`` or positionally (torchvision's ImageFolder(root, transform, target_transform)), which is
    all the judge reads of such a call (``judge._library_datasets``)."""
    return sum(not isinstance(a, ast.Starred) for a in node.args) >= 2 \
        or any(k.arg == "transforms" for k in node.keywords)


def _klass(ev: Evaluator, scope: Scope, node: ast.ClassDef, line: int, own: List[Scope]) -> Klass:
    """``own``: the class's methods that have a self, whose ``self.x = ...`` are the instance attributes."""
    bases: Set[str] = set()
    for arg in node.bases:
        bases |= {a for a in ev.atoms(arg, scope.parent) if A.is_qual(a)}
    return Klass(scope.qualname, scope.name, line, sorted_atoms(bases), tuple(scope.defs),
                 work=partial(_attrs, ev, scope, line, own))


def _attrs(ev: Evaluator, scope: Scope, line: int, own: List[Scope]) -> Tuple[AttrSet, ...]:
    attrs: List[AttrSet] = []
    for name, values in scope.assigns.items():
        if any(isinstance(v, tuple) for v in values):
            continue
        atoms = frozenset().union(*(ev.atoms(v, scope) for v in values))
        attrs.append(AttrSet(name, "<class>", sorted_atoms(atoms), line))
    for s in own:
        for base, attr, value, aline, _ in s.attr_assigns:
            if isinstance(base, ast.Name) and base.id == s.self_name:
                attrs.append(AttrSet(attr, s.name, sorted_atoms(ev.atoms(value, s)), aline))
    return tuple(attrs)
