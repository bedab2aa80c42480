"""``survey check --fix``: gives each flagged DataLoader a per-worker NumPy reseed.

The analysis reads CPython's tree, which cannot be written back; the rewrite uses libcst, whose tree keeps
every comment, blank line and parenthesis, so a fixed file differs from the original only where the fix
is. Fixed: DataLoader calls whose dataset draws from NumPy's global RNG with no ``worker_init_fn`` (or
``worker_init_fn=None``) and no ``**kwargs`` that might hold one (SRV101).
An RNG object (SRV102) or a flawed reseed (SRV2xx) needs a decision about the code that owns it, so those
stay findings for a person to fix.
"""
from __future__ import annotations

import difflib
import sys
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Set, Tuple

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from ..analysis.model import Finding
from ..analysis.sources import decode, encoding, iter_python_files

HELPER = "seed_numpy_worker"
_HELPER_CODE = f'''def {HELPER}(worker_id):
    """Reseeds NumPy in each DataLoader worker from torch's seed, which differs per worker and per epoch."""
    import numpy
    import torch

    numpy.random.seed(torch.initial_seed() % 2 ** 32)
'''
FIXABLE = ("SRV101",)


@dataclass(frozen=True)
class FileFix:
    path: str
    before: str
    after: str
    loaders: int
    encoding: str = "utf-8"

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.before.splitlines(True), self.after.splitlines(True),
                                            f"a/{self.path}", f"b/{self.path}"))


def loader_lines(findings: Iterable[Finding]) -> Dict[str, Set[int]]:
    """Files and lines of the loaders to fix, from the findings' loader evidence ("path:line: text")."""
    out: Dict[str, Set[int]] = {}
    for f in findings:
        if f.code not in FIXABLE or f.worker_init_fn or not f.loader:
            continue
        path, _, rest = f.loader.partition(":")
        line = rest.partition(":")[0]
        if path and line.isdigit():
            out.setdefault(path, set()).add(int(line))
    return out


def plan(root: Path, findings: Iterable[Finding]) -> List[FileFix]:
    """The rewrites that fix what can be fixed; files are only read here."""
    fixes = []
    for path, lines in sorted(loader_lines(findings).items()):
        data = (Path(root) / path).read_bytes()
        enc = encoding(data)
        before = data.decode(enc)
        try:
            after, count = fix_source(before, lines)
        except (RecursionError, MemoryError):  # libcst recurses per nesting level; the walk of check does not
            print(f"survey: {path}: not fixed: nested too deeply for the rewrite; fix it by hand", file=sys.stderr)
            continue
        if count:
            fixes.append(FileFix(path, before, after, count, enc))
    return fixes


def plan_all(root: Path, findings_of: Callable[[Path], List[Finding]], rounds: int = 10) -> List[FileFix]:
    """Fixes for every flagged loader. A finding names one loader of its dataset, so fixing those can bring
    the next loader of the same dataset to light: the fixes are applied to a copy of the repository's Python
    files, round after round, until nothing is left to fix; the repository itself is not written."""
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="survey-fix-") as tmp:
        work = Path(tmp)
        originals: Dict[str, FileFix] = {}  # each file's first fix: its text before any
        for path in iter_python_files(root):
            if not path.is_file():  # a FIFO or a device named *.py: copying it would block or never end
                continue
            rel = path.relative_to(root).as_posix()
            (work / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, work / rel)
        counts: Dict[str, int] = {}
        for _ in range(rounds):
            fixes = plan(work, findings_of(work))
            if not fixes:
                break
            for fix in fixes:
                originals.setdefault(fix.path, fix)
                counts[fix.path] = counts.get(fix.path, 0) + fix.loaders
            apply(work, fixes)
        return [replace(first, after=decode((work / rel).read_bytes()), loaders=counts[rel])
                for rel, first in sorted(originals.items())]


def apply(root: Path, fixes: Iterable[FileFix]) -> None:
    """Writes the fixed files in their own encoding and line endings (libcst keeps both in the code)."""
    for fix in fixes:
        (Path(root) / fix.path).write_bytes(fix.after.encode(fix.encoding))


