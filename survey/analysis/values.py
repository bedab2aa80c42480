"""What atoms stand for once the repository is linked: values, callables, RNG identities, worker counts."""
from __future__ import annotations

from typing import FrozenSet, List, Optional, Set, Tuple

from .link import Ctx, Index, arg_for
from .model import Function, Klass

_DEPTH = 8
RNG_TAGS = ("t:rng_ctor", "t:rng_default")


class Values:
    def __init__(self, index: Index):
        self.ix = index
        self._memo: dict = {}

    # -- values --------------------------------------------------------------------------------------
    def expand(self, atoms, ctx: Ctx, depth: int = 0) -> FrozenSet[str]:
        """Concrete atoms: self/param/module-variable references replaced by what they may hold.

        RNG objects keep an identity atom (``rng:attr:NAME`` or ``rng:q:VAR``) beside their value so a draw
        and a reseed of the same object can be matched after passing through parameters.
        """
        out: Set[str] = set()
        for atom in atoms:
            out |= self._expand_one(atom, ctx, depth)
        return frozenset(out)

    def _expand_one(self, atom: str, ctx: Ctx, depth: int) -> Set[str]:
        if depth > _DEPTH:
            return {"t:other"}
        if atom.startswith("t:") or atom.startswith(("arg:", "key:", "kv:", "s!")):
            return {atom}
        # Memoised per (atom, context): call-site resolution otherwise revisits the same chains
        # exponentially often in real repositories. A cycle in progress reads as unknown.
        key = (atom, id(ctx.function), id(ctx.klass), ctx.binding, id(ctx.dataset))
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        self._memo[key] = {"t:other"}
        out = frozenset(self._expand_uncached(atom, ctx, depth))
        self._memo[key] = out
        return out

    def _expand_uncached(self, atom: str, ctx: Ctx, depth: int) -> Set[str]:
        ix = self.ix
        if atom.startswith("param:") and "#" not in atom:
            name = atom[6:]
            bound = ctx.bound(name)
            if bound is not None:
                return set(bound)
            return self._call_site_values(name, ctx, depth)
        if atom.startswith(("self:", "wds:")) and "#" not in atom:
            klass = ctx.klass if atom.startswith("self:") else ctx.dataset
            attr = atom.split(":", 1)[1]
            if klass is None:
                return {"t:other"}
            method = ix.method(klass, attr)
            if method is not None:
                return {"q:" + method.qualname}
            out: Set[str] = set()
            for owner, a in ix.attrs(klass, attr):
                fn = ix.function(f"{owner.qualname}.{a.method}") if a.method != "<class>" else None
                out |= self.expand(a.atoms, Ctx(fn, klass, dataset=ctx.dataset), depth + 1)
            if out & set(RNG_TAGS):
                out.add("rng:attr:" + attr)
            return out or {"t:other"}
        if "#" in atom:
            base, method = atom.rsplit("#", 1)
            out = set()
            for value in self._expand_one(base, ctx, depth + 1):
                if value.startswith("i:q:"):
                    k = ix.klass(value[4:])
                    fn = ix.method(k, method) if k is not None else None
                    if fn is not None:
                        out.add("q:" + fn.qualname)
            return out or {"t:other"}
        if atom.startswith("q:"):
            hit = ix.resolve(atom[2:])
            if hit is None:
                return {atom}
            if hit.kind == "variable":
                if hit.rest:
                    return {"arg:" + hit.rest[-1]}
                out = set(self.expand(hit.atoms, Ctx(), depth + 1))
                if out & set(RNG_TAGS):
                    out.add("rng:q:" + hit.name)
                return out
            return {"q:" + hit.name}
        if atom.startswith("i:"):
            inner = atom[2:]
            out = set()
            for value in self._expand_one(inner, ctx, depth + 1):
                if value.startswith("q:"):
                    hit = ix.resolve(value[2:])
                    if hit is not None and hit.kind == "function":
                        out |= self.expand(hit.function.returns, Ctx(hit.function, ix.class_of(hit.function)),
                                           depth + 1)
                    elif hit is not None and hit.kind == "class":
                        out.add("i:q:" + hit.name)
                    else:
                        out.add("i:" + value)
                elif value.startswith("fn:"):
                    fn = ix.function(value[3:])
                    if fn is not None:
                        out |= self.expand(fn.returns, Ctx(fn), depth + 1)
                elif value.startswith("i:q:"):
                    out.add(value)  # calling an instance: its __call__ result is unknown, keep the instance
                elif value.startswith("t:"):
                    out.add(value)
            return out or {"t:other"}
        return {atom}

    def _call_site_values(self, param: str, ctx: Ctx, depth: int) -> Set[str]:
        """A parameter no caller bound: what the repository's calls of the function pass for it."""
        fn = ctx.function
        if fn is None:
            return {"t:other"}
        ix = self.ix
        if fn.name == "__init__" and ctx.klass is not None:
            target, bound_self = ctx.klass.qualname, True
        else:
            target, bound_self = fn.qualname, bool(fn.cls) and not fn.is_static
        out: Set[str] = set()
        sites = ix.calls_to(target)
        if target != fn.qualname:
            sites = sites + [s for s in ix.calls_to(fn.qualname)]
        for call, caller in sites[:20]:
            atoms = arg_for(call, fn, param, bound_self)
            if atoms is not None:
                out |= self.expand(atoms, Ctx(caller, ix.class_of(caller)), depth + 1)
        return out

    # -- callables -----------------------------------------------------------------------------------
    def called(self, atoms, ctx: Ctx) -> List[Tuple[Function, Optional[Klass], bool]]:
        """The repo functions that run when a value with these atoms is called: (function, self class,
        whether self is bound)."""
        ix = self.ix
        out = []
        for value in self.expand(atoms, ctx):
            if value.startswith("q:"):
                hit = ix.resolve(value[2:])
                if hit is None:
                    continue
                if hit.kind == "function":
                    owner = ix.class_of(hit.function)
                    # self.method (resolved through ctx) keeps the dynamic class for virtual dispatch
                    klass = ctx.klass if owner is not None and ctx.klass is not None and \
                        owner in ix.mro(ctx.klass) else owner
                    out.append((hit.function, klass, owner is not None and not hit.function.is_static))
                elif hit.kind == "class":
                    init = ix.method(hit.klass, "__init__")
                    if init is not None:
                        out.append((init, hit.klass, True))
            elif value.startswith("i:q:"):
                k = ix.klass(value[4:])
                if k is not None:
                    for name in ("__call__", "forward"):
                        fn = ix.method(k, name)
                        if fn is not None:
                            out.append((fn, k, True))
                            break
            elif value.startswith("fn:"):
                fn = ix.function(value[3:])
                if fn is not None:
                    out.append((fn, ctx.klass, False))
        return out

    def rng_keys(self, refs, ctx: Ctx) -> Set[str]:
        """Identities of the RNG objects these refs may be; empty when none is an RNG."""
        values = self.expand([r for r in refs if not r.startswith("t:")], ctx)
        keys = {v[4:] for v in values if v.startswith("rng:")}
        if "t:rng_default" in refs:
            keys.add("default")
        return keys

    # -- worker counts -------------------------------------------------------------------------------
    def workers(self, atoms, ctx: Ctx, depth: int = 0) -> Tuple[Set[str], List[str]]:
        """Outcomes ("zero", "positive", "unknown") of a num_workers expression, and how each was found."""
        outcomes: Set[str] = set()
        how: List[str] = []
        for value in sorted(self.expand(atoms, ctx)):  # sorted: the evidence reads the same on every run
            if value.startswith("t:int:"):
                n = int(value[6:])
                outcomes.add("positive" if n > 0 else "zero")
                how.append(str(n))
            elif value == "t:cpu":
                outcomes.add("positive")
                how.append("CPU count")
            elif value == "t:none":
                outcomes.add("zero")
                how.append("None")
            elif value.startswith(("arg:", "key:")) and depth < 3:
                key = value.split(":", 1)[1]
                found = self.ix.options(key)
                if not found:
                    outcomes.add("unknown")
                    how.append(f"unresolved {key}")
                for opt in found:
                    o, h = self.workers(opt, Ctx(), depth + 1)
                    outcomes |= o
                    how.extend(f"{key} default {x}" for x in h)
            elif value.startswith("t:") and value not in ("t:const", "t:other") or value.startswith("rng:"):
                continue
            elif value == "t:const":
                continue
            else:
                outcomes.add("unknown")
                how.append("unresolved " + value.rsplit(":", 1)[-1])
        if not outcomes:
            outcomes.add("unknown")
            how.append("unresolved")
        return outcomes, how
