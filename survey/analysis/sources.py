"""A repository on disk as the analysis sees it: its Python files, read safely, and their facts on demand.

Crawled code is data: files are read as bytes, never imported. Files that cannot be analysed (binary, huge,
undecodable, Python 2, syntax errors) become ``FileError`` records with the reason; the rest still count.
"""
from __future__ import annotations

import bisect
import hashlib
import io
import os
import re
import stat
import time
import tokenize
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterator, List, Optional, Set, Tuple

from .facts import extract, module_name
from .model import FileError, FileFacts
from .newer import downlevel

MAX_FILE_BYTES = 1_000_000  # CPython's tree of 1 MB of dense code is ~170 MB; 2 MB would be ~340 MB
SKIP_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "env",
                       "site-packages", ".tox", ".eggs", "build", "dist", ".mypy_cache", ".pytest_cache"})

# Files are parsed first when they may define a Dataset or build a loader: they hold one of these tokens, a
# class whose bases say Dataset or DataLoader (or name such a class of the repository or an alias of
# Dataset, transitively) or they use a library's ``datasets`` module. Other files are parsed only if the
# linking step reaches them (a helper called from a Dataset, a base class, a transform, the class a loader
# is handed). "dataset" in prose, paths and variable names, in most files of an ML repository, is not
# enough; nor is a ``__getitem__``: a class without a Dataset base is judged only as what a loader loads,
# which linking parses (the token made 5% of the parsed bytes of real repositories, containers and configs).
PREFILTER = (b"DataLoader", b"seed_everything")
BYTES_KEPT = 64_000_000
# Bytes of files beyond BYTES_KEPT kept once they are read again (by a call-site lookup, the import graph,
# a reachability test): the 93 MB corpus of copied projects re-read 287,000 files from disk for 184 lookups
# (the holders of common names), which cost more than its parsing. Filled until full, not least-recently-used: lookups walk the files in path
# order, which would evict every file just before it is asked for again.
BYTES_REREAD = 32_000_000
# Source bytes whose syntax trees a repository holds at once (a tree takes 40 to 80 times its source, the
# evaluator's caches more): beyond it the oldest file's bodies are all worked out and its tree let go. At
# 2 MB a repository of thirty 1 MB files of dense code peaks at 457 MB (1 MB: 384 MB, but 141 files of 74
# real repositories worked out in full instead of 38).
TREE_BYTES = 2_000_000
# A call-site lookup searches all the kept bytes of a repository for a name: after this many searches, the
# words of the kept bytes are indexed once instead. The index costs about 23 searches (0.19 s for the 11 MB
# ProLing1994/demo keeps, which made 146 searches), but the repositories that search much are the large
# ones: over the 74 real repositories, weighting each search by the bytes it reads, indexing after 3
# searches costs 0.43 of searching always and 0.73 of indexing after 24. The index takes about 80 bytes per
# distinct word of each file (10 MB of files of distinct words: 87 MB), so it is built only for kept bytes
# up to WORD_INDEX_BYTES; above, each search reads the bytes again.
SEARCHES_BEFORE_INDEX = 3
WORD_INDEX_BYTES = 12_000_000
# Functions and classes parsed per repository at most: their facts (and what judging them builds) stay in
# memory while a repository is judged. PyTorch's own package needs about 6,000, an ML project a few hundred;
# a file of generated code can hold 15,000 in 1 MB.
PARSE_BUDGET = 40_000
# Wall time per repository for the scan and the parsing (the byte scan is linear; this bounds what a
# repository of many large files can cost), after which the verdict comes from what was done.
REPO_SECONDS = 300.0
# Patterns start with a literal, which Python's re searches for quickly; a leading \\b would make it try
# every position (five times slower than the byte scan they refine).
_CLASS_HEAD = re.compile(rb"class[ \t]+(\w+)[ \t]*\(")  # then bases up to ")"; also in prose: only costs a parse
_LIBRARY_DATASETS = re.compile(rb"datasets(?:\.[A-Za-z_]|[ \t]+(?:import|as)\b)|import[ \t]+datasets\b")
# whose dataset classes take a transform (OpenMMLab's take a pipeline of config dicts, which runs nothing of
# the repository's by itself: its files count when they subclass a dataset or say "transform")
_DATASET_LIBRARIES = (b"torchvision", b"torchaudio", b"torchtext", b"torch_geometric")
_TRANSFORM_KEYWORD = re.compile(rb"transform[ \t]*=")  # target_transform=, pre_transform= end so too
_DATASET_ALIAS = re.compile(rb"Dataset[ \t]+as[ \t]+(\w+)")
_IDENTIFIER = re.compile(rb"[A-Za-z_]\w*")
_WORD_BITS = 8191
_WORDS_ONLY = bytes(b if chr(b).isascii() and (chr(b).isalnum() or b == ord("_")) else ord(" ") for b in range(256))


