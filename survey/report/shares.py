"""What the report's shares count, and their interval: shared by the head tables and the then-versus-now ones."""
from __future__ import annotations

import math
from typing import Tuple

BUG = ("affected", "flawed-seed")
WITH_WORKERS = ("affected", "flawed-seed", "seeded")


def wilson(k: int, n: int, z: float = 1.96) -> Tuple[float, float, float]:
    """Share k/n with its Wilson score interval; NaNs when n is 0."""
    if n == 0:
        return (math.nan, math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (p, max(0.0, centre - half), min(1.0, centre + half))
