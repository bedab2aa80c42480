"""Linking facts across a repository's files: names to definitions, classes to their bases, atoms to values.

Resolution is lazy: a module is parsed only when a name resolves into it.
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Dict, FrozenSet, Iterable, Iterator, List, Optional, Set, Tuple

from . import atoms as A
from . import names as N
from .configs import ConfigValues
from .model import Call, FileFacts, Function, Klass
from .sources import RepoFiles, word_byte

_MAX = 12
_MAX_CALLER_FILES = 20
RESOLUTION_BUDGET = 200_000
_MAX_SAME_SUFFIX = 8  # modules sharing a dotted suffix tried for a name
_OPTION_FILES = 10  # files parsed to find an option by its name
_EXTERNAL_ROOTS = frozenset({
    "numpy", "torch", "torchvision", "torchaudio", "torchtext", "random", "os", "sys", "math", "functools",
    "typing", "collections", "itertools", "PIL", "cv2", "albumentations", "scipy", "sklearn", "skimage",
    "pandas", "json", "re", "time", "datetime", "pathlib", "pytorch_lightning", "lightning", "builtins",
    "int", "len", "range", "list", "dict", "str", "float", "tuple", "set", "super", "isinstance", "print",
})


@dataclass(frozen=True)
class Resolved:
    kind: str                   # "function" | "class" | "variable" | "module" | "external"
    name: str                   # canonical qualified name
    facts: Optional[FileFacts] = None
    function: Optional[Function] = None
    klass: Optional[Klass] = None
    atoms: Tuple[str, ...] = ()
    rest: Tuple[str, ...] = ()  # attribute chain left after a variable (args.num_workers -> ("num_workers",))


@dataclass(frozen=True)
class Ctx:
    """Where atoms are evaluated: the function, the class self refers to, and bound parameters."""
    function: Optional[Function] = None
    klass: Optional[Klass] = None
    binding: Tuple[Tuple[str, FrozenSet[str]], ...] = ()
    dataset: Optional[Klass] = None   # what get_worker_info().dataset is, inside a worker
    # the construction site the dataset was built at: (class qualname, its __init__'s parameters bound there)
    site: Optional[Tuple[str, Tuple[Tuple[str, FrozenSet[str]], ...]]] = None

    def bound(self, param: str) -> Optional[FrozenSet[str]]:
        for name, atoms in self.binding:
            if name == param:
                return atoms
        return None

    @cached_property
    def key(self) -> "_Key":
        """What memoised values depend on, hashed once per context (they are asked per atom)."""
        return _Key((id(self.function), id(self.klass), self.binding, id(self.dataset), self.site))


class _Key:
    __slots__ = ("parts", "_hash")

    def __init__(self, parts: tuple):
        self.parts = parts
        self._hash = hash(parts)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other) -> bool:
        return self is other or isinstance(other, _Key) and self._hash == other._hash and self.parts == other.parts


@dataclass
class Index:
    repo: RepoFiles
    _suffix: Dict[str, List[str]] = field(default_factory=dict)
    _resolved: Dict[str, Optional[Resolved]] = field(default_factory=dict)
    _calls_to: Dict[str, List[Tuple[Call, Function]]] = field(default_factory=dict)
    _names_loaded: Set[Tuple[str, ...]] = field(default_factory=set)
    _calls_by_name: Dict[str, List[Tuple[Call, Function, str]]] = field(default_factory=dict)
    _calls_indexed: Dict[str, int] = field(default_factory=dict)
    _options_searched: Set[str] = field(default_factory=set)
    _configs: Optional[ConfigValues] = None
    loading: bool = True
    resolutions: int = 0
    exhausted: bool = False
    _mro: Dict[str, List[Klass]] = field(default_factory=dict)
    _functions: Dict[str, Optional[Function]] = field(default_factory=dict)
    _provides: Dict[Tuple[str, str, int], bool] = field(default_factory=dict)
    _names: Dict[str, FrozenSet[str]] = field(default_factory=dict)
    _children: Dict[str, Set[str]] = field(default_factory=dict)

    @contextmanager
    def peeking(self):
        """A context in which resolution uses only files parsed already; its results are not kept."""
        # a generator, not a class defined per call: a class is a reference cycle, and one capturing the
        # index would keep every repository's facts alive until the cyclic collector runs
        self.loading = False
        try:
            yield
        finally:
            self.loading = True
            self._resolved.clear()
            self._mro.clear()
            self._provides.clear()  # answered without the modules not parsed yet

    def __post_init__(self):
        for module in self.repo.paths:
            parts = module.split(".")
            for i in range(1, len(parts)):
                self._suffix.setdefault(".".join(parts[i:]), []).append(module)
            package, _, child = module.rpartition(".")
            if child:
                self._children.setdefault(package, set()).add(child)

    # -- names ---------------------------------------------------------------------------------------
    def module(self, name: str, near: str = "") -> Optional[FileFacts]:
        found = self.module_of(name, near)
        if found is None or not self.loading and not self.repo.is_loaded(found):
            # peeking: only modules parsed already (dataset detection must not parse a whole class hierarchy)
            return None
        return self.repo.facts(found)

    def module_of(self, name: str, near: str = "") -> Optional[str]:
        """The repository module a dotted name imports, by exact name or else by suffix (nearest first)."""
        if name in self.repo.paths:
            return name
        candidates = self._suffix.get(name)
        if not candidates or name.split(".")[0] in _EXTERNAL_ROOTS:
            return None
        near_pkg = near.rpartition(".")[0]
        return sorted(candidates, key=lambda m: (not m.startswith(near_pkg + "."), len(m)))[0]

    def resolve(self, qualname: str, depth: int = 0) -> Optional[Resolved]:
        if qualname in self._resolved:
            return self._resolved[qualname]
        self._resolved[qualname] = None  # cycle guard: re-exports that point at each other
        out = self._resolve(qualname, depth)
        self._resolved[qualname] = out
        return out

    def _resolve(self, qualname: str, depth: int) -> Optional[Resolved]:
        if depth > _MAX or not qualname:
            return None
        self.resolutions += 1
        if self.resolutions > RESOLUTION_BUDGET:
            # star imports in very large code bases make the name space combinatorial: stop, and say so
            self.exhausted = True
            return None
        parts = qualname.split(".")
        # Shortest module first: a package's __init__ that re-exports a name (from .jitter import jitter)
        # shadows the submodule of the same name, as it does at run time.
        matched = False
        for i in range(1, len(parts) + 1):
            facts = self.module(".".join(parts[:i]))
            if facts is None:
                continue
            if ".".join(parts[:i]) in self.repo.paths:
                matched = True  # a module of the repository by its own name: what it lacks is nowhere
            rest = parts[i:]
            if not rest:
                return Resolved("module", facts.module, facts)
            hit = self._in_module(facts, rest, depth)
            if hit is not None:
                return hit
            # ``from helpers.dataset import X`` in a repository of several projects, each with its own
            # helpers/dataset.py: the name is in one of them, not necessarily the shortest-named
            prefix = ".".join(parts[:i])
            for other in self._suffix.get(prefix, ())[:_MAX_SAME_SUFFIX] if prefix not in self.repo.paths else ():
                if other != facts.module and (self.loading or self.repo.is_loaded(other)):
                    alt = self.repo.facts(other)
                    hit = self._in_module(alt, rest, depth) if alt is not None else None
                    if hit is not None:
                        return hit
        # matched only by a dotted suffix (a nested datasets/ package) and without the name: the import
        # is of the library of that name (Hugging Face's datasets.Dataset), as Python would find it
        return None if matched else Resolved("external", qualname)

    def _in_module(self, facts: FileFacts, rest: List[str], depth: int) -> Optional[Resolved]:
        head = rest[0]
        qual = f"{facts.module}.{head}"
        for fn in facts.functions:
            if fn.qualname == qual:
                return Resolved("function", qual, facts, function=fn) if len(rest) == 1 else None
        for k in facts.classes:
            if k.qualname == qual:
                if len(rest) == 1:
                    return Resolved("class", qual, facts, klass=k)
                method = self.method(k, rest[1])
                return Resolved("function", method.qualname, facts, function=method) if method else None
        for alias, target in facts.imports:
            if alias == head:
                return self.resolve(".".join([target, *rest[1:]]), depth + 1)
        for name, atoms in facts.variables:
            if name == head:
                return Resolved("variable", qual, facts, atoms=atoms, rest=tuple(rest[1:]))
        for alias, target in facts.imports:
            if alias == "*" and depth < 3 and self.provides(target, head, 2 - depth):
                hit = self.resolve(".".join([target, *rest]), depth + 1)
                if hit is not None and hit.kind != "external":
                    return hit
        return None

    def provides(self, module: str, name: str, reach: int) -> bool:
        """Whether ``from module import *`` can bring ``name``: the module defines or imports it at top level,
        has a submodule of that name, or (``reach`` levels deep) a module it star-imports provides it.
        Without this test every name a star-importing package lacks is looked up again inside each
        star-imported module, whose packages star-import in turn: hundreds of thousands of made-up dotted
        names in one repository. Memoised; modules are parsed in the order the lookup itself would."""
        key = (module, name, reach)
        hit = self._provides.get(key)
        if hit is not None:
            return hit
        self._provides[key] = False  # cycle guard: packages that star-import each other
        found = name in self._children.get(module, ())
        target = self.module_of(module)
        if not found and target is not None and not self.repo.is_loaded(target):
            # a module can bring only a name it spells, or one that a module it star-imports brings: a file
            # that spells neither needs no parsing to tell (99 files of 74 real repositories were parsed so)
            data = self.repo.read(target) or b""
            if name.encode() not in data and not _STAR_IMPORT.search(data) \
                    and name not in self._children.get(target, ()):
                return False  # memoised by the cycle guard above
        facts = self.module(module)
        if facts is not None and not found:
            found = name in self._children.get(facts.module, ()) or name in self._top_names(facts)
            stars = [target for alias, target in facts.imports if alias == "*"] if reach > 0 else []
            found = found or any(self.provides(target, name, reach - 1) for target in stars)
        self._provides[key] = found
        return found

    def _top_names(self, facts: FileFacts) -> FrozenSet[str]:
        hit = self._names.get(facts.module)
        if hit is None:
            names = {alias for alias, _ in facts.imports if alias != "*"}
            names.update(name for name, _ in facts.variables)
            for unit in (*facts.functions, *facts.classes):
                owner, _, short = unit.qualname.rpartition(".")
                if owner == facts.module:
                    names.add(short)
            hit = self._names[facts.module] = frozenset(names)
        return hit

    # -- classes -------------------------------------------------------------------------------------
    def bases(self, klass: Klass) -> Tuple[List[Klass], List[str]]:
        """Repo base classes and external base names."""
        repo, external = [], []
        for atom in klass.bases:
            hit = self.resolve(A.qual_name(atom))
            if hit is None:
                continue
            if hit.kind == "class" and hit.klass is not klass:
                repo.append(hit.klass)
            elif hit.kind == "external":
                external.append(hit.name)
        return repo, external

    def mro(self, klass: Klass) -> List[Klass]:
        hit = self._mro.get(klass.qualname)
        if hit is None:
            hit = self._mro[klass.qualname] = self._compute_mro(klass)
        return hit

    def _compute_mro(self, klass: Klass) -> List[Klass]:
        out, todo, seen = [], [klass], set()
        while todo and len(out) < 50:
            k = todo.pop(0)
            if k.qualname in seen:
                continue
            seen.add(k.qualname)
            out.append(k)
            todo.extend(self.bases(k)[0])
        return out

    def external_bases(self, klass: Klass) -> List[str]:
        out = []
        for k in self.mro(klass):
            out.extend(self.bases(k)[1])
        return out

    def is_dataset(self, klass: Klass) -> bool:
        return any(N.is_dataset_base(b) for b in self.external_bases(klass))

    def method(self, klass: Klass, name: str) -> Optional[Function]:
        for k in self.mro(klass):
            if name in k.methods:
                hit = self.function(f"{k.qualname}.{name}")
                if hit is not None:
                    return hit
        return None

    def function(self, qualname: str) -> Optional[Function]:
        if qualname not in self._functions:
            facts = self.defining_module(qualname)
            self._functions[qualname] = next((fn for fn in facts.functions if fn.qualname == qualname), None) \
                if facts else None
        return self._functions[qualname]

    def defining_module(self, qualname: str) -> Optional[FileFacts]:
        """Facts of the repo module that a function or class qualname lives in (its longest module prefix)."""
        module = qualname
        while module:
            module = module.rpartition(".")[0]
            if module in self.repo.paths:
                return self.repo.facts(module)
        return None

    def klass(self, qualname: str) -> Optional[Klass]:
        hit = self.resolve(qualname)
        return hit.klass if hit is not None and hit.kind == "class" else None

    def class_of(self, fn: Function) -> Optional[Klass]:
        facts = self.defining_module(fn.cls) if fn.cls else None
        return next((k for k in facts.classes if k.qualname == fn.cls), None) if facts else None

    def attrs(self, klass: Klass, attr: str):
        for k in self.mro(klass):
            for a in k.attrs:
                if a.attr == attr:
                    yield k, a

    # -- call sites ----------------------------------------------------------------------------------
    def calls_to(self, qualname: str) -> List[Tuple[Call, Function]]:
        """Calls whose callee resolves to qualname (a function or a class), in every file that names it."""
        if qualname in self._calls_to:
            return self._calls_to[qualname]
        owner, _, name = qualname.rpartition(".")
        # A call site can resolve to a method of class X only if its file spells X (X.m(...), an import of X,
        # super() in a subclass of X): requiring X spares parsing every file that says "get" or "__init__".
        facts = self.defining_module(qualname)
        method = facts is not None and any(k.qualname == owner for k in facts.classes)
        if method:
            owner_name = owner.rpartition(".")[2]
            # a dunder is called without being spelled only as the walk reads self.x[i] (__getitem__); an
            # __init__ is called by name (super().__init__(...), Base.__init__(self, ...)), constructions
            # are calls of the class
            tokens = (owner_name,) if name == "__getitem__" else (owner_name, name)
        else:
            tokens = (owner, name)
        if tokens not in self._names_loaded:
            self._names_loaded.add(tokens)
            spelled = _method_site_pattern(*tokens) if method else _call_site_pattern(owner.rpartition(".")[2], name)
            naming = self.repo.containing(tokens[0 if method else 1].encode(), spelled, _MAX_CALLER_FILES + 1)
            # a name that many files mention (a common helper) is left to the files parsed already
            for module in naming if len(naming) <= _MAX_CALLER_FILES else ():
                self.repo.facts(module)
        out = []
        seen: Set[int] = set()
        # only callees spelled with the name are resolved: resolving all would parse everything
        for call, fn, atom in self._calls_named(name):
            if id(call) not in seen:
                hit = self.resolve(A.qual_name(atom))
                if hit is not None and hit.name == qualname:
                    seen.add(id(call))
                    out.append((call, fn))
        self._calls_to[qualname] = out
        return out

    def _calls_named(self, name: str) -> List[Tuple[Call, Function, str]]:
        """Calls in the parsed files whose callee is a qualified name ending in name (files loaded since the
        last question about name are added to its answer)."""
        loaded = self.repo.loaded()  # append-only, so what was indexed before is a prefix
        out = self._calls_by_name.setdefault(name, [])
        for facts in loaded[self._calls_indexed.get(name, 0):]:
            index = facts.calls
            for site in index.candidates((name,)):
                hits = [a for a in index.callee(site) if A.is_qual(a) and a.rsplit(".", 1)[-1] == name]
                if hits:
                    call, fn = index.call(site)
                    out.extend((call, fn, atom) for atom in hits)
        self._calls_indexed[name] = len(loaded)
        return out

    def all_classes(self) -> Iterable[Klass]:
        for facts in list(self.repo.loaded()):
            yield from facts.classes

    def options(self, key: str) -> List[FrozenSet[str]]:
        """Values configured for a worker option: argparse defaults, config keys, attributes and keyword
        arguments in the code, and keys of the repository's YAML, JSON and TOML files."""
        return self._code_options(key) + self.config_options(key)

    def config_options(self, key: str) -> List[FrozenSet[str]]:
        """Values the repository's YAML, JSON and TOML files give a key; empty when none sets it."""
        if self._configs is None:
            self._configs = ConfigValues(self.repo.root)
        return self._configs.lookup(key)

    def _code_options(self, key: str) -> List[FrozenSet[str]]:
        out = self._options(key)
        if not out and self.repo.worker_modules:
            # an options module that nothing imports by name (argparse in opts.py): parse what mentions workers
            # and spells the key (argparse's --num-workers is dest num_workers); the others configure no key
            spellings = (key.encode(), key.replace("_", "-").encode())
            holding = [m for m in self.repo.worker_modules
                       if not self.repo.is_loaded(m) and any(s in (self.repo.read(m) or b"") for s in spellings)]
            for module in holding:
                self.repo.facts(module)
            if holding:
                out = self._options(key)
        if not out and key not in self._options_searched:
            # an option named otherwise (--n_cpu, --threads): the files that spell the name the loader reads
            self._options_searched.add(key)
            token = key.encode()
            for module in self.repo.containing(token, limit=_OPTION_FILES):
                self.repo.facts(module)
            out = self._options(key)
        return out

    def _options(self, key: str) -> List[FrozenSet[str]]:
        out = []
        for facts in list(self.repo.loaded()):
            for name, atoms in facts.options:
                if name == key:
                    out.append(frozenset(atoms))
        return out


