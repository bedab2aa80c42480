"""The evaluator: a scope's raw nodes turned into atoms (see ``atoms``) and into the facts of ``model``."""
from __future__ import annotations

import ast
import builtins
import hashlib
import re
from typing import Dict, List, Optional, Set, Tuple

from . import names as N
from .model import Call, Draw, Function, Loader, Seed
from .syntax import SourceText, arg_values, call_arguments, keyword_is_true, literal_str, positional, string_key
from .walk import Collector, Scope, enclosing_class


_TEXT_LIMIT = 160


_MAX_DEPTH = 20


_POINTER_ATOMS = ("q:", "i:", "self:", "wds:", "param:", "fn:")


_DIGESTED = frozenset(N.PER_SAMPLE_METHODS) | {"__call__", "forward"}


_SOURCE_TAGS = frozenset({"t:torch_seed", "t:worker_seed", "t:torch_draw", "t:entropy", "t:worker_id",
                          "t:get_state", "t:index"})


_CONST = (ast.JoinedStr, ast.Compare)


class Evaluator:
    """Turns the collector's raw nodes into atoms and facts."""

    def __init__(self, col: Collector):
        self.c = col
        self.source = col.source
        self._cache: Dict[Tuple[int, int], frozenset] = {}
        self._active: Set[Tuple[int, int]] = set()

    def text(self, node) -> str:
        code = " ".join(self.source.segment(node).split())
        return code if len(code) <= _TEXT_LIMIT else code[: _TEXT_LIMIT - 1] + "…"

    # -- atoms ---------------------------------------------------------------------------------------
    def atoms(self, node, scope: Scope, depth: int = 0) -> frozenset:
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

    def _atoms(self, node, scope: Scope, d: int) -> Set[str]:
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
            key = string_key(node)
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
                key = literal_str(key_node)
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
    def name_atoms(self, name: str, origin: Scope, d: int) -> Set[str]:
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

    def call_atoms(self, node: ast.Call, scope: Scope, d: int) -> Set[str]:
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

    def _known_call(self, q: str, node: ast.Call, scope: Scope, d: int) -> Set[str]:
        args = positional(node)
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
            for a in arg_values(node):
                out |= self.atoms(a, scope, d)
            return out or {"t:const"}
        if q == "dict":
            out = {"t:dict"}
            for keyword, value in call_arguments(node):
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
        for a in arg_values(node):
            out |= {v for v in self.atoms(a, scope, d) if v.startswith(_POINTER_ATOMS) or v in _SOURCE_TAGS}
        return out

    # -- facts ---------------------------------------------------------------------------------------
    def function(self, s: Scope) -> Tuple[Function, List[Loader], List[Tuple[str, frozenset]], List[int]]:
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
            calls.append(Call(line, col, sorted_atoms(callee), args))
            if any(N.is_numpy_global_draw(q) for q in quals):
                draws.append(Draw(line, col, self.text(node), "global"))
            elif isinstance(node.func, ast.Attribute) and node.func.attr in N.RNG_DRAW_METHODS:
                draw = self._object_draw(node, s, line, col)
                if draw is not None:
                    draws.append(draw)
            seeds.extend(self._seed_calls(node, s, quals, line, col))
            if quals & N.DATALOADERS:
                loaders.append(self._loader(node, s, args, line, col))
            if any(N.is_lightning_seed_everything(q) for q in quals) and keyword_is_true(node, "workers"):
                lightning.append(line)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("add_argument", "set_defaults"):
                options.extend(self._argparse(node, s))
        for base, attr, value, line, col in s.attr_assigns:
            vals = self.atoms(value, s)
            if "t:rng_ctor" in vals:
                refs = _attr_atoms(self.atoms(base, s), attr, base)
                target = tuple(sorted(a for a in refs if a.startswith(("self:", "wds:", "q:"))))
                if target:
                    source = sorted_atoms(a[2:] for a in vals if a.startswith("s!"))
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
            draws=tuple(draws), calls=tuple(calls), seeds=tuple(seeds), returns=sorted_atoms(returns),
            is_static=s.is_static, digest=digest,
        )
        return fn, loaders, options, lightning

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

    def _object_draw(self, node: ast.Call, s: Scope, line: int, col: int) -> Optional[Draw]:
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

    def _seed_calls(self, node: ast.Call, s: Scope, quals, line: int, col: int) -> List[Seed]:
        def source():
            args = positional(node)
            return sorted_atoms(self.atoms(args[0], s)) if args else ("t:entropy",)
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

    def _loader(self, node: ast.Call, s: Scope, args, line: int, col: int) -> Loader:
        mapped, unknown = dataloader_arguments(args)
        return Loader(line, col, self.text(node), s.qualname, s.cls or enclosing_class(s), mapped, unknown)

    def _argparse(self, node: ast.Call, s: Scope):
        if node.func.attr == "set_defaults":
            for k in node.keywords:
                if k.arg and "worker" in k.arg.lower():
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
    return tuple((k, sorted_atoms(v)) for k, v in sorted(args.items())), unknown


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


_COMMENT = re.compile(r"#[^\n]*")


def _digest(source: "SourceText", body) -> str:
    """Of the code with comments and layout left out, so reformatted or re-commented copies still match."""
    first, last = body[0], body[-1]
    text = source.span(first.lineno, first.col_offset, last.end_lineno, last.end_col_offset)
    code = " ".join(_COMMENT.sub("", text).split())
    return hashlib.blake2b(code.encode(), digest_size=8).hexdigest()


def sorted_atoms(atoms) -> Tuple[str, ...]:
    return tuple(sorted(set(atoms)))


_BUILTINS = frozenset(dir(builtins))
