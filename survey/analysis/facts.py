"""Per-file facts: one pass over CPython's syntax tree, recording what the repository-level judgement needs.

The tree comes from ``ast.parse`` (C speed, with line and column of every node); the walk is iterative, so
deeply nested code costs no Python recursion. Expressions are summarised as *atoms*, strings saying what a
value may be or derive from:

- ``q:X`` the qualified name X (``q:numpy.random.rand``, ``q:pkg.data.MyDataset``); ``i:R`` the result of
  calling R (``i:q:pkg.aug.Flip`` is a Flip instance);
- ``self:A`` attribute A of self; ``wds:A`` attribute A of the worker's dataset (``get_worker_info().dataset``);
  ``param:P`` parameter P of the enclosing function; ``fn:X`` a lambda or nested function;
- ``arg:A`` attribute A of some object (``args.num_workers``); ``key:K`` a subscript by string key;
  ``kv:K=atom`` a dict literal's entry;
- ``t:...`` tags: ``t:int:N``, ``t:const``, ``t:none``, ``t:dict``, ``t:rng_ctor`` (an RNG built here, its seed
  as ``s!atom``), ``t:rng_default`` (an RNG built as a default argument, so in the parent),
  ``t:torch_seed``, ``t:worker_seed``, ``t:worker_id``, ``t:worker_info``, ``t:worker_dataset``,
  ``t:torch_draw``, ``t:entropy``, ``t:get_state``, ``t:index``, ``t:cpu``, ``t:other``.

Atoms are computed flow-insensitively per scope (a name may be any value it is ever assigned), which is
what a reviewer would assume too: a loader built with ``num_workers=0 if debug else 8`` may have workers.
"""
from __future__ import annotations

import ast
import re
import warnings
from typing import Dict, List, Set, Tuple

from .model import AttrSet, FileFacts, Klass
from .evaluate import Evaluator, sorted_atoms
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
    functions, loaders, options, lightning = [], [], [], []
    for s in collector.scopes:
        if s.kind == "class":
            continue
        fn, ls, opts, light = ev.function(s)
        functions.append(fn)
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
            if "worker" in name.lower():
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
    return FileFacts(
        path=path, module=module, imports=tuple(imports), functions=tuple(functions), classes=tuple(classes),
        variables=tuple(variables), loaders=tuple(loaders),
        options=tuple((k, sorted_atoms(v)) for k, v in options), lightning_workers=tuple(lightning),
        noqa=noqa_lines(source),
    )


def _klass(ev: Evaluator, scope: Scope, node: ast.ClassDef, line: int, own: List[Scope]) -> Klass:
    """``own``: the class's methods that have a self, whose ``self.x = ...`` are the instance attributes."""
    bases: Set[str] = set()
    for arg in node.bases:
        bases |= {a for a in ev.atoms(arg, scope.parent) if a.startswith("q:")}
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
    return Klass(scope.qualname, scope.name, line, sorted_atoms(bases), tuple(scope.defs), tuple(attrs))
