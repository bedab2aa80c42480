"""The evaluator: a scope's raw nodes turned into atoms (see ``atoms``) and into the facts of ``model``."""
from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import replace
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from . import atoms as A
from . import names as N
from .model import Call, Draw, Function, Loader, Seed
from .syntax import (SourceText, arg_values, call_arguments, is_super_call, keyword_is_true, literal_str, positional,
                     string_key)
from .walk import Collector, Scope, enclosing_class


_TEXT_LIMIT = 160


_MAX_DEPTH = 20
_UNKNOWN = frozenset({A.OTHER})


_DIGESTED = frozenset(N.PER_SAMPLE_METHODS) | {"__call__", "forward"}
# the names a loader's callee ends in: only calls that may end so (or in seed_everything) are evaluated eagerly
_LOADER_TERMINALS = frozenset(q.rsplit(".", 1)[-1] for q in N.DATALOADERS)
_LOADING: Dict[FrozenSet[str], bool] = {}


def _may_load(ends: FrozenSet[str]) -> bool:
    """Whether a callee ending in one of ends may build a loader or seed Lightning (asked per call: kept)."""
    hit = _LOADING.get(ends)
    if hit is None:
        hit = _LOADING[ends] = any(t in _LOADER_TERMINALS or t.endswith("seed_everything") for t in ends)
        if len(_LOADING) > 100_000:
            _LOADING.clear()
    return hit


_CONST = (ast.JoinedStr, ast.Compare)
# constructors whose arguments never decide a dataset's worker path: no construction site recorded
_NO_SITES = ("torch.", "numpy.", "torchvision.transforms", "collections.", "typing.", "pathlib.", "argparse.")
_CONTAINER_VIEWS = frozenset({"items", "values"})  # not get(): registries answer it too