def _call_site_pattern(module: str, name: str):
    """Whether a file's bytes may call module.name: ``name(`` not after a dot, an import of the name, or
    ``alias.name(`` in a file importing the module. Common function names (train, main, run) otherwise match
    every file through ``model.train()`` and prose. The name is found with bytes.find and what surrounds it
    tested by patterns compiled once: a pattern per name cost 0.15 ms to compile, for hundreds of names."""
    n = name.encode()

    def spelled(data: bytes) -> bool:
        if n not in data:
            return False
        bare = dotted = top_def = False
        words = aliases = 0
        for pos in _occurrences(data, n):
            end = pos + len(n)
            before = data[pos - 1:pos] if pos else b""
            line = data.rfind(b"\n", 0, pos) + 1
            if data[line:pos].lstrip().startswith(b"#"):
                continue  # a comment line (a call commented out) calls nothing
            if _CALL_TAIL.match(data, end):
                if not (word_byte(before) or before == b".") and data[pos - 4:pos] != b"def ":
                    bare = True
                dotted = dotted or before == b"."
            if word_byte(data[end:end + 1]):
                continue  # inside a longer word
            if not word_byte(before):
                words += 1
                aliases += _ALIAS_TAIL.match(data, end) is not None
            if before in (b"", b" ", b"\t") and _DEF_HEAD.fullmatch(data, line, pos):
                top_def = True
        # a file defining its own top-level name() calls its own (train(), main()), unless it imports one
        if bare and not top_def:
            return True
        imports = _name_imports(data, n)
        # an import that renames it, or a use beside the imports (passed on, put in a registry); a file
        # that only imports it (a package's __init__ re-exporting it) calls nothing
        if imports and (aliases or words > imports):
            return True
        return dotted and bool(module) and bool(_import_of(module.encode()).search(data))
    return spelled


