"""Per-file facts: one libcst pass over a file, recording what the repository-level judgement needs.

Expressions are summarised as *atoms*, strings saying what a value may be or derive from:

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
from typing import Dict, List, Optional, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from . import names as N
from .model import AttrSet, Call, Draw, FileFacts, Function, Klass, Loader, Seed

_TEXT_LIMIT = 160
_MAX_DEPTH = 20
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_POINTER_ATOMS = ("q:", "i:", "self:", "wds:", "param:", "fn:")
_DIGESTED = frozenset(N.PER_SAMPLE_METHODS) | {"__call__", "forward"}
_SOURCE_TAGS = frozenset({"t:torch_seed", "t:worker_seed", "t:torch_draw", "t:entropy", "t:worker_id",
                          "t:get_state", "t:index"})


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
        self.defaults: Dict[str, cst.BaseExpression] = {}
        self.self_name = ""
        self.assigns: Dict[str, list] = {}
        self.item_assigns: Dict[str, list] = {}
        self.calls: List[Tuple[cst.Call, int, int]] = []
        self.returns: List[cst.BaseExpression] = []
        self.attr_assigns: List[Tuple[cst.BaseExpression, str, cst.BaseExpression, int, int]] = []
        self.defs: Dict[str, str] = {}
        self.is_static = False
        self.line = line
        self.node = None


class _Collector(cst.CSTVisitor):
    """Records raw nodes per scope; atoms are evaluated after the whole module is seen."""

    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, module: str, is_package: bool):
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.root = _Scope("module", module + ".<module>", "<module>", None)
        self.stack = [self.root]
        self.scopes: List[_Scope] = [self.root]
        self.classes: List[Tuple[_Scope, cst.ClassDef, int]] = []
        self.lambdas: Dict[int, str] = {}
        self.star_imports: List[str] = []

    # -- helpers -------------------------------------------------------------------------------------
    @property
    def scope(self) -> _Scope:
        return self.stack[-1]

    def _pos(self, node) -> Tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column + 1

    def _bind(self, name: str, value) -> None:
        self.scope.assigns.setdefault(name, []).append(value)

    def _bind_target(self, target, value) -> None:
        if isinstance(target, cst.Name):
            self._bind(target.value, value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for el in target.elements:
                self._bind_target(el.value, value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value, value)
        elif isinstance(target, cst.Attribute):
            line, col = self._pos(target)
            self.scope.attr_assigns.append((target.value, target.attr.value, value, line, col))
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            key = _string_key(target)
            if key is not None:
                self.scope.item_assigns.setdefault(target.value.value, []).append((key, value))

    def _resolve_relative(self, node: cst.ImportFrom) -> str:
        mod = _dotted(node.module) if node.module else ""
        level = len(node.relative)
        if not level:
            return mod
        base = self.package.split(".") if self.package else []
        if level > 1:
            base = base[: len(base) - (level - 1)] if level - 1 <= len(base) else []
        return ".".join([p for p in base if p] + ([mod] if mod else []))

    # -- imports -------------------------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            full = _dotted(alias.name)
            if alias.asname:
                self._bind(alias.asname.name.value, ("import", full))
            else:
                self._bind(full.split(".")[0], ("import", full.split(".")[0]))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        base = self._resolve_relative(node)
        if isinstance(node.names, cst.ImportStar):
            self.star_imports.append(base)
            return
        for alias in node.names:
            name = _dotted(alias.name)
            local = alias.asname.name.value if alias.asname else name
            self._bind(local, ("import", f"{base}.{name}" if base else name))

    # -- scopes --------------------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> Optional[bool]:
        parent = self.scope
        qual = _child_qualname(parent, node.name.value)
        parent.defs[node.name.value] = qual
        line, _ = self._pos(node)
        scope = _Scope("class", qual, node.name.value, parent, cls=qual, line=line)
        self.stack.append(scope)
        self.scopes.append(scope)
        self.classes.append((scope, node, line))
        return True

    def leave_ClassDef(self, node: cst.ClassDef) -> None:
        self.stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> Optional[bool]:
        parent = self.scope
        qual = _child_qualname(parent, node.name.value)
        parent.defs[node.name.value] = qual
        line, _ = self._pos(node)
        cls = parent.qualname if parent.kind == "class" else ""
        scope = _Scope("function", qual, node.name.value, parent, cls=cls, line=line)
        scope.node = node
        decorators = {_dotted(d.decorator) for d in node.decorators if isinstance(d.decorator, (cst.Name, cst.Attribute))}
        scope.is_static = "staticmethod" in decorators
        self._params(scope, node.params)
        if cls and scope.params and not scope.is_static:
            scope.self_name = scope.params[0]
        self.stack.append(scope)
        self.scopes.append(scope)
        return True

    def leave_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Lambda(self, node: cst.Lambda) -> Optional[bool]:
        parent = self.scope
        line, col = self._pos(node)
        qual = f"{parent.qualname if parent.kind != 'module' else self.module}.<lambda:{line}:{col}>"
        self.lambdas[id(node)] = qual
        scope = _Scope("function", qual, "<lambda>", parent, line=line)
        self._params(scope, node.params)
        scope.returns.append(node.body)
        self.stack.append(scope)
        self.scopes.append(scope)
        return True

    def leave_Lambda(self, node: cst.Lambda) -> None:
        self.stack.pop()

    def _params(self, scope: _Scope, params: cst.Parameters) -> None:
        for p in [*params.posonly_params, *params.params, *params.kwonly_params]:
            scope.params.append(p.name.value)
            if p.default is not None:
                scope.defaults[p.name.value] = p.default
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                scope.params.append(star.name.value)

    # -- statements ----------------------------------------------------------------------------------
    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._bind_target(t.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if node.value is not None:
            self._bind_target(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind_target(node.target, node.value)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target, node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target, node.iter)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name, node.item)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.scope.returns.append(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        line, col = self._pos(node)
        self.scope.calls.append((node, line, col))


class _Evaluator:
    """Turns the collector's raw nodes into atoms and facts."""

    def __init__(self, col: _Collector, module: cst.Module):
        self.c = col
        self.module = module
        self._cache: Dict[Tuple[int, int], frozenset] = {}
        self._active: Set[Tuple[int, int]] = set()

    def text(self, node) -> str:
        try:
            code = self.module.code_for_node(node)
        except Exception:  # code generation of a detached node can fail; evidence is best-effort
            return ""
        code = " ".join(code.split())
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
        if isinstance(node, cst.Integer):
            try:
                return {f"t:int:{ast.literal_eval(node.value)}", "t:const"}
            except (ValueError, SyntaxError):
                return {"t:const"}
        if isinstance(node, (cst.Float, cst.Imaginary, cst.SimpleString, cst.ConcatenatedString,
                             cst.FormattedString, cst.Comparison, cst.Ellipsis)):
            return {"t:const"}
        if isinstance(node, cst.Name):
            if node.value == "True":
                return {"t:const", "t:true"}
            if node.value == "False":
                return {"t:const", "t:false"}
            if node.value == "None":
                return {"t:none"}
            return self.name_atoms(node.value, scope, d)
        if isinstance(node, cst.Attribute):
            return _attr_atoms(self.atoms(node.value, scope, d), node.attr.value, node.value)
        if isinstance(node, cst.Call):
            return self.call_atoms(node, scope, d)
        if isinstance(node, cst.Subscript):
            base = self.atoms(node.value, scope, d)
            key = _string_key(node)
            if key is not None:
                picked = {a.split("=", 1)[1] for a in base if a.startswith(f"kv:{key}=")}
                if picked:
                    return picked
                return {f"key:{key}"} | {a for a in base if a.startswith("t:") and a != "t:dict"}
            return {a for a in base if not a.startswith("kv:") and a != "t:dict"}
        if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
            out: Set[str] = set()
            for el in node.elements:
                out |= self.atoms(el.value, scope, d)
            return out
        if isinstance(node, cst.Dict):
            out = {"t:dict"}
            for el in node.elements:
                if isinstance(el, cst.DictElement):
                    vals = self.atoms(el.value, scope, d)
                    out |= {a for a in vals if a.startswith(_POINTER_ATOMS)}
                    key = _literal_str(el.key)
                    if key is not None:
                        out |= {f"kv:{key}={a}" for a in vals if not a.startswith("kv:")}
                elif isinstance(el, cst.StarredDictElement):
                    out |= self.atoms(el.value, scope, d)
            return out
        if isinstance(node, (cst.BinaryOperation, cst.BooleanOperation)):
            return set(self.atoms(node.left, scope, d) | self.atoms(node.right, scope, d))
        if isinstance(node, cst.UnaryOperation):
            return set(self.atoms(node.expression, scope, d))
        if isinstance(node, cst.IfExp):
            return set(self.atoms(node.body, scope, d) | self.atoms(node.orelse, scope, d))
        if isinstance(node, cst.Lambda):
            return {"fn:" + self.c.lambdas[id(node)]} if id(node) in self.c.lambdas else {"t:other"}
        if isinstance(node, (cst.Await, cst.StarredElement)):
            return set(self.atoms(node.expression if isinstance(node, cst.Await) else node.value, scope, d))
        if isinstance(node, cst.NamedExpr):
            return set(self.atoms(node.value, scope, d))
        if isinstance(node, (cst.ListComp, cst.SetComp, cst.GeneratorExp)):
            return set(self.atoms(node.elt, scope, d))
        if isinstance(node, cst.DictComp):
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

    def call_atoms(self, node: cst.Call, scope: _Scope, d: int) -> Set[str]:
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

    def _known_call(self, q: str, node: cst.Call, scope: _Scope, d: int) -> Set[str]:
        args = [a for a in node.args if a.keyword is None and not a.star]
        if q in N.RNG_CONSTRUCTORS:
            seed = self.atoms(args[0].value, scope, d) if args else frozenset({"t:entropy"})
            if q == "numpy.random.Generator" and not args:
                seed = frozenset({"t:entropy"})
            return {"t:rng_ctor"} | {"s!" + a for a in seed if not a.startswith(("s!", "kv:"))}
        if q in N.BIT_GENERATORS:
            return set(self.atoms(args[0].value, scope, d)) if args else {"t:entropy"}
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
            for a in node.args:
                out |= self.atoms(a.value, scope, d)
            return out or {"t:const"}
        if q == "dict":
            out = {"t:dict"}
            for a in node.args:
                vals = self.atoms(a.value, scope, d)
                if a.keyword is not None:
                    out |= {f"kv:{a.keyword.value}={v}" for v in vals if not v.startswith("kv:")}
                out |= {v for v in vals if v.startswith(("kv:",) + _POINTER_ATOMS)}
            return out
        out = {"i:q:" + q}
        if q.startswith(("time.", "datetime.")):
            out.add("t:other")
        # Containers of callables (Compose([...]), partial(fn, ...), nn.Sequential(...)) carry what they hold,
        # and a function of a seed source (int.from_bytes(os.urandom(4)), hash(...)) is still that source.
        for a in node.args:
            out |= {v for v in self.atoms(a.value, scope, d) if v.startswith(_POINTER_ATOMS) or v in _SOURCE_TAGS}
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
            args = tuple(self._call_args(node, s))
            calls.append(Call(line, col, _sorted(callee), args))
            if any(N.is_numpy_global_draw(q) for q in quals):
                draws.append(Draw(line, col, self.text(node), "global"))
            elif isinstance(node.func, cst.Attribute) and node.func.attr.value in N.RNG_DRAW_METHODS:
                draw = self._object_draw(node, s, line, col)
                if draw is not None:
                    draws.append(draw)
            seeds.extend(self._seed_calls(node, s, quals, line, col))
            if quals & N.DATALOADERS:
                loaders.append(self._loader(node, s, args, line, col))
            if any(N.is_lightning_seed_everything(q) for q in quals) and _kw_true(node, "workers"):
                lightning.append(line)
            if isinstance(node.func, cst.Attribute) and node.func.attr.value in ("add_argument", "set_defaults"):
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
            code = " ".join(self.module.code_for_node(s.node.body).split())
            digest = hashlib.blake2b(code.encode(), digest_size=8).hexdigest()
        fn = Function(
            qualname=s.qualname, name=s.name, cls=s.cls, params=tuple(s.params), line=s.line,
            draws=tuple(draws), calls=tuple(calls), seeds=tuple(seeds), returns=_sorted(returns),
            is_static=s.is_static, digest=digest,
        )
        return fn, loaders, options, lightning

    def _call_args(self, node: cst.Call, s: _Scope):
        pos = 0
        for a in node.args:
            if a.keyword is not None:
                yield a.keyword.value, _sorted(self.atoms(a.value, s))
            elif a.star == "**":
                yield "**", _sorted(self.atoms(a.value, s))
            elif a.star == "*":
                yield "*", _sorted(self.atoms(a.value, s))
            else:
                yield str(pos), _sorted(self.atoms(a.value, s))
                pos += 1

    def _object_draw(self, node: cst.Call, s: _Scope, line: int, col: int) -> Optional[Draw]:
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

    def _seed_calls(self, node: cst.Call, s: _Scope, quals, line: int, col: int) -> List[Seed]:
        args = [a for a in node.args if a.keyword is None and not a.star]
        source = _sorted(self.atoms(args[0].value, s)) if args else ("t:entropy",)
        if quals & N.NUMPY_GLOBAL_SEEDERS:
            return [Seed(line, col, self.text(node), "global", source)]
        if quals & N.PYTHON_SEEDERS:
            return [Seed(line, col, self.text(node), "python", source)]
        if quals & N.TORCH_SEEDERS:
            return [Seed(line, col, self.text(node), "torch", source)]
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "seed" and not quals:
            obj = self.atoms(node.func.value, s)
            refs = tuple(sorted(a for a in obj if a.startswith(("self:", "wds:", "q:", "param:"))))
            if refs:
                return [Seed(line, col, self.text(node), "object", source, refs)]
        return []

    def _loader(self, node: cst.Call, s: _Scope, args, line: int, col: int) -> Loader:
        mapped, unknown = dataloader_arguments(args)
        return Loader(line, col, self.text(node), s.qualname, s.cls or _enclosing_class(s), mapped, unknown)

    def _argparse(self, node: cst.Call, s: _Scope):
        if node.func.attr.value == "set_defaults":
            for a in node.args:
                if a.keyword is not None and "worker" in a.keyword.value.lower():
                    yield a.keyword.value, self.atoms(a.value, s)
            return
        flags = [_literal_str(a.value) for a in node.args if a.keyword is None]
        flags = [f for f in flags if f]
        kw = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
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
    if not module_ref and isinstance(base_node, (cst.Name, cst.Attribute, cst.Subscript)):
        out.add("arg:" + attr)
    return out