class Evaluator:
    """Turns the collector's raw nodes into atoms and facts."""

    def __init__(self, col: Collector):
        self.c = col
        self.source = col.source
        self._cache: Dict[Tuple[int, int], frozenset] = {}
        self._shallow: Dict[Tuple[int, int], Tuple[int, frozenset]] = {}
        self._cuts = 0
        self._active: Set[Tuple[int, int]] = set()
        self._names: Dict[Tuple[str, int], Set[str]] = {}
        self._class_nodes: Optional[Dict[str, tuple]] = None
        self._class_bases: Dict[str, frozenset] = {}

    def text(self, node) -> str:
        code = " ".join(self.source.segment(node).split())
        return code if len(code) <= _TEXT_LIMIT else code[: _TEXT_LIMIT - 1] + "…"

    # -- atoms ---------------------------------------------------------------------------------------
    def atoms(self, node, scope: Scope, depth: int = 0) -> frozenset:
        key = (id(node), id(scope))
        out = self._cache.get(key)
        if out is not None:
            return out
        # A value the depth bound cut short holds only for questions as deep (np.random reached at the end
        # of a chain of 20 assignments is unknown there, asked directly it is not): kept with its depth, so
        # a direct question gets the same answer whatever was asked before it (bodies are worked out in
        # any order). Values cut by a cycle (x = f(x)) are kept as they come, or every question would
        # follow the cycle again.
        shallow = self._shallow.get(key)
        if shallow is not None and shallow[0] <= depth:
            return shallow[1]
        if key in self._active:
            return _UNKNOWN
        if depth > _MAX_DEPTH:
            self._cuts += 1
            return _UNKNOWN
        cuts = self._cuts
        self._active.add(key)
        try:
            out = frozenset(self._atoms(node, scope, depth + 1))
        finally:
            self._active.discard(key)
        if self._cuts == cuts:
            self._cache[key] = out
        else:
            self._shallow[key] = (depth, out)
        return out

    def _atoms(self, node, scope: Scope, d: int) -> Set[str]:
        if isinstance(node, tuple) and node[0] == "import":
            return {A.qual(node[1])}
        if isinstance(node, ast.Constant):
            value = node.value
            if value is True:
                return {A.CONST, A.TRUE}
            if value is False:
                return {A.CONST, A.FALSE}
            if value is None:
                return {A.NONE}
            if isinstance(value, int):
                return {A.integer(value), A.CONST}
            return {A.CONST}
        if isinstance(node, _CONST):
            return {A.CONST}
        if isinstance(node, ast.Name):
            return self.name_atoms(node.id, scope, d)
        if isinstance(node, ast.Attribute):
            out = _attr_atoms(self.atoms(node.value, scope, d), node.attr, node.value)
            if is_super_call(node.value) and scope.cls:
                # super().__init__(dataset, ...), super().__getitem__(i): the bases' methods (resolved, with
                # the MRO, when linked), so what a subclass passes up reaches the base's parameters
                out |= {A.qual(f"{A.qual_name(b)}.{node.attr}") for b in self._bases(scope.cls) if A.is_qual(b)}
            return out
        if isinstance(node, ast.Call):
            return self.call_atoms(node, scope, d)
        if isinstance(node, ast.Subscript):
            base = self.atoms(node.value, scope, d)
            key = string_key(node)
            if key is not None:
                picked = {A.entry_parts(a)[1] for a in base if A.is_entry_of(a, key)}
                if picked:
                    return picked
                return {A.key(key)} | {a for a in base if A.is_tag(a) and a != A.DICT}
            return {a for a in base if not A.is_entry(a) and a != A.DICT}
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            out: Set[str] = set()
            for el in node.elts:
                out |= self.atoms(el, scope, d)
            return out
        if isinstance(node, ast.Dict):
            out = {A.DICT}
            for key_node, value in zip(node.keys, node.values):
                vals = self.atoms(value, scope, d)
                if key_node is None:  # {**other}
                    out |= vals
                    continue
                out |= {a for a in vals if A.is_pointer(a)}
                key = literal_str(key_node)
                if key is not None:
                    out |= {A.entry(key, a) for a in vals if not A.is_entry(a)}
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
            return {A.function(self.c.lambdas[id(node)])} if id(node) in self.c.lambdas else {A.OTHER}
        if isinstance(node, (ast.Await, ast.Starred, ast.NamedExpr)):
            return set(self.atoms(node.value, scope, d))
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return set(self.atoms(node.elt, scope, d))
        if isinstance(node, ast.DictComp):
            return set(self.atoms(node.value, scope, d))
        return {A.OTHER}

    def _bases(self, cls: str) -> frozenset:
        """Atoms of a class's bases, computed once per class (a file may hold thousands of classes)."""
        if self._class_nodes is None:
            self._class_nodes = {scope.qualname: (scope, node) for scope, node, _ in self.c.classes}
        hit = self._class_bases.get(cls)
        if hit is None:
            out: Set[str] = set()
            cuts = self._cuts
            if cls in self._class_nodes:
                scope, node = self._class_nodes[cls]
                for base in node.bases:
                    out |= self.atoms(base, scope.parent)
            hit = frozenset(out)
            if self._cuts == cuts:
                self._class_bases[cls] = hit
        return hit

    def name_atoms(self, name: str, origin: Scope, d: int) -> Set[str]:
        # Most names are modules, imports, definitions, self and plain parameters (np, torch, self, x): looked
        # up 125,000 times in 37,000 (name, scope) pairs over 74 real repositories. Those answers depend on
        # nothing else and are kept; a name whose value needs evaluating is evaluated each time, as before.
        key = (name, id(origin))
        hit = self._names.get(key)
        if hit is not None:
            return hit
        out, pure = self._name_atoms(name, origin, d)
        if pure:
            self._names[key] = out = frozenset(out)
        return out

    def _name_atoms(self, name: str, origin: Scope, d: int) -> Tuple[Set[str], bool]:
        s = origin
        while s is not None:
            if s.kind == "class" and s is not origin:
                s = s.parent
                continue
            if name in s.params:
                if s is not origin:
                    return {A.OTHER}, True
                if name == s.self_name:
                    return {A.SELF}, True
                out = {A.param(name)}
                if s.name == "__getitem__" and s.cls and len(s.params) > 1 and name == s.params[1]:
                    out.add(A.INDEX)
                if name in s.defaults:
                    dflt = self.atoms(s.defaults[name], s.parent, d)
                    out |= {(A.RNG_DEFAULT if a == A.RNG_CTOR else a) for a in dflt if not A.is_seed(a)}
                    return out, False
                return out, True
            if name in s.defs:
                return {A.qual(s.defs[name].replace(".<module>", ""))}, True
            if name in s.assigns:
                values = s.assigns[name]
                imports = [v for v in values if isinstance(v, tuple)]
                if imports:
                    return {A.qual(v[1]) for v in imports}, True
                if s.kind == "module" and s is not origin:
                    return {A.qual(f"{self.c.module}.{name}")}, True
                out = set()
                for v in values:
                    out |= self.atoms(v, s, d)
                for key, v in s.item_assigns.get(name, ()):
                    out |= {A.entry(key, a) for a in self.atoms(v, s, d) if not A.is_entry(a)}
                return out, False
            s = s.parent
        if self.c.star_imports and name not in N.BUILTINS:
            return {A.qual(f"{m}.{name}") for m in self.c.star_imports}, True
        return {A.qual(name)}, True

    def call_atoms(self, node: ast.Call, scope: Scope, d: int) -> Set[str]:
        if isinstance(node.func, ast.Attribute) and node.func.attr in _CONTAINER_VIEWS:
            # self.fields.items(), procs.values(): what the container holds (its atoms carry
            # its elements), so a loop over it reaches their methods
            held = {a for a in self.atoms(node.func.value, scope, d) if A.is_pointer(a)}
            if held:
                return held | {A.result(a) for a in self.atoms(node.func, scope, d) if A.calls_something(a)}
        callee = self.atoms(node.func, scope, d)
        out: Set[str] = set()
        for a in callee:
            if A.is_qual(a):
                out |= self._known_call(A.qual_name(a), node, scope, d)
            elif A.calls_something(a):
                out.add(A.result(a))
            elif A.is_tag(a) and a not in A.STRUCTURAL and a not in (A.WORKER_INFO, A.WORKER_DATASET):
                out.add(a)  # tensor.item(), .astype(...) keep the nature of what they convert
        return out or {A.OTHER}

    def _known_call(self, q: str, node: ast.Call, scope: Scope, d: int) -> Set[str]:
        args = positional(node)
        if q in N.RNG_CONSTRUCTORS:
            seed = self.atoms(args[0], scope, d) if args else frozenset({A.ENTROPY})
            if q == "numpy.random.Generator" and not args:
                seed = frozenset({A.ENTROPY})
            return {A.RNG_CTOR} | {A.seeded_with(a) for a in seed if not (A.is_seed(a) or A.is_entry(a))}
        if q in N.BIT_GENERATORS:
            return set(self.atoms(args[0], scope, d)) if args else {A.ENTROPY}
        if q in N.TORCH_SEED_CALLS:
            return {A.TORCH_SEED}
        if q.startswith(N.TORCH_DRAW_PREFIXES):
            return {A.TORCH_DRAW}
        if q in N.ENTROPY_CALLS or q.startswith("secrets."):
            return {A.ENTROPY}
        if q in N.GET_WORKER_INFO:
            return {A.WORKER_INFO}
        if q in N.CPU_COUNT_CALLS:
            return {A.CPU}
        if q == "numpy.random.get_state":
            return {A.GET_STATE}
        if q in N.PASS_THROUGH_BUILTINS or q.startswith("numpy.") and q.split(".")[-1] in (
                "int32", "int64", "uint32", "uint64", "mod", "abs", "array", "asarray"):
            out: Set[str] = set()
            for a in arg_values(node):
                out |= self.atoms(a, scope, d)
            return out or {A.CONST}
        name_arg = args[0] if q == "eval" and args else args[1] if q == "getattr" and len(args) >= 2 else None
        if name_arg is not None and literal_str(name_arg) is None:
            # a transform picked by name from a config: getattr(transforms_module, cfg.name)(**kw) may be
            # anything that module defines, eval(cfg.name) anything this module can name
            if q == "getattr":
                bases = [A.qual_name(a) for a in self.atoms(args[0], scope, d) if A.is_qual(a)]
            else:
                bases = [self.c.module, *self.c.star_imports]
            if bases:
                return {A.qual(f"{b}.{A.ANY_MEMBER}") for b in bases}
        if q == "getattr" and len(args) >= 2 and literal_str(args[1]) is not None:
            # getattr(dataset, "worker_init_fn", None): that attribute, or the default when it has none. A
            # None default is what an absent member already reads as (nothing), and must not stand beside a
            # member that exists as "None in some runs"
            out = _attr_atoms(self.atoms(args[0], scope, d), literal_str(args[1]), args[0])
            default = set(self.atoms(args[2], scope, d)) if len(args) > 2 else set()
            return out | (default if default != {A.NONE} else set())
        if q == "dict":
            out = {A.DICT}
            for keyword, value in call_arguments(node):
                vals = self.atoms(value, scope, d)
                if keyword:
                    out |= {A.entry(keyword, v) for v in vals if not A.is_entry(v)}
                out |= {v for v in vals if A.is_entry(v) or A.is_pointer(v)}
            return out
        out = {A.instance(q)}
        if q.startswith(("time.", "datetime.")):
            out.add(A.CLOCK)
        elif q.rsplit(".", 1)[-1][:1].isupper() and not q.startswith(_NO_SITES):
            out.add(A.site(self.c.module, *self.c._pos(node)))
        # Containers of callables (Compose([...]), partial(fn, ...), nn.Sequential(...)) carry what they hold,
        # and a function of a seed source (int.from_bytes(os.urandom(4)), hash(...)) is still that source.
        for a in arg_values(node):
            out |= {v for v in self.atoms(a, scope, d) if A.is_pointer(v) or A.is_site(v) or v in A.SEED_SOURCES}
        return out

    # -- facts ---------------------------------------------------------------------------------------
    def scope_facts(self, s: Scope, terminals) -> Tuple[List[Loader], List[Tuple[str, frozenset]], List[int]]:
        """What a function (or the module) contributes to its file's facts whether or not it is ever reached:
        its loaders, worker options and Lightning seeds. ``terminals[i]``: the names call i's callee may end
        in (``calls.callee_terminals``), so only calls that may build a loader or seed Lightning are evaluated."""
        loaders: List[Loader] = []
        options: List[Tuple[str, frozenset]] = []
        lightning: List[int] = []
        for (node, line, col, _), ends in zip(s.calls, terminals):
            counting = [k for k in node.keywords if k.arg and N.may_count_workers(k.arg)] if node.keywords else ()
            if ends is not None and not counting and not _may_load(ends):
                # most calls: neither a loader nor a Lightning seed, and no worker keyword
                if type(node.func) is ast.Attribute and node.func.attr in ("add_argument", "set_defaults"):
                    options.extend(self._argparse(node, s))
                continue
            callee = self.atoms(node.func, s)
            quals = A.names_of(callee)
            if quals & N.DATALOADERS:
                args = tuple(self._call_args(node, s)) if _may_run_repo_code(callee, quals) else ()
                loader_args = tuple(self._partial_keywords(node.func, s)) + args
                loaders.append(self._loader(node, s, loader_args, line, col, bool(quals & N.TORCH_DATALOADERS)))
            if any(N.is_lightning_seed_everything(q) for q in quals):
                lightning.append((line, keyword_is_true(node, "workers")))
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("add_argument", "set_defaults"):
                options.extend(self._argparse(node, s))
            elif not quals & N.DATALOADERS:
                # MyDataModule(num_workers=8), dict(workers_per_gpu=2) in an mmcv config: what the code
                # configures by name, found again where a loader reads self.hparams.num_workers
                options.extend((k.arg, self.atoms(k.value, s)) for k in counting)
        for base, attr, value, line, col in s.attr_assigns:
            if N.may_count_workers(attr):
                options.append((attr, self.atoms(value, s)))
        for name, default in s.defaults.items():
            if N.may_count_workers(name):
                options.append((name, self.atoms(default, s.parent)))
        for name, values in s.item_assigns.items():
            for key, value in values:
                if N.may_count_workers(key):
                    options.append((key, self.atoms(value, s)))
        return loaders, options, lightning

    def function(self, s: Scope) -> Function:
        """The function of a scope, its body's facts (``body``) worked out when first read."""
        return Function(s.qualname, s.name, s.cls, tuple(s.params), s.line, is_static=s.is_static,
                        body=self, scope=s)

    def callee(self, s: Scope, i: int) -> Tuple[str, ...]:
        """The callee atoms of the scope's call i, as its ``Call`` has them."""
        return sorted_atoms(self.atoms(s.calls[i][0].func, s))

    def call(self, s: Scope, i: int) -> Call:
        node, line, col, guards = s.calls[i]
        callee = self.atoms(node.func, s)
        args = tuple(self._call_args(node, s)) if _may_run_repo_code(callee, A.names_of(callee)) else ()
        return Call(line, col, sorted_atoms(callee), args, guards)

    def body(self, s: Scope, known: Dict[int, Call]):
        """(draws, calls, seeds, returns, digest) of a function's body, in source order; ``known``: calls
        worked out already, by index (kept, so a call looked up before is the same object after)."""
        draws: List[Draw] = []
        calls: List[Call] = []
        seeds: List[Seed] = []
        for i, (node, line, col, guards) in enumerate(s.calls):
            callee = self.atoms(node.func, s)
            quals = A.names_of(callee)
            calls.append(known.get(i) or self.call(s, i))
            if any(N.is_numpy_global_draw(q) for q in quals):
                draws.append(Draw(line, col, self.text(node), "global", (), guards))
            elif isinstance(node.func, ast.Attribute) and node.func.attr in N.RNG_DRAW_METHODS:
                draw = self._object_draw(node, s, line, col)
                if draw is not None:
                    draws.append(replace(draw, guards=guards) if guards else draw)
            seeds.extend(self._seed_calls(node, s, quals, line, col))
        for base, attr, value, line, col in s.attr_assigns:
            vals = self.atoms(value, s)
            if A.RNG_CTOR in vals:
                refs = _attr_atoms(self.atoms(base, s), attr, base)
                target = tuple(sorted(a for a in refs if A.is_holder(a)))
                if target:
                    source = sorted_atoms(A.seeds_of(vals))
                    seeds.append(Seed(line, col, self.text(value), "object", source, target))
        returns: Set[str] = set()
        for r in s.returns:
            returns |= self.atoms(r, s)
        digest = ""
        if s.node is not None and s.name in _DIGESTED:
            digest = _digest(self.source, s.node.body)
        return tuple(draws), tuple(calls), tuple(seeds), sorted_atoms(returns), digest

    def _call_args(self, node: ast.Call, s: Scope):
        pos = 0
        for a in node.args:
            if isinstance(a, ast.Starred):
                yield "*", sorted_atoms(self.atoms(a.value, s))
            else:
                yield str(pos), sorted_atoms(self.atoms(a, s))
                pos += 1
        for k in node.keywords:
            yield (k.arg or "**"), sorted_atoms(self.atoms(k.value, s))

    def _partial_keywords(self, func, s: Scope):
        """The keywords fixed by ``loader = partial(DataLoader, worker_init_fn=f, ...)`` when ``loader(ds)`` is
        called: they are the loader's arguments too."""
        if not isinstance(func, ast.Name):
            return
        scope = s
        while scope is not None and func.id not in scope.assigns and func.id not in scope.params:
            scope = scope.parent
        if scope is None or func.id in scope.params:
            return
        for value in scope.assigns[func.id]:
            if isinstance(value, ast.Call) and A.qual("functools.partial") in self.atoms(value.func, scope):
                for k in value.keywords:
                    if k.arg:
                        yield k.arg, sorted_atoms(self.atoms(k.value, scope))

    def _object_draw(self, node: ast.Call, s: Scope, line: int, col: int) -> Optional[Draw]:
        obj = self.atoms(node.func.value, s)
        if any(A.is_qual_under(a, "numpy.random", "random", "torch") for a in obj):
            return None
        refs = tuple(sorted(a for a in obj if A.is_reference(a) and not A.is_qual_under(a, "numpy")))
        if A.RNG_DEFAULT in obj:
            return Draw(line, col, self.text(node), "object", refs + (A.RNG_DEFAULT,))
        if refs:
            return Draw(line, col, self.text(node), "object", refs)
        if A.RNG_CTOR in obj:
            # built in this function: its own seed decides (entropy is fine, a constant or the index is not)
            return Draw(line, col, self.text(node), "local", tuple(sorted(A.seeds_of(obj))))
        return None

    def _seed_calls(self, node: ast.Call, s: Scope, quals, line: int, col: int) -> List[Seed]:
        def source():
            args = positional(node)
            return sorted_atoms(self.atoms(args[0], s)) if args else (A.ENTROPY,)
        if quals & N.NUMPY_GLOBAL_SEEDERS:
            return [Seed(line, col, self.text(node), "global", source())]
        if quals & N.PYTHON_SEEDERS:
            return [Seed(line, col, self.text(node), "python", source())]
        if quals & N.TORCH_SEEDERS:
            return [Seed(line, col, self.text(node), "torch", source())]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "seed" and not quals:
            obj = self.atoms(node.func.value, s)
            refs = tuple(sorted(a for a in obj if A.is_reference(a)))
            if refs:
                return [Seed(line, col, self.text(node), "object", source(), refs)]
        return []

    def _loader(self, node: ast.Call, s: Scope, args, line: int, col: int, torch_own: bool = True) -> Loader:
        mapped, unknown = dataloader_arguments(args, N.DATALOADER_POSITIONAL if torch_own else N.DATALOADER_POSITIONAL[:3])
        return Loader(line, col, self.text(node), s.qualname, s.cls or enclosing_class(s), mapped, unknown)

    def _argparse(self, node: ast.Call, s: Scope):
        if node.func.attr == "set_defaults":
            for k in node.keywords:
                if k.arg:
                    yield k.arg, self.atoms(k.value, s)
            return
        flags = [literal_str(a) for a in node.args]
        flags = [f for f in flags if f]
        kw = {k.arg: k.value for k in node.keywords if k.arg}
        dest = literal_str(kw["dest"]) if "dest" in kw else None
        if dest is None:
            longs = [f for f in flags if f.startswith("--")]
            pick = longs[0] if longs else (flags[0] if flags else "")
            dest = pick.lstrip("-").replace("-", "_")
        # every option, not only those saying "worker": loaders read --n_cpu, --threads, --jobs as well
        if dest:
            default = self.atoms(kw["default"], s) if "default" in kw else frozenset({A.NONE})
            yield dest, default


