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
import builtins
import hashlib
import re
import warnings
from itertools import repeat
from typing import Dict, List, Optional, Set, Tuple

from . import names as N
from .model import AttrSet, Call, Draw, FileFacts, Function, Klass, Loader, Seed

_TEXT_LIMIT = 160
_MAX_DEPTH = 20
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_NEWLINE = re.compile(r"\r\n|\r|\n")
_POINTER_ATOMS = ("q:", "i:", "self:", "wds:", "param:", "fn:")
_DIGESTED = frozenset(N.PER_SAMPLE_METHODS) | {"__call__", "forward"}
_SOURCE_TAGS = frozenset({"t:torch_seed", "t:worker_seed", "t:torch_draw", "t:entropy", "t:worker_id",
                          "t:get_state", "t:index"})
_CONST = (ast.JoinedStr, ast.Compare)
_SKIPPED_FIELDS = frozenset({"ctx", "op", "ops", "type_comment"})


def module_name(relpath: str) -> str:
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    if parts and parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


class _Scope:
    __slots__ = ("kind", "qualname", "name", "cls", "parent", "params", "defaults", "self_name", "assigns",
                 "calls", "returns", "attr_assigns", "defs", "is_static", "line", "node", "item_assigns")

    def __init__(self, kind, qualname, name, parent, cls="", line=0):
        self.kind = kind
        self.qualname = qualname
        self.name = name
        self.parent = parent
        self.cls = cls
        self.params: List[str] = []
        self.defaults: Dict[str, ast.expr] = {}
        self.self_name = ""
        self.assigns: Dict[str, list] = {}
        self.item_assigns: Dict[str, list] = {}
        self.calls: List[Tuple[ast.Call, int, int]] = []
        self.returns: List[ast.expr] = []
        self.attr_assigns: List[Tuple[ast.expr, str, ast.expr, int, int]] = []
        self.defs: Dict[str, str] = {}
        self.is_static = False
        self.line = line
        self.node = None


class _Source:
    """Line and column of nodes as a reader counts them (ast counts columns in UTF-8 bytes), and their text."""

    def __init__(self, text: str):
        self.text = text
        self.ascii = text.isascii()
        self._lines: Optional[List[str]] = None

    @property
    def lines(self) -> List[str]:
        if self._lines is None:
            self._lines = _NEWLINE.split(self.text)
        return self._lines

    def column(self, line: int, offset: int) -> int:
        if self.ascii or line > len(self.lines):
            return offset
        return len(self._cut(self.lines[line - 1], 0, offset))

    def _cut(self, line: str, start: int, end: Optional[int] = None) -> str:
        """A line between two UTF-8 byte offsets (character offsets are the same for ASCII)."""
        if self.ascii:
            return line[start:end]
        return line.encode("utf-8")[start:end].decode("utf-8", "replace")

    def segment(self, node) -> str:
        if getattr(node, "end_lineno", None) is None:
            return ""
        return self.span(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)

    def span(self, first: int, start: int, last: int, end: int) -> str:
        """Source text between two (line, UTF-8 byte offset) positions, as ast gives them."""
        lines = self.lines[first - 1:last]
        if not lines:
            return ""
        if len(lines) == 1:
            return self._cut(lines[0], start, end)
        return "\n".join([self._cut(lines[0], start), *lines[1:-1], self._cut(lines[-1], 0, end)])


_LEAVES = frozenset({ast.Name, ast.Constant, ast.alias, ast.Pass, ast.Break, ast.Continue, ast.Global,
                     ast.Nonlocal})

