"""The value vocabulary of the analysis: *atoms*, short strings saying what a value may be or derive from.

Facts summarise every expression as a set of atoms (flow-insensitively per scope: a name may be any value it
is ever assigned, which is what a reviewer would assume too: a loader built with ``num_workers=0 if debug
else 8`` may have workers); linking expands them across the repository; the judgement reads them. This
module is the only place that spells an atom: each kind has a constructor, a predicate and an accessor, so
adding a kind means adding it here and nothing else parses strings. Strings stay the representation
because sets of short strings hash and compare at C speed, and facts must pickle cheaply.

Pointers (values that stand for something defined elsewhere):

- ``q:X``      the qualified name X (``q:numpy.random.rand``, ``q:pkg.data.MyDataset``)
- ``i:R``      the result of calling R (``i:q:pkg.aug.Flip`` is a Flip instance)
- ``self:A``   attribute A of self; ``wds:A`` attribute A of the worker's dataset (``get_worker_info().dataset``)
- ``param:P``  parameter P of the enclosing function
- ``fn:X``     a lambda or nested function
- ``P#M``      member M of pointer P (``self:aug#flip``: the method ``flip`` of whatever ``self.aug`` holds)
- ``self``     the enclosing method's self

Keys (looked up by name where the analysis can find a value for them):

- ``arg:A``    attribute A of some object (``args.num_workers``); ``key:K`` a subscript by string key
- ``kv:K=V``   a dict literal's entry K holding atom V

Tags (``t:...``): ``t:int:N``, ``t:const``, ``t:true``, ``t:false``, ``t:none``, ``t:dict``, ``t:rng_ctor``
(an RNG built here, its seed as ``s!atom``), ``t:rng_default`` (an RNG built as a default argument, so in
the parent), ``t:torch_seed``, ``t:worker_seed``, ``t:worker_id``, ``t:worker_info``, ``t:worker_dataset``,
``t:torch_draw``, ``t:entropy``, ``t:get_state``, ``t:index``, ``t:cpu``, ``t:clock`` (the wall clock),
``t:other`` (unknown).

``c!M:L:C`` the call at module M, line L, column C that built the value (a construction site).

After linking: ``rng:attr:A`` / ``rng:q:V`` the identity of an RNG object (so a draw and a reseed of the
same object match after passing through parameters). The judgement keys datasets by ``i:q:<class>``,
``lib:<name>`` (a library dataset) and ``loader:<n>`` (whatever the n-th loader loads).
"""
from __future__ import annotations

import re
from typing import Iterable, Optional, Tuple

# -- pointers --------------------------------------------------------------------------------------------
_Q, _I, _SELF, _WDS, _PARAM, _FN = "q:", "i:", "self:", "wds:", "param:", "fn:"
_MEMBER = "#"
SELF = "self"
POINTERS = (_Q, _I, _SELF, _WDS, _PARAM, _FN)   # startswith() tuple: any pointer
_CALLABLE_RESULT = (_SELF, _WDS, _FN, _PARAM, _I)  # pointers whose call result is an ``i:`` atom
_MEMBER_BASES = (_SELF, _WDS, _I, _PARAM)         # pointers that can take a ``#member``


def qual(name: str) -> str:
    """The qualified name ``name``."""
    return _Q + name


def is_qual(atom: str) -> bool:
    return atom.startswith(_Q)


def qual_name(atom: str) -> str:
    return atom[2:]


ANY_MEMBER = "*"  # q:pkg.augment.*: any class or function the module defines or imports (a lookup by name)


def is_qual_under(atom: str, *prefixes: str) -> bool:
    """A qualified name starting with one of the dotted prefixes (``numpy.random``)."""
    return atom.startswith(tuple(_Q + p for p in prefixes))


def result(atom: str) -> str:
    """The result of calling what ``atom`` points to."""
    return _I + atom


def is_result(atom: str) -> bool:
    return atom.startswith(_I)


def result_of(atom: str) -> str:
    """What was called to give this result."""
    return atom[2:]


def instance(qualname: str) -> str:
    """An instance of the class ``qualname``."""
    return _I + _Q + qualname


def is_instance(atom: str) -> bool:
    return atom.startswith("i:q:")


def instance_class(atom: str) -> str:
    return atom[4:]


def self_attr(name: str) -> str:
    return _SELF + name