def dataloader_arguments(call_args, positional=N.DATALOADER_POSITIONAL) -> Tuple[Tuple[Tuple[str, Tuple[str, ...]], ...], bool]:
    """A DataLoader call's (name, atoms) arguments from its ("0"/keyword/"**"/"*", atoms) pairs, and whether
    some may be hidden (``**kwargs`` that is not a known dict, ``*args``)."""
    args: Dict[str, Set[str]] = {}
    unknown = False
    for key, atoms in call_args:
        if key.isdigit():
            i = int(key)
            if i < len(positional):
                args.setdefault(positional[i], set()).update(atoms)
        elif key == "**":
            kvs = [a for a in atoms if A.is_entry(a)]
            for kv in kvs:
                k, v = A.entry_parts(kv)
                args.setdefault(k, set()).add(v)
            if not kvs and A.DICT not in atoms:
                unknown = True
                args.setdefault("**", set()).update(atoms)  # judged later: **kwargs of a function, say
        elif key == "*":
            unknown = True
        else:
            args.setdefault(key, set()).update(atoms)
    return tuple((k, sorted_atoms(v)) for k, v in sorted(args.items())), unknown


def _may_run_repo_code(callee, quals) -> bool:
    """Whether a call's arguments can matter: it may run repository code (and bind its parameters), build a
    loader or a library dataset. Calls of builtins, of numpy.* or os.path.* and of methods of unknown objects
    (``x.append``) cannot; their arguments are most of a file's atoms."""
    if any(A.calls_something(a) for a in callee):
        return True
    for q in quals:
        top = q.partition(".")[0]
        if "." not in q and q in N.BUILTINS:
            continue
        if top in N.EXTERNAL_MODULES and "datasets" not in q and q not in N.DATALOADERS \
                and q.removesuffix(".__init__") not in N.DATALOADERS:  # DataLoader.__init__(self, ...)
            continue
        return True
    return False