def _dotted(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return _dotted(node.value) + "." + node.attr.value
    return ""


def _literal_str(node) -> Optional[str]:
    if isinstance(node, cst.SimpleString):
        try:
            value = ast.literal_eval(node.value)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return None


def _string_key(node: cst.Subscript) -> Optional[str]:
    if len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        return _literal_str(node.slice[0].slice.value)
    return None


def _kw_true(node: cst.Call, name: str) -> bool:
    return any(a.keyword is not None and a.keyword.value == name and isinstance(a.value, cst.Name)
               and a.value.value == "True" for a in node.args)


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
    """Facts of one file. Raises libcst.ParserSyntaxError (and RecursionError) on code that does not parse."""
    module = module_name(path)
    tree = cst.parse_module(source)
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    collector = _Collector(module, path.endswith("__init__.py"))
    wrapper.visit(collector)
    ev = _Evaluator(collector, tree)
    functions, loaders, options, lightning = [], [], [], []
    for s in collector.scopes:
        if s.kind == "class":
            continue
        fn, ls, opts, light = ev.function(s)
        functions.append(fn)
        loaders.extend(ls)
        options.extend(opts)
        lightning.extend(light)
    classes = [_klass(ev, scope, node, line, collector) for scope, node, line in collector.classes]
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


def _klass(ev: _Evaluator, scope: _Scope, node: cst.ClassDef, line: int, col: _Collector) -> Klass:
    bases: Set[str] = set()
    for arg in node.bases:
        bases |= {a for a in ev.atoms(arg.value, scope.parent) if a.startswith("q:")}
    methods = tuple(name for name, q in scope.defs.items())
    attrs: List[AttrSet] = []
    for name, values in scope.assigns.items():
        if any(isinstance(v, tuple) for v in values):
            continue
        atoms = frozenset().union(*(ev.atoms(v, scope) for v in values))
        attrs.append(AttrSet(name, "<class>", _sorted(atoms), line))
    for s in col.scopes:
        if s.kind == "function" and s.cls == scope.qualname and s.self_name:
            for base, attr, value, aline, _ in s.attr_assigns:
                if isinstance(base, cst.Name) and base.value == s.self_name:
                    attrs.append(AttrSet(attr, s.name, _sorted(ev.atoms(value, s)), aline))
    return Klass(scope.qualname, scope.name, line, _sorted(bases), methods, tuple(attrs))