# Children of the commonest nodes, written out (a generic walk over _fields is twice as slow); the order is
# the source order, which the facts keep.
_SHAPES = {
    ast.Expr: lambda n: (n.value,),
    ast.Attribute: lambda n: (n.value,),
    ast.Call: lambda n: (n.func, *n.args, *[k.value for k in n.keywords]),
    ast.Subscript: lambda n: (n.value, n.slice),
    ast.BinOp: lambda n: (n.left, n.right),
    ast.BoolOp: lambda n: n.values,
    ast.UnaryOp: lambda n: (n.operand,),
    ast.Compare: lambda n: (n.left, *n.comparators),
    ast.Tuple: lambda n: n.elts,
    ast.List: lambda n: n.elts,
    ast.Set: lambda n: n.elts,
    ast.Dict: lambda n: [*[k for k in n.keys if k is not None], *n.values],
    ast.JoinedStr: lambda n: n.values,
    ast.FormattedValue: lambda n: (n.value,) if n.format_spec is None else (n.value, n.format_spec),
    ast.If: lambda n: (n.test, *n.body, *n.orelse),
    ast.IfExp: lambda n: (n.test, n.body, n.orelse),
    ast.Starred: lambda n: (n.value,),
    ast.keyword: lambda n: (n.value,),
    ast.Slice: lambda n: [x for x in (n.lower, n.upper, n.step) if x is not None],
}


