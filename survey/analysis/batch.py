"""Many repositories in, verdicts streamed out: on one core, a process pool, or a Dask cluster."""
from __future__ import annotations

import ctypes
import os
import signal
import threading
import time
from pathlib import Path
from typing import Iterator, List, Optional

from .classify import classify_item
from .model import RepoVerdict
from .order import arrival
from .sources import iter_python_files


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
            yield classify_item(item)
    else:
        # imported here: one process of --jobs 1 (and each pool worker) has no use for it
        from concurrent.futures import ProcessPoolExecutor, as_completed
        with ProcessPoolExecutor(max_workers=jobs, initializer=_die_with_parent, initargs=(os.getpid(),)) as pool:
            futures = {i: pool.submit(classify_item, items[i]) for i in largest_first(items)}
            for future in arrival(futures, ordered, as_completed):
                yield future.result()


def _die_with_parent(parent: int) -> None:
    """Pool workers end when the process that started them does, even on ``kill -9`` (which runs no
    cleanup): Linux delivers SIGKILL on the parent's death; elsewhere a thread notices the orphaning."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)

    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)
    threading.Thread(target=watch, daemon=True).start()


def largest_first(items) -> List[int]:
    """Indices of the items by the size of their Python code, largest first (a walk and a stat per file)."""
    sizes = []
    for i, (path, *_) in enumerate(items):
        total = 0
        for file in iter_python_files(Path(path)):
            try:
                total += file.stat().st_size
            except OSError:
                pass
        sizes.append((-total, i))
    return [i for _, i in sorted(sizes)]