def is_self_attr(atom: str) -> bool:
    return atom.startswith(_SELF) and _MEMBER not in atom


def worker_dataset_attr(name: str) -> str:
    return _WDS + name


def is_object_attr(atom: str) -> bool:
    """``self:A`` or ``wds:A`` (no member): an attribute of an object whose class the context knows."""
    return atom.startswith((_SELF, _WDS)) and _MEMBER not in atom


def attr_name(atom: str) -> str:
    """A of ``self:A`` or ``wds:A``."""
    return atom.split(":", 1)[1]


def param(name: str) -> str:
    return _PARAM + name


def is_param(atom: str) -> bool:
    return atom.startswith(_PARAM) and _MEMBER not in atom


def param_name(atom: str) -> str:
    return atom[6:]


def function(key: str) -> str:
    """A lambda or nested function, by the key the facts give it."""
    return _FN + key


def is_function(atom: str) -> bool:
    return atom.startswith(_FN)


def function_key(atom: str) -> str:
    return atom[3:]


def member(base: str, name: str) -> str:
    return f"{base}{_MEMBER}{name}"


def is_member(atom: str) -> bool:
    return _MEMBER in atom


def can_take_member(atom: str) -> bool:
    # chains stay short (load_dataset(...).shuffle().select(...)): enough to know what a value derives from
    return atom.startswith(_MEMBER_BASES) and atom.count(_MEMBER) < 6


def member_parts(atom: str) -> Tuple[str, str]:
    """(base, member name) of ``base#name``."""
    base, name = atom.rsplit(_MEMBER, 1)
    return base, name


def is_pointer(atom: str) -> bool:
    return atom.startswith(POINTERS)


def is_reference(atom: str) -> bool:
    """An attribute of self or of the worker's dataset, a qualified name or a parameter (members included):
    what a draw or a reseed may name its RNG object by."""
    return atom.startswith((_SELF, _WDS, _Q, _PARAM))


def is_holder(atom: str) -> bool:
    """What an RNG object can be stored in: an attribute of self or of the worker's dataset, or a variable."""
    return atom.startswith((_SELF, _WDS, _Q))


def calls_something(atom: str) -> bool:
    """A pointer whose call can run repository code (and whose result is an ``i:`` atom)."""
    return atom.startswith(_CALLABLE_RESULT)


# -- keys ------------------------------------------------------------------------------------------------
_ARG, _KEY, _KV = "arg:", "key:", "kv:"


def attr_of_any(name: str) -> str:
    """Attribute ``name`` of some object (``args.num_workers``)."""
    return _ARG + name


def key(name: str) -> str:
    """A subscript by the string key ``name``."""
    return _KEY + name


def is_lookup(atom: str) -> bool:
    """``arg:A`` or ``key:K``: a value to look for by its name."""
    return atom.startswith((_ARG, _KEY))


def lookup_name(atom: str) -> str:
    return atom.split(":", 1)[1]


def entry(name: str, value: str) -> str:
    """A dict's entry ``name`` holding ``value``."""
    return f"{_KV}{name}={value}"


def is_entry(atom: str) -> bool:
    return atom.startswith(_KV)


def entry_parts(atom: str) -> Tuple[str, str]:
    name, value = atom[3:].split("=", 1)
    return name, value


def is_entry_of(atom: str, name: str) -> bool:
    return atom.startswith(f"{_KV}{name}=")


# -- tags ------------------------------------------------------------------------------------------------
_T = "t:"
OTHER = "t:other"
CONST = "t:const"
TRUE = "t:true"
FALSE = "t:false"
NONE = "t:none"
DICT = "t:dict"
RNG_CTOR = "t:rng_ctor"
RNG_DEFAULT = "t:rng_default"
TORCH_SEED = "t:torch_seed"
WORKER_SEED = "t:worker_seed"
WORKER_ID = "t:worker_id"
WORKER_INFO = "t:worker_info"
WORKER_DATASET = "t:worker_dataset"
TORCH_DRAW = "t:torch_draw"
ENTROPY = "t:entropy"
GET_STATE = "t:get_state"
INDEX = "t:index"
CPU = "t:cpu"
CLOCK = "t:clock"        # time.time(), datetime.now(): differs per epoch, collides across workers
RNG_TAGS = (RNG_CTOR, RNG_DEFAULT)
# what a seed can derive from: the judgement reads these through arithmetic and calls
SEED_SOURCES = frozenset({TORCH_SEED, WORKER_SEED, TORCH_DRAW, ENTROPY, WORKER_ID, GET_STATE, INDEX})
# tags that describe a container or an RNG, not a value an attribute or call of it passes on
STRUCTURAL = frozenset({RNG_CTOR, RNG_DEFAULT, DICT})
_INT = "t:int:"


