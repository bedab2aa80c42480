"""Classification on an existing Dask distributed cluster (``pip install survey[dask]``).

Workers run the analysis and return verdicts; only the client writes them (to stdout or the catalog).
The workers need survey installed and the repositories' source folders at the same paths (a shared
file system), as a cluster for a 100k-repository survey would have.
"""
from __future__ import annotations

from typing import Iterator, List, Tuple

from .model import RepoVerdict


def classify_on_cluster(items: List[Tuple[str, str]], scheduler: str) -> Iterator[RepoVerdict]:
    try:
        from distributed import Client
    except ImportError:  # the extra is optional
        raise SystemExit("survey: --scheduler needs Dask: pip install 'survey[dask]'") from None
    from .classify import _classify_item
    with Client(scheduler, set_as_default=False) as client:
        futures = client.map(_classify_item, [(str(p), n) for p, n in items], pure=False)
        for future in futures:
            yield future.result()
            future.release()
