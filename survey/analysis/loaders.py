"""The loaders of a repository, read as the judgement needs them: what each one loads (traced to the calls
that built its dataset where it can be), its worker count, worker_init_fn and persistent_workers."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import Callable, Dict, List, Optional, Set, Tuple

from . import atoms as A
from . import names as N
from .evaluate import dataloader_arguments
from .link import Ctx, Index, bind
from .model import Function, Klass, Loader, Seed
from .values import Values

_DYNAMIC_ROOTS = frozenset({"importlib", "imp", "builtins", "operator", "functools", "pydoc", "hydra"})
_REGISTRY_FACTORY = re.compile(r"(build|make|create|get)_")
_SEEDER_TARGETS = {**{q: "global" for q in N.NUMPY_GLOBAL_SEEDERS}, **{q: "python" for q in N.PYTHON_SEEDERS},
                   **{q: "torch" for q in N.TORCH_SEEDERS}}
_DYNAMIC_BUILTINS = frozenset({"eval", "getattr", "__import__", "globals", "locals", "vars"})


@dataclass
class LoaderInfo:
    loader: Loader
    path: str
    ctx: Ctx
    targets: Set[str]                          # candidate keys it loads; empty when unresolved
    count: Callable[[], Tuple[Set[str], List[str]]]  # worker outcomes and how they were found
    wif: List[Tuple[Function, Optional[Klass], bool]]
    wif_text: str
    wif_unresolved: bool
    persistent: bool
    wif_optional: bool = False                 # worker_init_fn=None in some runs (fn if args.seed else None)
    # some of what it may load is built by a dynamic lookup (eval(cfg["type"]), getattr(module, name), a
    # registry factory) beside the classes it is traced to: it may load any dataset of the repository
    open: bool = False
    # worker_init_fn=np.random.seed (a library seeder itself): each worker calls it with its worker id
    wif_seeds: Tuple[Seed, ...] = ()

    def loads(self, key: str) -> bool:
        return not self.targets or self.open or key in self.targets

    # Counting workers can chase a value up several callers (each parse of their files): done only for
    # loaders of a dataset that draws NumPy randomness, most loaders never need it.
    @cached_property
    def _counted(self) -> Tuple[Set[str], List[str]]:
        return self.count()

    @property
    def workers(self) -> Set[str]:
        return self._counted[0]

    @property
    def workers_how(self) -> List[str]:
        return self._counted[1]

    @property
    def multi(self) -> bool:
        return self.workers != {"zero"}

    @property
    def where(self) -> str:
        return f"{self.path}:{self.loader.line}"


def path_of(ix: Index, qualname: str) -> str:
    """The repo-relative file defining a function or class."""
    facts = ix.defining_module(qualname)
    return facts.path if facts else ""


class LoaderReader:
    def __init__(self, index: Index, values: Values):
        self.ix = index
        self.v = values
        self._subclass_names: Optional[Set[str]] = None
        self._calls_at: Optional[Dict[tuple, tuple]] = None

    def _loader_subclass_names(self) -> Set[str]:
        if self._subclass_names is None:
            self._subclass_names = {k.name for facts in self.ix.repo.loaded() for k in facts.classes
                                    if any("DataLoader" in b for b in k.bases)}
        return self._subclass_names

    def sites(self, info: "LoaderInfo", klass: Klass) -> List[Tuple[str, tuple]]:
        """The construction sites of klass that a loader's dataset argument traces back to, each with the
        class's __init__ parameters bound as that call passes them."""
        atoms = dict(info.loader.args).get("dataset", ())
        out = []
        for atom in sorted(a for a in self.v.expand(atoms, info.ctx) if A.is_site(a)):
            found = self._site_call(atom)
            if found is None:
                continue
            call, caller = found
            if not any(hit is not None and hit.kind == "class" and hit.klass is klass
                       for hit in (self.ix.resolve(n) for n in A.names_of(call.callee))):
                continue
            init = self.ix.method(klass, "__init__")
            ctx = Ctx(caller, self.ix.class_of(caller))
            binding = bind(call, init, True, lambda a: self.v.expand(a, ctx)) if init is not None else ()
            if init is not None:
                # a parameter this call leaves out holds its default (which its atoms carry already), not
                # what other callers pass
                passed = {name for name, _ in binding}
                binding = tuple(sorted(binding + tuple((p, frozenset()) for p in init.params[1:] if p not in passed)))
            out.append((klass.qualname, binding))
        return out

    def _forwarded(self, atoms, ctx: Ctx) -> Optional[Dict[str, tuple]]:
        """The keywords a function's callers pass into its ``**kwargs`` (expanded at each caller), when
        every caller is known and spells them out; None otherwise."""
        fn = ctx.function
        if fn is None or not atoms or not all(A.is_param(a) for a in atoms):
            return None
        sites = self.ix.calls_to(fn.qualname)
        if not sites:
            return None
        named = set(fn.params)
        out: Dict[str, Set[str]] = {}
        for call, caller in sites[:20]:
            caller_ctx = Ctx(caller, self.ix.class_of(caller))
            for key, value in call.args:
                if key in ("*", "**"):
                    return None
                if not key.isdigit() and key not in named:
                    out.setdefault(key, set()).update(self.v.expand(value, caller_ctx))
        return {k: tuple(sorted(v)) for k, v in out.items()}

    def _external_root(self, atoms) -> str:
        """The library object a dataset value is derived from when nothing of the repository's is in it:
        load_dataset(...).shuffle().select(...) is a Hugging Face dataset, not any repo Dataset."""
        names = {n for a in atoms for n in A.embedded_names(a)}
        if not names or not all(a.startswith(A.POINTERS) for a in atoms):
            return ""
        hits = [self.ix.resolve(n) for n in sorted(names)]
        if all(h is not None and h.kind == "external" and _library_object(h.name) for h in hits):
            return hits[0].name
        return ""

    def _site_call(self, atom: str):
        module, line, col = A.site_parts(atom)
        if self._calls_at is None:
            # the files parsed when the first site is looked up (as sites are recorded, by module)
            self._calls_at = {facts.module: facts.calls for facts in self.ix.repo.loaded()}
        index = self._calls_at.get(module)
        site = index.at(line, col) if index is not None else None
        return index.call(site) if site is not None else None

    # 2-3. loaders ------------------------------------------------------------------------------------
    def loaders(self) -> List[LoaderInfo]:
        out = []
        for facts in list(self.ix.repo.loaded()):
            loaders = list(facts.loaders) + list(self._subclass_loaders(facts))
            for loader in loaders:
                fn = self.ix.function(loader.scope)
                klass = self.ix.klass(loader.cls) if loader.cls else None
                out.append(self._loader(loader, facts.path, Ctx(fn, klass)))
        return out

    def _subclass_loaders(self, facts):
        """Calls of repo classes that subclass DataLoader (class FastLoader(DataLoader)), read as loaders."""
        names = self._loader_subclass_names()
        if not names:
            return
        for site in facts.calls.candidates(names):
            for atom in facts.calls.callee(site):
                # resolving every callee would parse half of a large repository; names first
                name = A.optional_qual_name(atom)
                if name is None or name in N.DATALOADERS or name.rsplit(".", 1)[-1] not in names:
                    continue
                hit = self.ix.resolve(name)
                if hit is None or hit.kind != "class" or \
                        not set(self.ix.external_bases(hit.klass)) & N.DATALOADERS:
                    continue
                yield self._subclass_call(*facts.calls.call(site), hit.klass)
                break

    def _subclass_call(self, call, fn: Function, klass: Klass) -> Loader:
        """A call of a DataLoader subclass, with what the subclass itself hands DataLoader: the arguments of
        its super().__init__(...) (bound as this call passes them) and a self.worker_init_fn it sets."""
        loader = _call_as_loader(call, fn, klass.name)
        init = self.ix.method(klass, "__init__")
        if init is None:
            return loader
        caller_ctx = Ctx(fn, self.ix.class_of(fn))
        ctx = Ctx(init, klass, bind(call, init, True, lambda a: self.v.expand(a, caller_ctx)))
        args = dict(loader.args)
        unknown = loader.kwargs_unknown
        for inner in init.calls:
            inner_args = _base_init_args(inner)
            if inner_args is None:
                continue
            mapped, hidden = dataloader_arguments(inner_args)
            for name, atoms in mapped:
                if name != "**":
                    args[name] = tuple(sorted(self.v.expand(atoms, ctx)))
            unknown = hidden and unknown
        if "worker_init_fn" not in args and next(self.ix.attrs(klass, "worker_init_fn"), None) is not None:
            args["worker_init_fn"] = tuple(sorted(self.v.expand([A.self_attr("worker_init_fn")], Ctx(None, klass))))
        return replace(loader, args=tuple(sorted(args.items())), kwargs_unknown=unknown)

    def _loader(self, loader: Loader, path: str, ctx: Ctx) -> LoaderInfo:
        args = dict(loader.args)
        if loader.kwargs_unknown and "**" in args:
            forwarded = self._forwarded(args["**"], ctx)
            if forwarded is None:
                forwarded = self.v.unpacked(args["**"], ctx)
            if forwarded is not None:
                # DataLoader(ds, **kwargs) in def data_loader(args, **kwargs): what its callers pass
                loader = replace(loader, kwargs_unknown=False)
                for name, atoms in forwarded.items():
                    args.setdefault(name, atoms)
        targets: Set[str] = set()
        dynamic = False
        for value in self.v.expand(args.get("dataset", ()), ctx):
            if value == A.SELF and ctx.klass is not None:
                targets.add(A.instance(ctx.klass.qualname))  # DataLoader(self, ...) in a dataset's own method
            elif A.is_instance(value):
                cls = A.instance_class(value)
                hit = self.ix.resolve(cls)
                if hit is not None and hit.kind == "class":
                    targets.add(A.instance(hit.name))
                elif hit is not None and hit.kind == "external" and _library_object(cls):
                    # a library class or constructor (TensorDataset, Dataset.from_dict): traced to it; a
                    # registry factory (mmdet's build_dataset(cfg)) may return a repo dataset: untraced
                    targets.add(A.library_dataset(hit.name))
                elif hit is None or hit.kind == "external":
                    dynamic = dynamic or _dynamic(cls)
        if not targets:
            root = self._external_root(args.get("dataset", ()))
            if root:
                targets.add(A.library_dataset(root))
        if "num_workers" in args:
            count = partial(self.v.workers, args["num_workers"], ctx)
        elif loader.kwargs_unknown:
            count = lambda: ({"unknown"}, ["unresolved **kwargs"])  # noqa: E731
        else:
            count = lambda: ({"zero"}, ["absent"])  # noqa: E731
        wif, wif_text, unresolved, optional, direct = [], "", False, False, ()
        if "worker_init_fn" in args:
            atoms = args["worker_init_fn"]
            values = self.v.configured(atoms, ctx)
            # sorted: the seed a finding quotes is the same on every run, whatever the hash seed
            wif = sorted(self.v.called(values, ctx), key=lambda t: t[0].qualname)
            names = sorted({fn.qualname.rsplit(".", 1)[-1] for fn, _, _ in wif})
            direct = tuple(Seed(loader.line, loader.col, f"{q}(worker_id)", target, (A.WORKER_ID,))
                           for q in sorted(A.names_of(values)) for target in (_SEEDER_TARGETS.get(q),) if target)
            wif_text = ", ".join(names + [s.text for s in direct])
            unresolved = not wif and not direct and bool(values - {A.NONE})
            optional = A.NONE in values and (bool(wif) or unresolved)
            if unresolved:
                wif_text = "unresolved"
        elif loader.kwargs_unknown:
            unresolved, wif_text = False, ""
        persistent = A.TRUE in self.v.configured(args.get("persistent_workers", ()), ctx)
        return LoaderInfo(loader, path, ctx, targets, count, wif, wif_text, unresolved, persistent, optional,
                          open=dynamic and bool(targets), wif_seeds=direct)