def _attr_atoms(base, attr: str, base_node) -> Set[str]:
    out: Set[str] = set()
    module_ref = False
    for a in base:
        if A.is_qual(a):
            out.add(A.qual(f"{A.qual_name(a)}.{attr}"))
            module_ref = True
        elif a == A.SELF:
            out.add(A.self_attr(attr))
        elif A.can_take_member(a):
            out.add(A.member(a, attr))
        elif a == A.WORKER_INFO:
            out.add(A.worker_info_attr(attr))
        elif a == A.WORKER_DATASET:
            out.add(A.worker_dataset_attr(attr))
        elif A.is_tag(a) and a not in A.STRUCTURAL:
            out.add(a)
    # np.random is a module's attribute, not an option; but a base that is also something else (the result
    # of Config.fromfile(sys.argv[1]) carries sys.argv beside it) can be an options object
    if (not module_ref or any(not A.is_qual(a) for a in base)) \
            and isinstance(base_node, (ast.Name, ast.Attribute, ast.Subscript)):
        out.add(A.attr_of_any(attr))
    return out


_COMMENT = re.compile(r"#[^\n]*")


def _digest(source: "SourceText", body) -> str:
    """Of the code with comments and layout left out, so reformatted or re-commented copies still match."""
    first, last = body[0], body[-1]
    text = source.span(first.lineno, first.col_offset, last.end_lineno, last.end_col_offset)
    code = " ".join(_COMMENT.sub("", text).split())
    return hashlib.blake2b(code.encode(), digest_size=8).hexdigest()


def sorted_atoms(atoms) -> Tuple[str, ...]:
    return tuple(sorted(set(atoms)))