def _children(node) -> List[ast.AST]:
    """Child nodes in source order."""
    shape = _SHAPES.get(type(node))
    if shape is not None:
        return shape(node)
    out = []
    for name in _fields(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, list):
            out.extend(v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


_FIELD_CACHE: Dict[type, Tuple[str, ...]] = {}


def _fields(cls) -> Tuple[str, ...]:
    fields = _FIELD_CACHE.get(cls)
    if fields is None:
        fields = _FIELD_CACHE[cls] = tuple(f for f in cls._fields if f not in _SKIPPED_FIELDS)
    return fields


class _Collector:
    """Records raw nodes per scope in one iterative, source-ordered walk; atoms are evaluated afterwards.

    Decorators, default values, annotations and class bases belong to the enclosing scope (that is where
    Python evaluates them); bodies belong to the new one."""

    def __init__(self, module: str, is_package: bool, source: _Source):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.source = source
        self.root = _Scope("module", module + ".<module>", "<module>", None)
        self.scopes: List[_Scope] = [self.root]
        self.classes: List[Tuple[_Scope, ast.ClassDef, int]] = []
        self.lambdas: Dict[int, str] = {}
        self.star_imports: List[str] = []
        self._handlers = {
            ast.Import: self._import, ast.ImportFrom: self._import_from, ast.ClassDef: self._class,
            ast.FunctionDef: self._function, ast.AsyncFunctionDef: self._function, ast.Lambda: self._lambda,
            ast.Assign: self._assign, ast.AnnAssign: self._ann_assign, ast.AugAssign: self._aug_assign,
            ast.NamedExpr: self._aug_assign, ast.For: self._for, ast.AsyncFor: self._for,
            ast.comprehension: self._for, ast.withitem: self._with_item, ast.Return: self._return,
            ast.Call: self._call,
        }

    def walk(self, tree: ast.Module) -> None:
        stack = [(node, self.root) for node in reversed(tree.body)]
        handlers = self._handlers
        leaves = _LEAVES
        while stack:
            node, scope = stack.pop()
            kind = type(node)
            if kind in leaves:  # names and constants are most of a tree
                continue
            handler = handlers.get(kind)
            nested = handler(node, scope) if handler is not None else None
            if nested is None:
                children = _children(node)
                if children:
                    stack.extend(zip(reversed(children), repeat(scope)))
            else:
                stack.extend(reversed(nested))

    # -- helpers -------------------------------------------------------------------------------------
    def _pos(self, node) -> Tuple[int, int]:
        return node.lineno, self.source.column(node.lineno, node.col_offset) + 1

    @staticmethod
    def _bind(scope: _Scope, name: str, value) -> None:
        scope.assigns.setdefault(name, []).append(value)

    def _bind_target(self, scope: _Scope, target, value) -> None:
        if isinstance(target, ast.Name):
            self._bind(scope, target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._bind_target(scope, el, value)
        elif isinstance(target, ast.Starred):
            self._bind_target(scope, target.value, value)
        elif isinstance(target, ast.Attribute):
            line, col = self._pos(target)
            scope.attr_assigns.append((target.value, target.attr, value, line, col))
        elif isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            key = _string_key(target)
            if key is not None:
                scope.item_assigns.setdefault(target.value.id, []).append((key, value))

    def _resolve_relative(self, node: ast.ImportFrom) -> str:
        mod = node.module or ""
        level = node.level or 0
        if not level:
            return mod
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
        return ".".join([p for p in base if p] + ([mod] if mod else []))

    # -- imports -------------------------------------------------------------------------------------
    def _import(self, node: ast.Import, scope: _Scope):
        for alias in node.names:
            if alias.asname:
                self._bind(scope, alias.asname, ("import", alias.name))
            else:
                top = alias.name.split(".")[0]
                self._bind(scope, top, ("import", top))
        return []

    def _import_from(self, node: ast.ImportFrom, scope: _Scope):
        base = self._resolve_relative(node)
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append(base)
                continue
            self._bind(scope, alias.asname or alias.name, ("import", f"{base}.{alias.name}" if base else alias.name))
        return []

    # -- scopes --------------------------------------------------------------------------------------
    def _class(self, node: ast.ClassDef, parent: _Scope):
        qual = _child_qualname(parent, node.name)
        parent.defs[node.name] = qual
        scope = _Scope("class", qual, node.name, parent, cls=qual, line=node.lineno)
        self.scopes.append(scope)
        self.classes.append((scope, node, node.lineno))
        outer = [*node.decorator_list, *node.bases, *node.keywords]
        return [(n, parent) for n in outer] + [(n, scope) for n in node.body]

    def _function(self, node, parent: _Scope):
        qual = _child_qualname(parent, node.name)
        parent.defs[node.name] = qual
        cls = parent.qualname if parent.kind == "class" else ""
        scope = _Scope("function", qual, node.name, parent, cls=cls, line=node.lineno)
        scope.node = node
        scope.is_static = any(_dotted(d) == "staticmethod" for d in node.decorator_list)
        self._params(scope, node.args)
        if cls and scope.params and not scope.is_static:
            scope.self_name = scope.params[0]
        self.scopes.append(scope)
        outer = [*node.decorator_list, *_argument_nodes(node.args)]
        if node.returns is not None:
            outer.append(node.returns)
        return [(n, parent) for n in outer] + [(n, scope) for n in node.body]

    def _lambda(self, node: ast.Lambda, parent: _Scope):
        line, col = self._pos(node)
        qual = f"{parent.qualname if parent.kind != 'module' else self.module}.<lambda:{line}:{col}>"
        self.lambdas[id(node)] = qual
        scope = _Scope("function", qual, "<lambda>", parent, line=line)
        self._params(scope, node.args)
        scope.returns.append(node.body)
        self.scopes.append(scope)
        return [(n, parent) for n in _argument_nodes(node.args)] + [(node.body, scope)]

    @staticmethod
    def _params(scope: _Scope, args: ast.arguments) -> None:
        positional = [*args.posonlyargs, *args.args]
        for a in positional:
            scope.params.append(a.arg)
        for a, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            scope.defaults[a.arg] = default
        for a, default in zip(args.kwonlyargs, args.kw_defaults):
            scope.params.append(a.arg)
            if default is not None:
                scope.defaults[a.arg] = default
        for star in (args.vararg, args.kwarg):
            if star is not None:
                scope.params.append(star.arg)

    # -- statements ----------------------------------------------------------------------------------
    def _assign(self, node: ast.Assign, scope: _Scope):
        for t in node.targets:
            self._bind_target(scope, t, node.value)

    def _ann_assign(self, node: ast.AnnAssign, scope: _Scope):
        if node.value is not None:
            self._bind_target(scope, node.target, node.value)

    def _aug_assign(self, node, scope: _Scope):
        self._bind_target(scope, node.target, node.value)

    def _for(self, node, scope: _Scope):
        self._bind_target(scope, node.target, node.iter)

    def _with_item(self, node: ast.withitem, scope: _Scope):
        if node.optional_vars is not None:
            self._bind_target(scope, node.optional_vars, node.context_expr)

    def _return(self, node: ast.Return, scope: _Scope):
        if node.value is not None:
            scope.returns.append(node.value)

    def _call(self, node: ast.Call, scope: _Scope):
        line, col = self._pos(node)
        scope.calls.append((node, line, col))


def _argument_nodes(args: ast.arguments) -> List[ast.AST]:
    out: List[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if a is not None and a.annotation is not None:
            out.append(a.annotation)
    return out


class _Evaluator:
    """Turns the collector's raw nodes into atoms and facts."""

    def __init__(self, col: _Collector):
        self.c = col
        self.source = col.source
        self._cache: Dict[Tuple[int, int], frozenset] = {}
        self._active: Set[Tuple[int, int]] = set()

    def text(self, node) -> str:
        code = " ".join(self.source.segment(node).split())
        return code if len(code) <= _TEXT_LIMIT else code[: _TEXT_LIMIT - 1] + "…"

    # -- atoms ---------------------------------------------------------------------------------------
    def atoms(self, node, scope: _Scope, depth: int = 0) -> frozenset:
        key = (id(node), id(scope))
        if key in self._cache:
            return self._cache[key]
        if key in self._active or depth > _MAX_DEPTH:
            return frozenset({"t:other"})
        self._active.add(key)
        try:
            out = frozenset(self._atoms(node, scope, depth + 1))
        finally:
            self._active.discard(key)
        self._cache[key] = out
        return out

    def _atoms(self, node, scope: _Scope, d: int) -> Set[str]:
        if isinstance(node, tuple) and node[0] == "import":
            return {"q:" + node[1]}
        if isinstance(node, ast.Constant):
            value = node.value
            if value is True:
                return {"t:const", "t:true"}
            if value is False:
                return {"t:const", "t:false"}
            if value is None:
                return {"t:none"}
            if isinstance(value, int):
                return {f"t:int:{value}", "t:const"}
            return {"t:const"}
        if isinstance(node, _CONST):
            return {"t:const"}
        if isinstance(node, ast.Name):
            return self.name_atoms(node.id, scope, d)
        if isinstance(node, ast.Attribute):
            return _attr_atoms(self.atoms(node.value, scope, d), node.attr, node.value)
        if isinstance(node, ast.Call):
            return self.call_atoms(node, scope, d)
        if isinstance(node, ast.Subscript):
            base = self.atoms(node.value, scope, d)
            key = _string_key(node)
            if key is not None:
                picked = {a.split("=", 1)[1] for a in base if a.startswith(f"kv:{key}=")}
                if picked:
                    return picked
                return {f"key:{key}"} | {a for a in base if a.startswith("t:") and a != "t:dict"}
            return {a for a in base if not a.startswith("kv:") and a != "t:dict"}
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out: Set[str] = set()
            for el in node.elts:
                out |= self.atoms(el, scope, d)
            return out
        if isinstance(node, ast.Dict):
            out = {"t:dict"}
            for key_node, value in zip(node.keys, node.values):
                vals = self.atoms(value, scope, d)
                if key_node is None:  # {**other}
                    out |= vals
                    continue
                out |= {a for a in vals if a.startswith(_POINTER_ATOMS)}
                key = _literal_str(key_node)
                if key is not None:
                    out |= {f"kv:{key}={a}" for a in vals if not a.startswith("kv:")}
            return out
        if isinstance(node, ast.BinOp):
            return set(self.atoms(node.left, scope, d) | self.atoms(node.right, scope, d))
        if isinstance(node, ast.BoolOp):
            out = set()
            for value in node.values:
                out |= self.atoms(value, scope, d)
            return out
        if isinstance(node, ast.UnaryOp):
            return set(self.atoms(node.operand, scope, d))
        if isinstance(node, ast.IfExp):
            return set(self.atoms(node.body, scope, d) | self.atoms(node.orelse, scope, d))
        if isinstance(node, ast.Lambda):
            return {"fn:" + self.c.lambdas[id(node)]} if id(node) in self.c.lambdas else {"t:other"}
        if isinstance(node, (ast.Await, ast.Starred, ast.NamedExpr)):
            return set(self.atoms(node.value, scope, d))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return set(self.atoms(node.elt, scope, d))
        if isinstance(node, ast.DictComp):
            return set(self.atoms(node.value, scope, d))
        return {"t:other"}
    def name_atoms(self, name: str, origin: _Scope, d: int) -> Set[str]:
        s = origin
        while s is not None:
            if s.kind == "class" and s is not origin:
                s = s.parent
                continue
            if name in s.params:
                if s is not origin:
                    return {"t:other"}
                if name == s.self_name:
                    return {"self"}
                out = {"param:" + name}
                if s.name == "__getitem__" and s.cls and len(s.params) > 1 and name == s.params[1]:
                    out.add("t:index")
                if name in s.defaults:
                    dflt = self.atoms(s.defaults[name], s.parent, d)
                    out |= {("t:rng_default" if a == "t:rng_ctor" else a) for a in dflt if not a.startswith("s!")}
                return out
            if name in s.defs:
                return {"q:" + s.defs[name].replace(".<module>", "")}
            if name in s.assigns:
                values = s.assigns[name]
                imports = [v for v in values if isinstance(v, tuple)]
                if imports:
                    return {"q:" + v[1] for v in imports}
                if s.kind == "module" and s is not origin:
                    return {f"q:{self.c.module}.{name}"}
                out = set()
                for v in values:
                    out |= self.atoms(v, s, d)
                for key, v in s.item_assigns.get(name, ()):
                    out |= {f"kv:{key}={a}" for a in self.atoms(v, s, d) if not a.startswith("kv:")}
                return out
            s = s.parent
        if self.c.star_imports and name not in _BUILTINS:
            return {f"q:{m}.{name}" for m in self.c.star_imports}
        return {"q:" + name}

    def call_atoms(self, node: ast.Call, scope: _Scope, d: int) -> Set[str]:
        callee = self.atoms(node.func, scope, d)
        out: Set[str] = set()
        for a in callee:
            if a.startswith("q:"):
                out |= self._known_call(a[2:], node, scope, d)
            elif a.startswith(("self:", "wds:", "fn:", "param:", "i:")):
                out.add("i:" + a)
            elif a.startswith("t:") and a not in ("t:rng_ctor", "t:rng_default", "t:dict", "t:worker_info",
                                                  "t:worker_dataset"):
                out.add(a)  # tensor.item(), .astype(...) keep the nature of what they convert
        return out or {"t:other"}

    def _known_call(self, q: str, node: ast.Call, scope: _Scope, d: int) -> Set[str]:
        args = _positional(node)
        if q in N.RNG_CONSTRUCTORS:
            seed = self.atoms(args[0], scope, d) if args else frozenset({"t:entropy"})
            if q == "numpy.random.Generator" and not args:
                seed = frozenset({"t:entropy"})
            return {"t:rng_ctor"} | {"s!" + a for a in seed if not a.startswith(("s!", "kv:"))}
        if q in N.BIT_GENERATORS:
            return set(self.atoms(args[0], scope, d)) if args else {"t:entropy"}
        if q in N.TORCH_SEED_CALLS:
            return {"t:torch_seed"}
        if q.startswith(N.TORCH_DRAW_PREFIXES):
            return {"t:torch_draw"}
        if q in N.ENTROPY_CALLS or q.startswith("secrets."):
            return {"t:entropy"}
        if q in N.GET_WORKER_INFO:
            return {"t:worker_info"}
        if q in N.CPU_COUNT_CALLS:
            return {"t:cpu"}
        if q == "numpy.random.get_state":
            return {"t:get_state"}
        if q in N.PASS_THROUGH_BUILTINS or q.startswith("numpy.") and q.split(".")[-1] in (
                "int32", "int64", "uint32", "uint64", "mod", "abs", "array", "asarray"):
            out: Set[str] = set()
            for a in _arg_values(node):
                out |= self.atoms(a, scope, d)
            return out or {"t:const"}
        if q == "dict":
            out = {"t:dict"}
            for keyword, value in _args(node):
                vals = self.atoms(value, scope, d)
                if keyword:
                    out |= {f"kv:{keyword}={v}" for v in vals if not v.startswith("kv:")}
                out |= {v for v in vals if v.startswith(("kv:",) + _POINTER_ATOMS)}
            return out
        out = {"i:q:" + q}
        if q.startswith(("time.", "datetime.")):
            out.add("t:other")
        # Containers of callables (Compose([...]), partial(fn, ...), nn.Sequential(...)) carry what they hold,
        # and a function of a seed source (int.from_bytes(os.urandom(4)), hash(...)) is still that source.
        for a in _arg_values(node):
            out |= {v for v in self.atoms(a, scope, d) if v.startswith(_POINTER_ATOMS) or v in _SOURCE_TAGS}
        return out

    # -- facts ---------------------------------------------------------------------------------------
    def function(self, s: _Scope) -> Tuple[Function, List[Loader], List[Tuple[str, frozenset]], List[int]]:
        draws: List[Draw] = []
        calls: List[Call] = []
        seeds: List[Seed] = []
        loaders: List[Loader] = []
        options: List[Tuple[str, frozenset]] = []
        lightning: List[int] = []
        for node, line, col in s.calls:
            callee = self.atoms(node.func, s)
            quals = {a[2:] for a in callee if a.startswith("q:")}
            args = tuple(self._call_args(node, s)) if _may_run_repo_code(callee, quals) else ()
            calls.append(Call(line, col, _sorted(callee), args))
            if any(N.is_numpy_global_draw(q) for q in quals):
                draws.append(Draw(line, col, self.text(node), "global"))
            elif isinstance(node.func, ast.Attribute) and node.func.attr in N.RNG_DRAW_METHODS:
                draw = self._object_draw(node, s, line, col)
                if draw is not None:
                    draws.append(draw)
            seeds.extend(self._seed_calls(node, s, quals, line, col))
            if quals & N.DATALOADERS:
                loaders.append(self._loader(node, s, args, line, col))
            if any(N.is_lightning_seed_everything(q) for q in quals) and _kw_true(node, "workers"):
                lightning.append(line)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("add_argument", "set_defaults"):
                options.extend(self._argparse(node, s))
        for base, attr, value, line, col in s.attr_assigns:
            vals = self.atoms(value, s)
            if "t:rng_ctor" in vals:
                refs = _attr_atoms(self.atoms(base, s), attr, base)
                target = tuple(sorted(a for a in refs if a.startswith(("self:", "wds:", "q:"))))
                if target:
                    source = _sorted(a[2:] for a in vals if a.startswith("s!"))
                    seeds.append(Seed(line, col, self.text(value), "object", source, target))
            if "worker" in attr.lower():
                options.append((attr, vals))
        for name, values in s.item_assigns.items():
            for key, value in values:
                if "worker" in key.lower():
                    options.append((key, self.atoms(value, s)))
        returns: Set[str] = set()
        for r in s.returns:
            returns |= self.atoms(r, s)
        digest = ""
        if s.node is not None and s.name in _DIGESTED:
            digest = _digest(self.source, s.node.body)
        fn = Function(
            qualname=s.qualname, name=s.name, cls=s.cls, params=tuple(s.params), line=s.line,
            draws=tuple(draws), calls=tuple(calls), seeds=tuple(seeds), returns=_sorted(returns),
            is_static=s.is_static, digest=digest,
        )
        return fn, loaders, options, lightning

    def _call_args(self, node: ast.Call, s: _Scope):
        pos = 0
        for a in node.args:
            if isinstance(a, ast.Starred):
                yield "*", _sorted(self.atoms(a.value, s))
            else:
                yield str(pos), _sorted(self.atoms(a, s))
                pos += 1
        for k in node.keywords:
            yield (k.arg or "**"), _sorted(self.atoms(k.value, s))

    def _object_draw(self, node: ast.Call, s: _Scope, line: int, col: int) -> Optional[Draw]:
        obj = self.atoms(node.func.value, s)
        if any(a.startswith("q:numpy.random") or a.startswith(("q:random", "q:torch")) for a in obj):
            return None
        refs = tuple(sorted(a for a in obj if a.startswith(("self:", "wds:", "q:", "param:"))
                            and not a.startswith("q:numpy")))
        if "t:rng_default" in obj:
            return Draw(line, col, self.text(node), "object", refs + ("t:rng_default",))
        if refs:
            return Draw(line, col, self.text(node), "object", refs)
        if "t:rng_ctor" in obj:
            # built in this function: its own seed decides (entropy is fine, a constant or the index is not)
            return Draw(line, col, self.text(node), "local", tuple(sorted(a[2:] for a in obj if a.startswith("s!"))))
        return None

    def _seed_calls(self, node: ast.Call, s: _Scope, quals, line: int, col: int) -> List[Seed]:
        def source():
            args = _positional(node)
            return _sorted(self.atoms(args[0], s)) if args else ("t:entropy",)
        if quals & N.NUMPY_GLOBAL_SEEDERS:
            return [Seed(line, col, self.text(node), "global", source())]
        if quals & N.PYTHON_SEEDERS:
            return [Seed(line, col, self.text(node), "python", source())]
        if quals & N.TORCH_SEEDERS:
            return [Seed(line, col, self.text(node), "torch", source())]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "seed" and not quals:
            obj = self.atoms(node.func.value, s)
            refs = tuple(sorted(a for a in obj if a.startswith(("self:", "wds:", "q:", "param:"))))
            if refs:
                return [Seed(line, col, self.text(node), "object", source(), refs)]
        return []

    def _loader(self, node: ast.Call, s: _Scope, args, line: int, col: int) -> Loader:
        mapped, unknown = dataloader_arguments(args)
        return Loader(line, col, self.text(node), s.qualname, s.cls or _enclosing_class(s), mapped, unknown)

    def _argparse(self, node: ast.Call, s: _Scope):
        if node.func.attr == "set_defaults":
            for k in node.keywords:
                if k.arg and "worker" in k.arg.lower():
                    yield k.arg, self.atoms(k.value, s)
            return
        flags = [_literal_str(a) for a in node.args]
        flags = [f for f in flags if f]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        dest = _literal_str(kw["dest"]) if "dest" in kw else None
        if dest is None:
            longs = [f for f in flags if f.startswith("--")]
            pick = longs[0] if longs else (flags[0] if flags else "")
            dest = pick.lstrip("-").replace("-", "_")
        if dest and "worker" in dest.lower():
            default = self.atoms(kw["default"], s) if "default" in kw else frozenset({"t:none"})
            yield dest, default


def dataloader_arguments(call_args) -> Tuple[Tuple[Tuple[str, Tuple[str, ...]], ...], bool]:
    """A DataLoader call's (name, atoms) arguments from its ("0"/keyword/"**"/"*", atoms) pairs, and whether
    some may be hidden (``**kwargs`` that is not a known dict, ``*args``)."""
    args: Dict[str, Set[str]] = {}
    unknown = False
    for key, atoms in call_args:
        if key.isdigit():
            i = int(key)
            if i < len(N.DATALOADER_POSITIONAL):
                args.setdefault(N.DATALOADER_POSITIONAL[i], set()).update(atoms)
        elif key == "**":
            kvs = [a for a in atoms if a.startswith("kv:")]
            for kv in kvs:
                k, v = kv[3:].split("=", 1)
                args.setdefault(k, set()).add(v)
            unknown = unknown or (not kvs and "t:dict" not in atoms)
        elif key == "*":
            unknown = True
        else:
            args.setdefault(key, set()).update(atoms)
    return tuple((k, _sorted(v)) for k, v in sorted(args.items())), unknown


def _may_run_repo_code(callee, quals) -> bool:
    """Whether a call's arguments can matter: it may run repository code (and bind its parameters), build a
    loader or a library dataset. Calls of builtins, of numpy.* or os.path.* and of methods of unknown objects
    (``x.append``) cannot; their arguments are most of a file's atoms."""
    if any(a.startswith(("self:", "wds:", "fn:", "param:", "i:")) for a in callee):
        return True
    for q in quals:
        top = q.partition(".")[0]
        if "." not in q and q in _BUILTINS:
            continue
        if top in N.EXTERNAL_MODULES and "datasets" not in q and q not in N.DATALOADERS:
            continue
        return True
    return False


def _enclosing_class(s: _Scope) -> str:
    while s is not None:
        if s.kind == "class":
            return s.qualname
        s = s.parent
    return ""


def _child_qualname(parent: _Scope, name: str) -> str:
    if parent.kind == "module":
        return parent.qualname.replace(".<module>", "") + "." + name
    return parent.qualname + "." + name


def _attr_atoms(base, attr: str, base_node) -> Set[str]:
    out: Set[str] = set()
    module_ref = False
    for a in base:
        if a.startswith("q:"):
            out.add(f"{a}.{attr}")
            module_ref = True
        elif a == "self":
            out.add("self:" + attr)
        elif a.startswith(("self:", "wds:", "i:", "param:")) and "#" not in a:
            out.add(f"{a}#{attr}")
        elif a == "t:worker_info":
            out.add({"seed": "t:worker_seed", "id": "t:worker_id", "dataset": "t:worker_dataset"}.get(attr, "t:other"))
        elif a == "t:worker_dataset":
            out.add("wds:" + attr)
        elif a.startswith("t:") and a not in ("t:rng_ctor", "t:rng_default", "t:dict"):
            out.add(a)
    if not module_ref and isinstance(base_node, (ast.Name, ast.Attribute, ast.Subscript)):
        out.add("arg:" + attr)
    return out


def _dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))


def _literal_str(node) -> Optional[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _string_key(node: ast.Subscript) -> Optional[str]:
    return _literal_str(node.slice)


def _positional(node: ast.Call) -> List[ast.expr]:
    return [a for a in node.args if not isinstance(a, ast.Starred)]


def _arg_values(node: ast.Call) -> List[ast.expr]:
    return [*(a.value if isinstance(a, ast.Starred) else a for a in node.args), *(k.value for k in node.keywords)]


def _args(node: ast.Call):
    """(keyword or "", value) of every argument, in the order written."""
    for a in node.args:
        yield "", a.value if isinstance(a, ast.Starred) else a
    for k in node.keywords:
        yield k.arg or "", k.value


def _kw_true(node: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)


_COMMENT = re.compile(r"#[^\n]*")


def _digest(source: "_Source", body) -> str:
    """Of the code with comments and layout left out, so reformatted or re-commented copies still match."""
    first, last = body[0], body[-1]
    text = source.span(first.lineno, first.col_offset, last.end_lineno, last.end_col_offset)
    code = " ".join(_COMMENT.sub("", text).split())
    return hashlib.blake2b(code.encode(), digest_size=8).hexdigest()


def _sorted(atoms) -> Tuple[str, ...]:
    return tuple(sorted(set(atoms)))


_BUILTINS = frozenset(dir(builtins))


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
    collector = _Collector(module, path.endswith("__init__.py"), _Source(source))
    collector.walk(tree)
    ev = _Evaluator(collector)
    functions, loaders, options, lightning = [], [], [], []
    for s in collector.scopes:
        if s.kind == "class":
            continue
        fn, ls, opts, light = ev.function(s)
        functions.append(fn)
        loaders.extend(ls)
        options.extend(opts)
        lightning.extend(light)
    methods: Dict[str, List[_Scope]] = {}
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
            variables.append((name, _sorted(ev.name_atoms(name, root, 0))))
    for m in collector.star_imports:
        imports.append(("*", m))
    return FileFacts(
        path=path, module=module, imports=tuple(imports), functions=tuple(functions), classes=tuple(classes),
        variables=tuple(variables), loaders=tuple(loaders),
        options=tuple((k, _sorted(v)) for k, v in options), lightning_workers=tuple(lightning),
        noqa=noqa_lines(source),
    )


def _klass(ev: _Evaluator, scope: _Scope, node: ast.ClassDef, line: int, own: List[_Scope]) -> Klass:
    """``own``: the class's methods that have a self, whose ``self.x = ...`` are the instance attributes."""
    bases: Set[str] = set()
    for arg in node.bases:
        bases |= {a for a in ev.atoms(arg, scope.parent) if a.startswith("q:")}
    attrs: List[AttrSet] = []
    for name, values in scope.assigns.items():
        if any(isinstance(v, tuple) for v in values):
            continue
        atoms = frozenset().union(*(ev.atoms(v, scope) for v in values))
        attrs.append(AttrSet(name, "<class>", _sorted(atoms), line))
    for s in own:
        for base, attr, value, aline, _ in s.attr_assigns:
            if isinstance(base, ast.Name) and base.id == s.self_name:
                attrs.append(AttrSet(attr, s.name, _sorted(ev.atoms(value, s)), aline))
    return Klass(scope.qualname, scope.name, line, _sorted(bases), tuple(scope.defs), tuple(attrs))