def _base_init_args(call) -> Optional[tuple]:
    """The arguments a subclass's __init__ hands DataLoader's: of ``super().__init__(dataset, ...)``, or of
    ``DataLoader.__init__(self, dataset, ...)`` without its explicit self; None for other calls."""
    for atom in call.callee:
        if A.is_member(atom) and A.member_parts(atom)[1] == "__init__":
            return call.args
        if A.is_qual(atom) and A.qual_name(atom).endswith(".__init__") \
                and A.qual_name(atom)[:-len(".__init__")] in N.DATALOADERS:
            return tuple((str(int(k) - 1), v) if k.isdigit() else (k, v) for k, v in call.args if k != "0")
    return None


def _call_as_loader(call, fn: Function, name: str) -> Loader:
    args, unknown = dataloader_arguments(call.args)
    return Loader(call.line, call.col, f"{name}(...)", fn.qualname, fn.cls, args, unknown)


def _dynamic(qualname: str) -> bool:
    """Whether a call builds whatever a name picks at run time: eval, getattr, importlib, a registry factory."""
    return qualname in _DYNAMIC_BUILTINS or "." in qualname and not _library_object(qualname)


def _library_object(qualname: str) -> bool:
    """Whether a library call surely builds the library's own object: not a registry factory (build_dataset
    may return a repo class), not a dynamic lookup (getattr(module, name), importlib, eval), not a builtin."""
    if "." not in qualname or qualname.split(".")[0] in _DYNAMIC_ROOTS:
        return False
    return not _REGISTRY_FACTORY.match(qualname.rsplit(".", 1)[-1])