def _occurrences(data: bytes, token: bytes) -> Iterator[int]:
    pos = data.find(token)
    while pos >= 0:
        yield pos
        pos = data.find(token, pos + 1)


def _name_imports(data: bytes, name: bytes) -> int:
    """Import statements that import the name itself (within parentheses or continued lines), not a module
    path it is part of (``import libs.train.model``)."""
    count = 0
    for m in _IMPORT_LIST.finditer(data):
        region = m.group(1) if m.group(1) is not None else m.group(2)
        for pos in _occurrences(region, name):
            before, end = region[pos - 1:pos] if pos else b"", pos + len(name)
            after = region[end:end + 1]
            if word_byte(before) or before == b"." or word_byte(after) or region[end:].lstrip(b" \t").startswith(b"."):
                continue
            count += 1
            break
    return count


def _method_site_pattern(owner: str, *names: str):
    """Whether a file's bytes may call a method of class owner: they spell the method's name (but for
    __getitem__) and spell owner in code, as a construction, a base, an attribute or a value (``X(``,
    ``X)``, ``X.``, ``X,``, ``X:``, ``= X``) or import it under another name, not only in a string
    (``type='X'`` in an mmcv config), prose (``X Processing``), a comment or an import of it alone."""
    spelled = tuple(n.encode() for n in names)
    token = owner.encode()

    def test(data: bytes) -> bool:
        if not all(n in data for n in spelled):
            return False
        for start in _occurrences(data, token):
            m = _CODE_TAIL.match(data, start + len(token))
            if m is None:
                continue
            before = data[start - 1:start] if start else b""
            if word_byte(before) or before in (b"'", b'"'):
                continue
            head = data[data.rfind(b"\n", 0, start) + 1:start].lstrip()
            if m.group(1):
                return True  # imported under another name
            if head.startswith((b"#", b"from ", b"import ")):
                continue
            # at the end of a line, a value (Base = X, a bracket or argument list), not prose ("and X")
            if m.group(2) or head.rstrip().endswith(_VALUE_BEFORE) or not head.strip():
                return True
        return False
    return test


