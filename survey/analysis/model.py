"""Plain records passed between the analyser's stages: per-file facts, findings and verdicts.

Facts are frozen dataclasses of strings, ints and tuples, so they can be cached by content hash, sent to
another process and compared in tests. An *atom* is a string naming what an expression may be or derive
from (see ``facts.py`` for the vocabulary); sets of atoms are stored as sorted tuples.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Tuple

Atoms = Tuple[str, ...]


@dataclass(frozen=True)
class Draw:
    """A call that draws from a NumPy RNG."""
    line: int
    col: int
    text: str
    kind: str          # "global" | "local" (RNG built in this function) | "object" (RNG from elsewhere)
    refs: Atoms = ()   # for "object": what the RNG object may be (self:rng, q:pkg.mod.rng, param:rng, ...)
    guards: Tuple[str, ...] = ()  # enclosing tests of self attributes: "augment" (if self.augment:), "!test"


@dataclass(frozen=True)
class Call:
    line: int
    col: int
    callee: Atoms
    args: Tuple[Tuple[str, Atoms], ...]   # ("0", atoms) for positionals, ("name", atoms) for keywords
    guards: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Seed:
    """A reseed: of NumPy's global RNG, an RNG object, Python's random or torch."""
    line: int
    col: int
    text: str
    target: str        # "global" | "object" | "python" | "torch"
    source: Atoms      # what the seed value derives from
    refs: Atoms = ()   # for "object": which RNG object (self:rng, wds:rng, q:pkg.mod.rng)


class Function:
    """A function or method: its signature, and what its body draws, calls, seeds and returns.

    The body's facts are worked out when first read: in a parsed file most functions are never reached by
    the analysis (29% are, over 74 real repositories), and working out every one was a third of its time.
    ``body`` is then an object with ``body(scope, known_calls)`` -> (draws, calls, seeds, returns, digest)
    and ``call(scope, i)`` -> the body's call i (``analysis.evaluate.Evaluator``), and ``scope`` what it reads;
    both are dropped once the body is worked out, and with them what they hold of the syntax tree. Compared
    and hashed by identity: a function is one definition in one parsed file."""

    __slots__ = ("qualname", "name", "cls", "params", "line", "is_static", "_body", "_scope", "_facts", "_some")

    def __init__(self, qualname: str, name: str, cls: str, params: Tuple[str, ...], line: int,
                 draws: Tuple[Draw, ...] = (), calls: Tuple[Call, ...] = (), seeds: Tuple[Seed, ...] = (),
                 returns: Atoms = (), is_static: bool = False, digest: str = "", body=None, scope=None):
        self.qualname = qualname
        self.name = name
        self.cls = cls              # qualname of the enclosing class for methods, else ""
        self.params = params
        self.line = line
        self.is_static = is_static
        self._body = body
        self._scope = scope
        # digest: of the normalised code, for per-sample methods and __call__ (near-duplicate detection)
        self._facts = None if body is not None else (draws, calls, seeds, returns, digest)
        self._some = None  # calls worked out one by one before the body: {index: Call}

    def _body_facts(self):
        if self._facts is None:
            self._facts = self._body.body(self._scope, self._some or {})
            self._body = self._scope = self._some = None
        return self._facts

    def call(self, i: int) -> Call:
        """The body's call i (in source order), worked out alone if the body is not: a caller looked up by
        name needs only its call."""
        if self._facts is not None:
            return self._facts[1][i]
        if self._some is None:
            self._some = {}
        hit = self._some.get(i)
        if hit is None:
            hit = self._some[i] = self._body.call(self._scope, i)
        return hit

    @property
    def materialised(self) -> bool:
        return self._facts is not None

    draws = property(lambda self: self._body_facts()[0])
    calls = property(lambda self: self._body_facts()[1])
    seeds = property(lambda self: self._body_facts()[2])
    returns = property(lambda self: self._body_facts()[3])
    digest = property(lambda self: self._body_facts()[4])

    def __repr__(self) -> str:
        return f"Function({self.qualname!r}, line {self.line})"


@dataclass(frozen=True)
class AttrSet:
    """An assignment to an attribute of self (or a class-body name): where, and what it may hold."""
    attr: str
    method: str        # the assigning method's name, or "<class>" for the class body
    atoms: Atoms
    line: int


class Klass:
    """A class: its bases, the names its body defines, and the attributes it and its methods assign.

    ``attrs`` are worked out when first read (``work``, a callable, is then dropped), as function bodies
    are: most classes of a parsed file are never looked into. Compared and hashed by identity."""

    __slots__ = ("qualname", "name", "line", "bases", "methods", "_attrs", "_work")

    def __init__(self, qualname: str, name: str, line: int, bases: Atoms, methods: Tuple[str, ...],
                 attrs: Tuple[AttrSet, ...] = (), work=None):
        self.qualname = qualname
        self.name = name
        self.line = line
        self.bases = bases
        self.methods = methods
        self._attrs = None if work is not None else tuple(attrs)
        self._work = work

    @property
    def attrs(self) -> Tuple[AttrSet, ...]:
        if self._attrs is None:
            self._attrs = self._work()
            self._work = None
        return self._attrs

    @property
    def materialised(self) -> bool:
        return self._attrs is not None

    def __repr__(self) -> str:
        return f"Klass({self.qualname!r}, line {self.line})"


@dataclass(frozen=True)
class Loader:
    """A torch DataLoader construction and the arguments that decide worker randomness."""
    line: int
    col: int
    text: str
    scope: str         # qualname of the enclosing function (or the module's "<module>")
    cls: str           # enclosing class, for resolving self.attr arguments
    args: Tuple[Tuple[str, Atoms], ...]
    kwargs_unknown: bool = False


@dataclass(frozen=True)
class FileFacts:
    path: str          # repo-relative, with forward slashes
    module: str
    imports: Tuple[Tuple[str, str], ...] = ()     # module-level alias -> qualified name
    functions: Tuple[Function, ...] = ()
    classes: Tuple[Klass, ...] = ()
    variables: Tuple[Tuple[str, Atoms], ...] = ()  # module-level name -> atoms
    loaders: Tuple[Loader, ...] = ()
    options: Tuple[Tuple[str, Atoms], ...] = ()    # argparse dests, config keys and attributes about workers
    lightning_workers: Tuple[int, ...] = ()        # lines of seed_everything(..., workers=True)
    lightning_plain: Tuple[int, ...] = ()          # lines of seed_everything(...) that leave workers alone
    noqa: Tuple[Tuple[int, str], ...] = ()         # line -> "" (all codes) or "SRV101,SRV102"
    error: str = ""
    # the calls indexed by what they may call (analysis.calls.CallIndex); not part of what a file's facts are
    calls: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    col: int
    message: str
    verdict: str
    dataset: str = ""
    rng_call: str = ""
    rng_kind: str = ""
    loader: str = ""
    num_workers: str = ""
    worker_init_fn: str = ""
    seed: str = ""
    fingerprint: str = ""   # the dataset's per-sample code: equal across copies of the same code
    vendored: bool = False  # the draw and its loader are in a vendored third-party tree (analysis.vendored)
    in_tests: bool = False  # the loader (or, without one, the draw) is in test code (analysis.testcode)
    unreachable: bool = False  # the loader is built in a function nothing can call (analysis.reachable)
    # how the loader was paired with the dataset: "construction site" (judged with the arguments its dataset
    # was built with), "class" (traced to the class only), "untraced" (paired with every dataset)
    pairing: str = ""

    @property
    def counted_verdict(self) -> str:
        """The verdict this finding stands for in its repository's: an unreachable loader starts no worker,
        so the draws it would load count as single-process at most."""
        if self.unreachable and self.verdict in ("affected", "flawed-seed", "seeded"):
            return "single-process"
        return self.verdict

    def supports(self, verdict: str) -> bool:
        """Whether this finding is evidence for the repository verdict."""
        return self.counted_verdict == verdict


@dataclass(frozen=True)
class FileError:
    path: str
    reason: str
    line: int = 1


@dataclass(frozen=True)
class RepoVerdict:
    repo: str
    verdict: str
    rng_kind: str
    torch_pin: str
    effective: str
    findings: Tuple[Finding, ...] = ()
    errors: Tuple[FileError, ...] = ()
    files: int = 0
    parsed: int = 0
    vendored_counted: bool = False  # whether vendored findings take part in the verdict

    def row(self) -> dict:
        """The CSV row: the columns users and the catalog rely on, in order."""
        return {
            "repo": self.repo, "verdict": self.verdict, "rng_kind": self.rng_kind,
            "torch_pin": self.torch_pin, "effective": self.effective,
            "findings": sum(1 for f in self.findings if f.supports(self.verdict)
                            and (self.vendored_counted or not f.vendored) and not f.in_tests),
            "errors": len(self.errors),
        }


VERDICT_ORDER = ("affected", "flawed-seed", "seeded", "single-process", "clean", "no-dataset")


def worst(verdicts) -> str:
    present = set(verdicts)
    ranked = [v for v in VERDICT_ORDER if v in present]
    return ranked[0] if ranked else "no-dataset"


__all__ = ["Atoms", "Draw", "Call", "Seed", "Function", "AttrSet", "Klass", "Loader", "FileFacts", "Finding",
           "FileError", "RepoVerdict", "VERDICT_ORDER", "worst"]