def integer(n: int) -> str:
    return f"{_INT}{n}"


def is_integer(atom: str) -> bool:
    return atom.startswith(_INT)


def integer_value(atom: str) -> int:
    return int(atom[6:])


def is_tag(atom: str) -> bool:
    return atom.startswith(_T)


def worker_info_attr(name: str) -> str:
    """``get_worker_info().name``."""
    return {"seed": WORKER_SEED, "id": WORKER_ID, "dataset": WORKER_DATASET}.get(name, OTHER)


# -- seeds of RNG constructors ---------------------------------------------------------------------------
_SEED = "s!"


def seeded_with(atom: str) -> str:
    """An RNG constructor's seed was ``atom``."""
    return _SEED + atom


def is_seed(atom: str) -> bool:
    return atom.startswith(_SEED)


def seed_atom(atom: str) -> str:
    return atom[2:]


def is_plain(atom: str) -> bool:
    """A value as such: a tag, a key, a dict entry, a constructor seed or a construction site, which
    expansion leaves alone."""
    return atom.startswith((_T, _ARG, _KEY, _KV, _SEED, _SITE))


# -- construction sites ----------------------------------------------------------------------------------
_SITE = "c!"


def site(module: str, line: int, col: int) -> str:
    """The call at module:line:col that built this value (``Flips(augment=False)``): lets a loader be
    judged with the arguments its own dataset was built with."""
    return f"{_SITE}{module}:{line}:{col}"


def is_site(atom: str) -> bool:
    return atom.startswith(_SITE)


def site_parts(atom: str) -> Tuple[str, int, int]:
    module, line, col = atom[2:].rsplit(":", 2)
    return module, int(line), int(col)


# -- after linking ---------------------------------------------------------------------------------------
_RNG = "rng:"


def rng_attr(name: str) -> str:
    """The RNG object held in attribute ``name``."""
    return f"{_RNG}attr:{name}"


def rng_variable(qualname: str) -> str:
    """The RNG object held in module variable ``qualname``."""
    return f"{_RNG}q:{qualname}"


def is_rng(atom: str) -> bool:
    return atom.startswith(_RNG)


def rng_identity(atom: str) -> str:
    return atom[4:]


# -- dataset keys of the judgement ----------------------------------------------------------------------
_LIB, _LOADER = "lib:", "loader:"


def library_dataset(name: str) -> str:
    return _LIB + name


def is_library_dataset(atom: str) -> bool:
    return atom.startswith(_LIB)


def loader_key(n: int) -> str:
    """Whatever the n-th loader of the repository loads."""
    return f"{_LOADER}{n}"


def is_loader_key(atom: str) -> bool:
    return atom.startswith(_LOADER)


def loader_index(atom: str) -> int:
    return int(atom[7:])


def names_of(atoms: Iterable[str]) -> set:
    """The qualified names among ``atoms``."""
    return {a[2:] for a in atoms if a.startswith(_Q)}


def instances_of(atoms: Iterable[str]) -> set:
    """The classes of the instances among ``atoms``."""
    return {a[4:] for a in atoms if a.startswith("i:q:")}


def seeds_of(atoms: Iterable[str]) -> list:
    """The seeds of RNG constructors among ``atoms``."""
    return [seed_atom(a) for a in atoms if is_seed(a)]


_EMBEDDED = re.compile(r"q:([\w.]+)")


def embedded_names(atom: str) -> list:
    """Every qualified name inside an atom, however deep (``i:i:q:datasets.load_dataset#shuffle``)."""
    return _EMBEDDED.findall(atom)


def description(atom: str) -> str:
    """The last part of an atom, as evidence text names it (``unresolved num_workers``)."""
    return atom.rsplit(":", 1)[-1]


def optional_qual_name(atom: str) -> Optional[str]:
    return atom[2:] if atom.startswith(_Q) else None
