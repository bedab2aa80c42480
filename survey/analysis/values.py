"""What atoms stand for once the repository is linked: values, callables, RNG identities, worker counts."""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from . import atoms as A
from . import names as N
from .link import Ctx, Index, arg_for
from .model import Function, Klass

_DEPTH = 8
_MAX_OPTIONS = 64   # distinct values of one option name followed
_MAX_HOW = 32       # evidence items kept per worker count
_MAX_MEMBERS = 256  # classes and functions a lookup by name in one module may pick
_ONCE_IN_PARENT = frozenset({A.TORCH_SEED, A.TORCH_DRAW, A.ENTROPY, A.CLOCK})
GLOBAL_RNG = "global"  # the draw group of NumPy's global RNG (rng_keys of self.rng = np.random join it)
_NUMPY_RANDOM_MODULE = frozenset({A.qual("numpy.random"), A.qual("numpy.random.mtrand")})


class Values:
    def __init__(self, index: Index):
        self.ix = index
        self._memo: dict = {}
        self._options_memo: dict = {}

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
            return {A.OTHER}
        if A.is_plain(atom):
            return {atom}
        # Memoised per (atom, context): call-site resolution otherwise revisits the same chains
        # exponentially often in real repositories. A cycle in progress reads as unknown.
        key = (atom, ctx.key)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        self._memo[key] = {A.OTHER}
        out = frozenset(self._expand_uncached(atom, ctx, depth))
        self._memo[key] = out
        return out

    def _expand_uncached(self, atom: str, ctx: Ctx, depth: int) -> Set[str]:
        ix = self.ix
        if A.is_param(atom):
            name = A.param_name(atom)
            bound = ctx.bound(name)
            if bound is not None:
                return set(bound)
            return self._call_site_values(name, ctx, depth)
        if A.is_object_attr(atom):
            klass = ctx.klass if A.is_self_attr(atom) else ctx.dataset
            attr = A.attr_name(atom)
            if klass is None:
                return {A.OTHER}
            method = ix.method(klass, attr)
            if method is not None:
                return {A.qual(method.qualname)}
            out: Set[str] = set()
            for owner, a in ix.attrs(klass, attr):
                fn = ix.function(f"{owner.qualname}.{a.method}") if a.method != "<class>" else None
                # set in __init__ from its parameters: at a known construction site, what that call passed
                binding = ctx.site[1] if ctx.site and a.method == "__init__" and ctx.site[0] == owner.qualname \
                    and owner is klass else ()
                out |= self.expand(a.atoms, Ctx(fn, klass, binding, dataset=ctx.dataset, site=ctx.site), depth + 1)
            if out & set(A.RNG_TAGS):
                out.add(A.rng_attr(attr))
            return out or {A.OTHER}
        if A.is_member(atom):
            base, method = A.member_parts(atom)
            out = set()
            absent = True  # every base is a repo Dataset that has no such member: getattr's default decides
            for value in self._expand_one(base, ctx, depth + 1):
                k = ix.klass(A.instance_class(value)) if A.is_instance(value) else None
                fn = ix.method(k, method) if k is not None else None
                if fn is not None:
                    out.add(A.qual(fn.qualname))
                absent = absent and k is not None and fn is None and next(ix.attrs(k, method), None) is None \
                    and ix.is_dataset(k) and all(N.is_dataset_base(b) for b in ix.external_bases(k))
            return out or (set() if absent else {A.OTHER})
        if A.is_qual(atom) and A.qual_name(atom).endswith("." + A.ANY_MEMBER):
            return self._members(A.qual_name(atom)[:-len(A.ANY_MEMBER) - 1])
        if A.is_qual(atom):
            hit = ix.resolve(A.qual_name(atom))
            if hit is None:
                return {atom}
            if hit.kind == "variable":
                if hit.rest:
                    return {A.attr_of_any(hit.rest[-1])}
                out = set(self.expand(hit.atoms, Ctx(), depth + 1))
                if out & set(A.RNG_TAGS):
                    out.add(A.rng_variable(hit.name))
                # a module-level value is computed once, at import in the parent: BASE = torch.initial_seed()
                # is one fixed number in every worker and epoch
                return {A.CONST if a in _ONCE_IN_PARENT else a for a in out}
            return {A.qual(hit.name)}
        if A.is_result(atom):
            inner = A.result_of(atom)
            out = set()
            for value in self._expand_one(inner, ctx, depth + 1):
                if A.is_qual(value):
                    hit = ix.resolve(A.qual_name(value))
                    if hit is not None and hit.kind == "function":
                        out |= self.expand(hit.function.returns, Ctx(hit.function, ix.class_of(hit.function)),
                                           depth + 1)
                    elif hit is not None and hit.kind == "class":
                        out.add(A.instance(hit.name))
                    else:
                        out.add(A.result(value))
                elif A.is_function(value):
                    fn = ix.function(A.function_key(value))
                    if fn is not None:
                        out |= self.expand(fn.returns, Ctx(fn), depth + 1)
                elif A.is_instance(value):
                    out.add(value)  # calling an instance: its __call__ result is unknown, keep the instance
                elif A.is_tag(value):
                    out.add(value)
            return out or {A.OTHER}
        return {atom}

    def _members(self, module: str) -> Set[str]:
        """The repo classes and functions a lookup by name in a module can reach: those it defines at its
        top level and those it imports; unknown when the module is not the repository's."""
        hit = self.ix.resolve(module)
        if hit is None or hit.kind != "module" or hit.facts is None:
            return {A.OTHER}
        facts = hit.facts
        names = [d.qualname for d in (*facts.classes, *facts.functions)
                 if d.qualname.rpartition(".")[0] == facts.module and not d.qualname.endswith(".<module>")]
        for _alias, target in facts.imports:
            found = self.ix.resolve(target)
            if found is not None and found.kind in ("class", "function"):
                names.append(found.name)
        return {A.qual(n) for n in sorted(set(names))[:_MAX_MEMBERS]} or {A.OTHER}

    def _call_site_values(self, param: str, ctx: Ctx, depth: int) -> Set[str]:
        """A parameter no caller bound: what the repository's calls of the function pass for it."""
        fn = ctx.function
        if fn is None:
            return {A.OTHER}
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

    def unpacked(self, atoms, ctx: Ctx) -> Optional[Dict[str, Tuple[str, ...]]]:
        """The entries of the dict ``**atoms`` unpacks when each of its sources is a dict the repository spells
        out: one a repo function returns (``**loader_opts(6)`` with ``return {"num_workers": n}``, its
        parameters from its callers) or a module variable of another module (``**config.LOADER``); None when
        any source is something else, so the loader's keywords stay unknown."""
        ix = self.ix
        out: Dict[str, Set[str]] = {}
        for atom in atoms:
            source, where = None, Ctx()
            if A.is_result(atom) and A.is_qual(A.result_of(atom)):
                hit = ix.resolve(A.qual_name(A.result_of(atom)))
                if hit is not None and hit.kind == "function":
                    source, where = hit.function.returns, Ctx(hit.function, ix.class_of(hit.function))
            elif A.is_qual(atom):
                hit = ix.resolve(A.qual_name(atom))
                if hit is not None and hit.kind == "variable" and not hit.rest:
                    source = hit.atoms
            if source is None or A.DICT not in source:
                return None
            for entry in source:
                if A.is_entry(entry):
                    key, value = A.entry_parts(entry)
                    out.setdefault(key, set()).update(self.expand([value], where))
        return {k: tuple(sorted(v)) for k, v in out.items()} if out else None

    def configured(self, atoms, ctx: Ctx) -> FrozenSet[str]:
        """A worker_init_fn or persistent_workers value with option names (``self.hparams.worker_init_fn``,
        ``cfg.DATALOADER.PERSISTENT_WORKERS``) replaced by what configures them: the config files' values when
        a file sets the name (they override the code's defaults, as Hydra and yacs merge them), else the
        code's (parameter defaults, attributes, argparse). A name nothing sets holds nothing: such options
        carry no callable or flag of their own."""
        out: Set[str] = set()
        for value in self.expand(atoms, ctx):
            if not A.is_lookup(value):
                out.add(value)
                continue
            key = A.lookup_name(value)
            for opt in self.ix.config_options(key) or self.ix.options(key):
                out |= self.expand(opt, Ctx())
        return frozenset(out)

    # -- callables -----------------------------------------------------------------------------------
    def called(self, atoms, ctx: Ctx) -> List[Tuple[Function, Optional[Klass], bool]]:
        """The repo functions that run when a value with these atoms is called: (function, self class,
        whether self is bound)."""
        ix = self.ix
        out = []
        # sorted: the walk visits callees in this order, and with its step bound and the first of several
        # flawed reseeds quoted, a set's order (hash-seeded) would change findings between runs
        for value in sorted(self.expand(atoms, ctx)):
            if A.is_qual(value):
                hit = ix.resolve(A.qual_name(value))
                if hit is None:
                    nested = ix.function(A.qual_name(value))  # def init(...) inside main(): not a module name
                    if nested is not None:
                        out.append((nested, ctx.klass, False))
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
            elif A.is_instance(value):
                k = ix.klass(A.instance_class(value))
                if k is not None:
                    for name in ("__call__", "forward"):
                        fn = ix.method(k, name)
                        if fn is not None:
                            out.append((fn, k, True))
                            break
            elif A.is_function(value):
                fn = ix.function(A.function_key(value))
                if fn is not None:
                    out.append((fn, ctx.klass, False))
        return out

    def rng_keys(self, refs, ctx: Ctx) -> Set[str]:
        """Identities of the RNG objects these refs may be; empty when none is an RNG."""
        values = self.expand([r for r in refs if not A.is_tag(r)], ctx)
        keys = {A.rng_identity(v) for v in values if A.is_rng(v)}
        if values & _NUMPY_RANDOM_MODULE:
            keys.add(GLOBAL_RNG)  # self.rng = np.random: the module is the global RNG, not "no RNG"
        if A.RNG_DEFAULT in refs:
            keys.add("default")
        return keys

    # -- worker counts -------------------------------------------------------------------------------
    def workers(self, atoms, ctx: Ctx, depth: int = 0) -> Tuple[Set[str], List[str]]:
        """Outcomes ("zero", "positive", "unknown") of a num_workers expression, and how each was found."""
        outcomes: Set[str] = set()
        how: List[str] = []
        resolved_option = False
        deferred: List[str] = []
        for value in sorted(self.expand(atoms, ctx)):  # sorted: the evidence reads the same on every run
            if A.is_integer(value):
                n = A.integer_value(value)
                outcomes.add("positive" if n > 0 else "zero")
                how.append(str(n))
            elif value == A.CPU:
                outcomes.add("positive")
                how.append("CPU count")
            elif value == A.NONE:
                outcomes.add("zero")
                how.append("None")
            elif A.is_lookup(value) and depth < 3:
                key = A.lookup_name(value)
                o, h, found = self._option_workers(key, depth)
                if not found:
                    outcomes.add("unknown")
                    how.append(f"unresolved {key}")
                resolved_option = resolved_option or found
                outcomes |= o
                how.extend(h)
            elif A.is_tag(value) and value not in (A.CONST, A.OTHER) or A.is_rng(value) or A.is_site(value):
                continue
            elif value == A.CONST:
                continue
            elif value == A.OTHER or A.is_qual(value):
                deferred.append("unresolved " + A.description(value))
            else:
                outcomes.add("unknown")
                how.append("unresolved " + A.description(value))
        if deferred and not resolved_option:
            # args.workers where args is a namespace the analysis cannot follow (parse_args(), a config
            # loaded from sys.argv): when the option is found by name its values decide, and the unknown
            # base object adds nothing of its own
            outcomes.add("unknown")
            how.extend(deferred)
        if not outcomes:
            outcomes.add("unknown")
            how.append("unresolved")
        return outcomes, list(dict.fromkeys(how))[:_MAX_HOW]

    def _option_workers(self, key: str, depth: int) -> Tuple[Set[str], List[str], bool]:
        """What the values configured under one option name give, once per name: a large repository sets
        num_workers in thousands of places, and each value may name another option."""
        memo = self._options_memo.get(key)
        if memo is not None:
            return memo
        self._options_memo[key] = (set(), [], True)  # a cycle of options adds nothing
        found = list(dict.fromkeys(self.ix.options(key)))
        outcomes: Set[str] = set()
        how: List[str] = []
        for opt in found[:_MAX_OPTIONS]:
            o, h = self.workers(opt, Ctx(), depth + 1)
            outcomes |= o
            how.extend(f"{key} default {x}" for x in h)
        out = (outcomes, list(dict.fromkeys(how))[:_MAX_HOW], bool(found))
        self._options_memo[key] = out
        return out
