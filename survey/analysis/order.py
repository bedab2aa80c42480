"""Results of parallel work in the order the caller wants them."""
from __future__ import annotations

from typing import Dict, Iterator


def arrival(by_index: Dict[int, object], ordered: bool, as_completed) -> Iterator:
    """The futures of items 0..n-1 in the items' order, or as they complete (``as_completed`` of the pool)."""
    if not ordered:
        return as_completed(by_index.values())
    return (by_index.pop(i) for i in range(len(by_index)))