def words_of(data: bytes) -> Set[bytes]:
    """The words of data as ``\\w+`` finds them in bytes (runs of ASCII letters, digits and _), found by
    translating every other byte to a space: twice as fast as findall."""
    return set(data.translate(_WORDS_ONLY).split())


def word_byte(byte: bytes) -> bool:
    """Whether a one-byte string (b"" at either end of the data) belongs to a word."""
    return byte.isalnum() or byte == b"_"


def holds_word(data: bytes, token: bytes, start: int = 0, end: Optional[int] = None) -> bool:
    """Whether data[start:end] holds token as a whole word (the bytes around it outside any word)."""
    end = len(data) if end is None else end
    pos = data.find(token, start, end)
    while pos >= 0:
        after = pos + len(token)
        if not word_byte(data[pos - 1:pos]) and not word_byte(data[after:after + 1]):
            return True
        pos = data.find(token, pos + 1, end)
    return False


def word_bits(data: bytes) -> int:
    """A one-hash Bloom filter of the words in data, 8,192 bits: about 6% false hits for 500 distinct words."""
    bits = 0
    for word in words_of(data):
        bits |= 1 << (hash(word) & _WORD_BITS)
    return bits


def iter_python_files(root: Path, errors: Optional[List["FileError"]] = None) -> Iterator[Path]:
    """The ``*.py`` entries below root, links left out; folders that cannot be listed go to ``errors``."""
    return (path for path, _ in _python_files(root, errors))


def _python_files(root: Path, errors: Optional[List["FileError"]]) -> Iterator[Tuple[Path, str]]:
    """(path, path relative to root with forward slashes) of each ``*.py`` entry below root: the relative
    path is put together per folder (Path.relative_to per file cost as much as the walk)."""
    def unreadable(exc: OSError) -> None:
        if errors is not None:
            where = display(os.path.relpath(exc.filename, root)) if exc.filename else "."
            errors.append(FileError(where, f"unreadable folder: {exc.strerror or exc}"))
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        folder = Path(dirpath)
        inside = os.path.relpath(dirpath, root).replace(os.sep, "/")
        prefix = "" if inside == "." else inside + "/"
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = folder / name
                if not path.is_symlink():
                    yield path, prefix + name


def display(rel: str) -> str:
    """A path as text that can be stored and printed: bytes of a name that is not UTF-8 (kept by Python
    as surrogates) are shown as escapes."""
    try:
        rel.encode("utf-8")
        return rel
    except UnicodeEncodeError:
        return os.fsencode(rel).decode("utf-8", "backslashreplace")


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes. A FIFO would block and a device never end,
    so the file is opened without blocking and without following a link, and checked before reading."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Skip("skipped: not a regular file")
        if st.st_size > limit:
            raise _Skip(f"skipped: {st.st_size} bytes is over the {limit}-byte limit")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:  # it grew while being read
        raise _Skip(f"skipped: over the {limit}-byte limit")
    return data


class _Skip(Exception):
    pass


def encoding(data: bytes) -> str:
    """The file's encoding by PEP 263 (a coding cookie or a BOM, else UTF-8); raises SyntaxError."""
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError as exc:
        # A cookie naming a codec Python does not know (``future_fstrings``, a popular backport, registers
        # its own at import time): such files are UTF-8 with a preprocessing step, so read them as UTF-8.
        if "unknown encoding" in str(exc):
            return "utf-8"
        raise


