"""One repository in, one verdict out: facts, linking, judgement, torch pins."""
from __future__ import annotations

import gc
from pathlib import Path
from typing import Optional

from .judge import judge_repo
from .link import RESOLUTION_BUDGET, Index
from .model import FileError, RepoVerdict
from .pins import find_pins, torch_era
from .sources import FactsCache, RepoFiles
from .vendored import vendored_roots

_GC_THRESHOLD = 50_000
# Flaws that replace PyTorch's own per-worker NumPy seeding, so they show on every torch version.
_OVERRIDING = ("SRV201", "SRV202", "SRV203", "SRV205", "SRV206", "SRV207")


def effective(verdict: str, rng_kind: str, codes, era: str) -> str:
    """Whether the bug shows with the repository's torch: "yes", "no" or "unknown"."""
    if verdict not in ("affected", "flawed-seed"):
        return "no"
    if rng_kind in ("instance", "both") or any(c in _OVERRIDING for c in codes):
        return "yes"
    return {"old": "yes", "new": "no"}.get(era, "unknown")


def classify_repo(root: Path, name: Optional[str] = None, cache: Optional[FactsCache] = None,
                  count_vendored: bool = False) -> RepoVerdict:
    """One repository's verdict. Vendored third-party trees (``analysis.vendored``) are marked in the
    findings and left out of the verdict unless ``count_vendored``."""
    root = Path(root)
    repo = RepoFiles(root, cache)
    seeds = repo.scan()
    if repo.mentions_torch:
        for module in seeds:
            repo.facts(module)
        index = Index(repo)
        try:
            verdict, rng_kind, findings = judge_repo(index, vendored_roots(root), count_vendored)
        finally:
            repo.close()
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
        vendored_counted=count_vendored,
    )


def classify_item(item):
    """The unit of work of every executor (in process, pool worker, Dask worker)."""
    # The analysis makes many short-lived, acyclic objects while the facts cache holds many long-lived
    # ones; at the default threshold the cyclic collector rescans that cache so often that it costs a
    # third of the run (site-packages: 23.7 s -> 15.0 s CPU). Refcounting frees nearly all of it anyway.
    if gc.get_threshold()[0] < _GC_THRESHOLD:
        gc.set_threshold(_GC_THRESHOLD, 50, 100)
    path, name, *rest = item  # (path, name[, count_vendored])
    # Even so, a repository's young collections traverse every syntax tree alive (5% of the run on real
    # repositories) and find almost nothing: its facts are acyclic (444 objects collected over 74 real
    # repositories). So the collector waits for the repository to end; the first collection after it sees
    # only what survives, the cached facts.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return classify_repo(Path(path), name, count_vendored=bool(rest and rest[0]))
    finally:
        if enabled:
            gc.enable()


__all__ = ["classify_repo", "classify_item", "effective", "FileError"]