_STAR_IMPORT = re.compile(rb"import[ \t]*\*")
# what may follow a name: a call; "as" (an import renaming it); in code, punctuation or the line's end
_CALL_TAIL = re.compile(rb"\s*\(")
_ALIAS_TAIL = re.compile(rb"[ \t]+as[ \t]")
_CODE_TAIL = re.compile(rb"([ \t]+as[ \t])|[ \t]*([(),.:\]}=\\])|[ \t]*(?:[\r\n]|$)", re.MULTILINE)
_DEF_HEAD = re.compile(rb"(?:async[ \t]+)?def[ \t]+")
# the names an import statement lists: in parentheses, or to the line's end (with continued lines)
_IMPORT_LIST = re.compile(rb"import(?:[ \t]*\(([^)]*)|[ \t]+((?:[\w \t,.]|\\\r?\n)*))")


_VALUE_BEFORE = (b"=", b"(", b",", b"[", b"{", b":", b"return", b"yield")


# Compiled when first needed and kept: a pattern per module a lookup names (the dotted rule).
@lru_cache(maxsize=2048)
def _import_of(name: bytes):
    return re.compile(rb"import[ \t]*\(?[\w \t,.\\\n]*?\b" + re.escape(name) + rb"\b")


def arg_for(call: Call, fn: Function, param: str, bound_self: bool) -> Optional[Tuple[str, ...]]:
    """The atoms a call passes for one parameter of fn."""
    params = list(fn.params)
    if bound_self and params:
        params = params[1:]
    for key, atoms in call.args:
        if key == param:
            return atoms
    if param in params:
        index = str(params.index(param))
        for key, atoms in call.args:
            if key == index:
                return atoms
    return None


def bind(call: Call, fn: Function, bound_self: bool, values) -> Tuple[Tuple[str, FrozenSet[str]], ...]:
    """Parameter bindings of fn for one call; ``values`` expands the caller's atoms."""
    params = list(fn.params)
    if bound_self and params:
        params = params[1:]
    out: Dict[str, Set[str]] = {}
    for key, atoms in call.args:
        if key.isdigit():
            i = int(key)
            if i < len(params):
                out.setdefault(params[i], set()).update(values(atoms))
        elif key in params:
            out.setdefault(key, set()).update(values(atoms))
    return tuple((k, frozenset(v)) for k, v in sorted(out.items()))