def decode(data: bytes) -> str:
    """Source text honouring PEP 263 coding cookies; raises UnicodeDecodeError or SyntaxError."""
    return data.decode(encoding(data))


def _python2_hint(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("print ") and not stripped.startswith("print (") or stripped.startswith("exec ") \
                or "except " in stripped and ", " in stripped and stripped.endswith(":") and " as " not in stripped:
            return " (looks like Python 2)"
    return ""


def class_lines(data: bytes) -> List[Tuple[bytes, bytes]]:
    """(name, bases) of every ``class Name(bases)`` head, as ``_CLASS_LINE.findall`` finds them, in linear
    time: the regular expression rescans to the next ")" from every "class", which is quadratic on a file
    of unclosed heads (1 MB of "class a(" took 814 s). Here each byte is scanned for ")" at most once."""
    out = []
    end = 0
    for m in _CLASS_HEAD.finditer(data):
        if m.start() < end:
            continue  # inside the bases of the previous head, as findall's scan would be
        close = data.find(b")", m.end())
        if close < 0:
            break  # no ")" after this head, so none after any later head either
        out.append((m.group(1), data[m.end():close]))
        end = close + 1
    return out


def _dataset_classes(heads) -> Tuple[Set[bytes], Set[bytes]]:
    """Names of classes whose bases say Dataset or DataLoader or name such a class, by class line alone;
    and those of them that may be loaders (their calls are loader calls in files that never say DataLoader).

    A closure over the graph "base word -> classes naming it", so a long chain of class lines costs linear
    time (a fixpoint rescanning every line per new name was quadratic)."""
    lines = [(name, bases, words_of(bases)) for file_lines in heads for name, bases in file_lines]
    naming: Dict[bytes, List[int]] = {}
    for i, (_, _, words) in enumerate(lines):
        for w in words:
            naming.setdefault(w, []).append(i)

    def closure(seeds: List[int]) -> Set[bytes]:
        found: Set[bytes] = set()
        todo = list(seeds)
        while todo:
            name = lines[todo.pop()][0]
            if name not in found:
                found.add(name)
                todo.extend(naming.get(name, ()))
        return found
    loaders = closure([i for i, (_, bases, _) in enumerate(lines) if b"DataLoader" in bases])
    names = closure([i for i, (name, bases, _) in enumerate(lines) if b"ataset" in bases or name in loaders])
    return names, loaders


def _may_build_library_dataset(data: bytes) -> bool:
    """A file that uses a ``datasets`` module and may hand a library dataset a transform: it names a
    library whose dataset classes take one, or passes a transform by keyword (``transform=``; not
    "transformers", which Hugging Face code imports beside its datasets). Most files that say
    ``datasets.`` or ``from datasets import`` are a repository importing its own package, Hugging Face
    datasets, or a config naming modules in strings (mmseg's custom_imports): 41% of those bytes in the
    real repositories, parsed for nothing."""
    return b"datasets" in data and (any(lib in data for lib in _DATASET_LIBRARIES) or b"transform" in data
                                    and _TRANSFORM_KEYWORD.search(data) is not None) \
        and _LIBRARY_DATASETS.search(data) is not None


def _holds_word(data: bytes, words: Set[bytes]) -> bool:
    # the substring test first: splitting every file of a repository into words costs more than its scan
    return any(w in data for w in words) and bool(words & words_of(data))


class FactsCache(OrderedDict):
    """Facts by file content (and path), least recently used dropped first: forks and vendored copies of a
    file are parsed once per process. Bounded by the source bytes behind the entries (facts take 3 to 15
    times their source), so memory stays bounded whatever passes through."""

    def __init__(self, max_bytes: int = 8_000_000):
        super().__init__()
        self.max_bytes = max_bytes
        self.size = 0
        self._sizes: Dict[str, int] = {}

    def __getitem__(self, key):
        value = super().__getitem__(key)
        self.move_to_end(key)
        return value

    def put(self, key: str, value, size: int) -> None:
        if key in self or size > self.max_bytes:
            return
        super().__setitem__(key, value)
        self._sizes[key] = size
        self.size += size
        while self.size > self.max_bytes:
            old, _ = self.popitem(last=False)
            self.size -= self._sizes.pop(old)


SHARED_CACHE = FactsCache()


class RepoFiles:
    """The Python files of one repository, with facts computed once per file and only when asked."""

    def __init__(self, root: Path, cache: Optional[Dict[str, FileFacts]] = None):
        self.root = Path(root)
        self.paths: Dict[str, Path] = {}
        self.rels: Dict[str, str] = {}
        self.errors: List[FileError] = []
        if not self.root.is_dir():
            self.errors.append(FileError(".", "missing: the source folder does not exist"))
        for path, rel in _python_files(self.root, self.errors) if self.root.is_dir() else ():
            rel = display(rel)
            module = module_name(rel)
            self.paths[module] = path
            self.rels[module] = rel
        self._facts: Dict[str, Optional[FileFacts]] = {}
        self.deadline = time.monotonic() + REPO_SECONDS
        self.out_of_time = False
        self.mentions_torch = False
        self.worker_modules: List[str] = []
        self.cache = cache if cache is not None else SHARED_CACHE
        # bytes of unparsed files kept from the scan for call-site lookups, up to a budget per repository
        self._bytes: Dict[str, bytes] = {}
        self._bytes_budget = BYTES_KEPT
        self._unkept: List[str] = []       # readable files over that budget
        # per unkept file, a bitmap of the words it holds: a lookup reads again only the files that may hold
        # its name (a 93 MB repository of copied projects read 2.8 million files for 186 lookups)
        self._unkept_words: Dict[str, int] = {}
        self._reread: Dict[str, bytes] = {}
        self._reread_budget = BYTES_REREAD
        self._order: Optional[Dict[str, int]] = None
        self._blob: Optional[bytes] = None  # the kept bytes in one string, once a search needs them
        self._starts: List[int] = []
        self._spans: Dict[str, Tuple[int, int]] = {}
        self._blob_modules: List[str] = []
        self._held: Dict[bytes, List[str]] = {}
        self._searches = 0
        self._words: Optional[List[Tuple[str, Set[bytes]]]] = None  # each kept module's words, once built
        self._parsed_units = 0
        self.over_budget = False
        # parsed files whose syntax trees are held for the bodies not worked out yet: (cache key, bytes)
        self._held_trees: Dict[str, Tuple[str, int]] = {}
        self._tree_bytes = 0

    def is_loaded(self, module: str) -> bool:
        return module in self._facts

    def unloaded(self) -> List[str]:
        return [m for m in self.paths if m not in self._facts]

    def read(self, module: str) -> Optional[bytes]:
        """A file's bytes without recording errors (they are recorded if it is ever parsed)."""
        data = self._kept(module)
        return data if data is not None else self._read_again(module)

    def _kept(self, module: str) -> Optional[bytes]:
        if self._blob is None:
            return self._bytes.get(module)
        span = self._spans.get(module)
        return self._blob[span[0]:span[1]] if span is not None else None

    def containing(self, token: bytes, test=None, limit: int = 0) -> List[str]:
        """Unparsed modules whose bytes contain ``token`` (and pass ``test``, given the bytes), in path
        order, at most ``limit`` (0: all). One search over all kept bytes, instead of a test per file:
        call-site lookups ask for hundreds of names in a large repository. An identifier counts only as a
        whole word, in kept bytes and beyond, which every caller's test requires anyway (a call ``name(``,
        an import of ``name``, an option key)."""
        if self._blob is None:
            self._pack()
        blob = self._blob
        kept = [m for m in self._holding(token) if m not in self._facts]
        unkept: List[str] = []
        if self._unkept:
            bit = 1 << (hash(token) & _WORD_BITS) if _IDENTIFIER.fullmatch(token) else 0
            # names are looked up as whole words (calls, imports, option keys): the bitmap rules files out
            unkept = [m for m in self._unkept if m not in self._facts
                      and not (bit and not self._unkept_words.get(m, bit) & bit)]
            if unkept:
                if self._order is None:
                    self._order = {m: i for i, m in enumerate(self.paths)}
                kept = sorted(kept + unkept, key=self._order.__getitem__)  # both in path order: a merge
        unkept_set = set(unkept)
        found = []
        for module in kept:
            if module in unkept_set:
                data = self._read_again(module)
                if data is None or token not in data:
                    continue
            else:
                start, end = self._spans[module]
                data = blob[start:end] if test is not None else None
            if test is None or test(data):
                found.append(module)
                if limit and len(found) >= limit:
                    break  # in path order, so the first ``limit`` are the answer
        return found

    def _read_again(self, module: str) -> Optional[bytes]:
        """A file's bytes read again without recording errors, kept within BYTES_REREAD."""
        data = self._reread.get(module)
        if data is None:
            data = self._read(module, record=False)
            if data is not None and len(data) <= self._reread_budget:
                self._reread[module] = data
                self._reread_budget -= len(data)
        return data

    def _holding(self, token: bytes) -> List[str]:
        """The kept modules whose bytes contain token (an identifier: as a whole word), in path order; kept,
        since lookups repeat names."""
        hit = self._held.get(token)
        word = _IDENTIFIER.fullmatch(token) is not None
        if hit is None and word and len(self._blob) <= WORD_INDEX_BYTES:
            self._searches += 1
            if self._words is None and self._searches > SEARCHES_BEFORE_INDEX:
                self._index_words()
            if self._words is not None:
                hit = self._held[token] = [module for module, words in self._words if token in words]
        if hit is None:
            blob, starts, modules = self._blob, self._starts, self._blob_modules
            hit = []
            pos = blob.find(token)
            while pos >= 0:
                module = modules[bisect.bisect_right(starts, pos) - 1]
                end = self._spans[module][1]
                # the module holds the bytes; as a word?
                if not word or holds_word(blob, token, pos, end):
                    hit.append(module)
                pos = blob.find(token, end)
            self._held[token] = hit
        return hit

    def _index_words(self) -> None:
        # a set per module, asked in turn (a thousand set lookups per name), costs a third of a word -> modules
        # table, whose building touches every word of every module in Python. Modules parsed already are left
        # out: lookups are for modules not parsed yet (``containing``), and a parsed module stays parsed.
        blob, spans, parsed = self._blob, self._spans, self._facts
        self._words = [(m, words_of(blob[spans[m][0]:spans[m][1]])) for m in self._blob_modules if m not in parsed]

    def _pack(self) -> None:
        """The kept bytes joined by NUL (which no kept file holds, so no match spans two files)."""
        parts, offset = [], 0
        for module, data in self._bytes.items():
            self._starts.append(offset)
            self._blob_modules.append(module)
            self._spans[module] = (offset, offset + len(data))
            parts.append(data)
            offset += len(data) + 1
        self._blob = b"\0".join(parts)
        self._bytes = {}

    def _read(self, module: str, record: bool = True) -> Optional[bytes]:
        path = self.paths[module]
        rel = self.rels[module]
        errors = self.errors if record else []
        try:
            data = read_regular(path, MAX_FILE_BYTES)
        except _Skip as exc:
            errors.append(FileError(rel, str(exc)))
            return None
        except OSError as exc:
            errors.append(FileError(rel, f"unreadable: {exc.strerror or exc}"))
            return None
        if b"\0" in data:
            errors.append(FileError(rel, "skipped: binary content (NUL bytes)"))
            return None
        return data

    def scan(self) -> List[str]:
        """Reads every file once, as bytes: returns the modules to parse first (those that can hold a
        Dataset, a loader or a Lightning worker seed) and notes which mention torch and workers."""
        seeds = []
        heads: Dict[str, List[tuple]] = {}
        for module in self.paths:
            if self._timed_out():
                self._facts[module] = None
                continue
            data = self._read(module)
            if data is None:
                self._facts[module] = None
                continue
            if len(data) <= self._bytes_budget:
                self._bytes[module] = data
                self._bytes_budget -= len(data)
            else:
                self._unkept.append(module)
                self._unkept_words[module] = word_bits(data)
            if b"torch" in data:
                self.mentions_torch = True
            if b"worker" in data:
                self.worker_modules.append(module)
            if any(token in data for token in PREFILTER) or _may_build_library_dataset(data):
                seeds.append(module)
            if b"class" in data:
                heads[module] = class_lines(data)
                if b"Dataset" in data and b" as " in data:  # import Dataset as Base; class X(Base)
                    heads[module] += [(alias, b"Dataset") for alias in _DATASET_ALIAS.findall(data)]
        names, loaders = _dataset_classes(heads.values())
        chosen = set(seeds)
        for module in self.paths:
            if module in chosen or self._facts.get(module, True) is None:
                continue
            if any(name in names for name, _ in heads.get(module, ())) \
                    or loaders and _holds_word(self.read(module) or b"", loaders):
                seeds.append(module)
        return seeds

    def facts(self, module: str) -> Optional[FileFacts]:
        if module in self._facts:
            return self._facts[module]
        if self._timed_out():
            self._facts[module] = None
            return None
        if self._parsed_units >= PARSE_BUDGET:
            if not self.over_budget:
                self.errors.append(FileError(".", f"parsing stopped after {PARSE_BUDGET} functions and classes; "
                                                  "the verdict comes from what was parsed"))
            self.over_budget = True
            self._facts[module] = None
            return None
        data = (self._bytes.pop(module, None) if self._blob is None else self._kept(module)) \
            or self._reread.pop(module, None) or self._read(module)
        result = None if data is None else self._parse(module, data)
        if result is not None:
            self._parsed_units += len(result.functions) + len(result.classes)
        self._facts[module] = result
        return result

    def _timed_out(self) -> bool:
        if not self.out_of_time and time.monotonic() > self.deadline:
            self.out_of_time = True
            self.errors.append(FileError(".", f"analysis stopped after {REPO_SECONDS:.0f} s; "
                                              "the verdict comes from what was read and parsed"))
        return self.out_of_time

    def _parse(self, module: str, data: bytes) -> Optional[FileFacts]:
        rel = self.rels[module]
        key = hashlib.blake2b(data + rel.encode(), digest_size=16).hexdigest()
        if key in self.cache:
            return self.cache[key]
        try:
            text = decode(data)
        except (UnicodeDecodeError, SyntaxError, LookupError) as exc:
            self.errors.append(FileError(rel, f"undecodable: {exc}"))
            return None
        try:
            try:
                result = extract(text, rel)
            except SyntaxError as exc:
                newer = downlevel(text, exc)  # code for a newer Python than this one
                if newer is None:
                    raise
                result = extract(newer, rel)
        except SyntaxError as exc:
            line = exc.lineno or 1
            self.errors.append(FileError(rel, f"syntax error at line {line}{_python2_hint(text)}: {exc.msg}", line))
            return None
        except (RecursionError, MemoryError):
            self.errors.append(FileError(rel, "skipped: nesting too deep to parse"))
            return None
        except ValueError as exc:
            self.errors.append(FileError(rel, f"skipped: {exc}"))
            return None
        self._held_trees[module] = (key, len(data))
        self._tree_bytes += len(data)
        while self._tree_bytes > TREE_BYTES and len(self._held_trees) > 1:
            # the oldest first: the files parsed first (the seeds) are the ones linking has read most
            oldest = next(iter(self._held_trees))
            self._let_go(oldest, release=True)
        return result

    def _let_go(self, module: str, release: bool) -> None:
        """Drops a parsed file's syntax tree (``release``: working out its bodies first) and caches its facts
        if they are complete."""
        key, size = self._held_trees.pop(module)
        self._tree_bytes -= size
        facts = self._facts.get(module)
        if facts is None:
            return
        if release:
            facts.calls.release()
        else:
            facts.calls.drop()
        if facts.calls.complete:
            self.cache.put(key, facts, size)

    def close(self) -> None:
        """The repository is judged: the facts whose bodies were all worked out are cached, the syntax trees
        let go (a body never worked out is not worth working out for a copy that may never come)."""
        for module in list(self._held_trees):
            self._let_go(module, release=False)

    @property
    def parsed(self) -> int:
        return sum(1 for f in self._facts.values() if f is not None)

    def loaded(self) -> List[FileFacts]:
        return [f for f in self._facts.values() if f is not None]
