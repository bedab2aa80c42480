"""Classification on an existing Dask distributed cluster (``pip install survey[dask]``).

Workers run the analysis and return verdicts; only the client writes them (to stdout or the catalog).
The workers need survey installed and the repositories' source folders at the same paths (a shared
file system), as a cluster for a 100k-repository survey would have.
"""
from __future__ import annotations

from functools import partial
from typing import Iterator, List, Tuple

from .classify import classify_item
from .model import RepoVerdict
from .order import arrival


def classify_on_cluster(items: List[Tuple[str, str]], scheduler: str, order: List[int],
                        ordered: bool = True) -> Iterator[RepoVerdict]:
    """Verdicts computed on the cluster's workers; tasks are submitted in ``order`` (largest first)."""
    try:
        from distributed import Client, as_completed
    except ImportError:  # the extra is optional
        raise SystemExit("survey: --scheduler needs Dask: pip install 'survey[dask]'") from None
    with Client(scheduler, set_as_default=False) as client:
        submitted = client.map(classify_item, [(str(items[i][0]), *items[i][1:]) for i in order], pure=False)
        for future in arrival(dict(zip(order, submitted)), ordered, partial(as_completed, loop=client.loop)):
            yield future.result()
            future.release()