def fix_source(source: str, lines: Set[int]) -> Tuple[str, int]:
    """The source with ``worker_init_fn=seed_numpy_worker`` added to the DataLoader calls starting on these
    lines, and the helper defined once; and how many calls changed."""
    module = cst.parse_module(source)
    adder = _AddWorkerInit(lines)
    module = MetadataWrapper(module, unsafe_skip_copy=True).visit(adder)
    if not adder.changed:
        return source, 0
    if not _defines(module, HELPER):
        module = _with_helper(module)
    return module.code, adder.changed


class _AddWorkerInit(cst.CSTTransformer):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, lines: Set[int]):
        super().__init__()
        self.lines = lines
        self.changed = 0

    def leave_Call(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if self.get_metadata(PositionProvider, original).start.line not in self.lines:
            return updated
        if not _callee_name(original.func).endswith("DataLoader"):
            return updated  # a subclass may not pass worker_init_fn on
        if any(a.star for a in original.args):
            return updated  # **kwargs may already hold one
        given = [i for i, a in enumerate(updated.args) if a.keyword is not None and a.keyword.value == "worker_init_fn"]
        if given:
            arg = updated.args[given[0]]
            if not (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                return updated  # a reseed of its own: judged, not replaced
            self.changed += 1
            args = list(updated.args)
            args[given[0]] = arg.with_changes(value=cst.Name(HELPER))
            return updated.with_changes(args=args)
        self.changed += 1
        return updated.with_changes(args=_append_keyword(list(updated.args), "worker_init_fn", HELPER,
                                                         updated.whitespace_before_args))


def _append_keyword(args: List[cst.Arg], keyword: str, value: str, opening) -> List[cst.Arg]:
    new = cst.Arg(keyword=cst.Name(keyword), value=cst.Name(value),
                  equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                        whitespace_after=cst.SimpleWhitespace("")))
    if not args:
        return [new]
    last = args[-1]
    if isinstance(last.comma, cst.Comma):
        # one argument per line with a trailing comma: the new one goes on its own line, indented alike
        indent = args[-2].comma.whitespace_after if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) \
            else opening
        if isinstance(indent, cst.ParenthesizedWhitespace):  # the line break and indent, not its comment
            indent = indent.with_changes(first_line=cst.TrailingWhitespace(), empty_lines=[])
        new = new.with_changes(comma=last.comma)
        last = last.with_changes(comma=cst.Comma(whitespace_after=indent))
        return [*args[:-1], last, new]
    return [*args[:-1], last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))), new]


def _callee_name(node) -> str:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return ""


def _defines(module: cst.Module, name: str) -> bool:
    return any(isinstance(stmt, cst.FunctionDef) and stmt.name.value == name for stmt in module.body)


def _is_preamble(stmt) -> bool:
    """A docstring, ``from __future__`` or import line: what stays above the helper."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return False
    return all(isinstance(s, (cst.Import, cst.ImportFrom)) or isinstance(s, cst.Expr)
               and isinstance(s.value, (cst.SimpleString, cst.ConcatenatedString)) for s in stmt.body)


def _with_helper(module: cst.Module) -> cst.Module:
    """The helper goes before the first statement that is not a docstring or an import, so it is defined
    before any module-level code can build a loader."""
    body = list(module.body)
    at = 0
    while at < len(body) and _is_preamble(body[at]):
        at += 1
    blank = [cst.EmptyLine(), cst.EmptyLine()]
    helper = cst.parse_statement(_HELPER_CODE).with_changes(leading_lines=blank if at else [])
    if at < len(body):
        body[at] = body[at].with_changes(leading_lines=[*blank, *_comments(body[at].leading_lines)])
    return module.with_changes(body=[*body[:at], helper, *body[at:]])


def _comments(lines) -> List[cst.EmptyLine]:
    return [line for line in lines if line.comment is not None]
