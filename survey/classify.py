"""One repository in, one verdict out: facts, linking, judgement, torch pins."""
from __future__ import annotations

import gc
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Dict, Iterator, List, Optional

from .judge import judge_repo
from .link import RESOLUTION_BUDGET, Index
from .model import FileError, RepoVerdict
from .pins import find_pins, torch_era
from .sources import FactsCache, RepoFiles, iter_python_files

# Flaws that replace PyTorch's own per-worker NumPy seeding, so they show on every torch version.
_GC_THRESHOLD = 50_000
_OVERRIDING = ("SRV201", "SRV202", "SRV203", "SRV205", "SRV206")


def effective(verdict: str, rng_kind: str, codes, era: str) -> str:
    """Whether the bug shows with the repository's torch: "yes", "no" or "unknown"."""
    if verdict not in ("affected", "flawed-seed"):
        return "no"
    if rng_kind in ("instance", "both") or any(c in _OVERRIDING for c in codes):
        return "yes"
    return {"old": "yes", "new": "no"}.get(era, "unknown")


def classify_repo(root: Path, name: Optional[str] = None, cache: Optional[FactsCache] = None) -> RepoVerdict:
    root = Path(root)
    repo = RepoFiles(root, cache)
    seeds = repo.scan()
    if repo.mentions_torch:
        for module in seeds:
            repo.facts(module)
        index = Index(repo)
        verdict, rng_kind, findings = judge_repo(index)
        if index.exhausted:
            repo.errors.append(FileError(".", f"linking stopped after {RESOLUTION_BUDGET} name resolutions; "
                                              "the verdict comes from what was linked"))
    else:
        # Every torch Dataset and DataLoader is reached through a name with "torch" in it: no file says
        # "torch", so nothing needs parsing.
        verdict, rng_kind, findings = "no-dataset", "", []
    pins = find_pins(root)
    codes = {f.code for f in findings if f.verdict == verdict}
    errors = tuple(sorted(set(repo.errors), key=lambda e: e.path))
    return RepoVerdict(
        repo=name or root.resolve().name,
        verdict=verdict,
        rng_kind=rng_kind,
        torch_pin="; ".join(dict.fromkeys(spec for _, spec in pins)),
        effective=effective(verdict, rng_kind, codes, torch_era(pins)),
        findings=tuple(findings),
        errors=errors,
        files=len(repo.paths),
        parsed=repo.parsed,
    )


def _classify_item(item):
    """The unit of work of every executor (in process, pool worker, Dask worker)."""
    # The analysis makes many short-lived, acyclic objects while the facts cache holds many long-lived
    # ones; at the default threshold the cyclic collector rescans that cache so often that it costs a
    # third of the run (site-packages: 23.7 s -> 15.0 s CPU). Refcounting frees nearly all of it anyway.
    if gc.get_threshold()[0] < _GC_THRESHOLD:
        gc.set_threshold(_GC_THRESHOLD, 50, 100)
    path, name = item
    return classify_repo(Path(path), name)


def classify_many(items, jobs: int = 1, scheduler: Optional[str] = None, ordered: bool = True) -> Iterator[RepoVerdict]:
    """Verdicts for (path, name) items, streamed: on one core, a process pool, or a Dask cluster.

    In parallel the largest repositories start first, so one big repository at the end of the list does not
    leave the other cores idle; ``ordered`` yields in the items' order (for stdout), otherwise as each
    finishes (for the catalog, which holds nothing back). Workers only analyse; the caller writes results.
    """
    items = list(items)
    if scheduler:
        from .cluster import classify_on_cluster
        yield from classify_on_cluster(items, scheduler, largest_first(items), ordered)
    elif jobs <= 1 or len(items) <= 1:
        for item in items:
            yield _classify_item(item)
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = {i: pool.submit(_classify_item, items[i]) for i in largest_first(items)}
            for future in arrival(futures, ordered, as_completed):
                yield future.result()


def arrival(by_index: Dict[int, object], ordered: bool, as_completed) -> Iterator:
    """The futures of items 0..n-1 in the items' order, or as they complete (``as_completed`` of the pool)."""
    if not ordered:
        return as_completed(by_index.values())
    return (by_index.pop(i) for i in range(len(by_index)))


def largest_first(items) -> List[int]:
    """Indices of the items by the size of their Python code, largest first (a walk and a stat per file)."""
    sizes = []
    for i, (path, _) in enumerate(items):
        total = 0
        for file in iter_python_files(Path(path)):
            try:
                total += file.stat().st_size
            except OSError:
                pass
        sizes.append((-total, i))
    return [i for _, i in sorted(sizes)]


__all__ = ["classify_repo", "classify_many", "effective", "FileError"]


def without_noqa(findings, root: Path):
    """Findings not silenced by a ``# noqa`` or ``# noqa: SRVnnn`` comment on their line."""
    from .facts import noqa_lines
    from .sources import decode
    cache: Dict[str, dict] = {}
    out = []
    for f in findings:
        if f.path not in cache:
            try:
                cache[f.path] = dict(noqa_lines(decode((Path(root) / f.path).read_bytes())))
            except (OSError, SyntaxError, UnicodeDecodeError):
                cache[f.path] = {}
        codes = cache[f.path].get(f.line)
        if codes is None or (codes and f.code not in codes.split(",")):
            out.append(f)
    return out
