"""The 2021 claim and how a corpus's figure compares with it, worded once for the HTML report and for
``analysis/summary.py``.

The April 2021 blog post ("Using PyTorch + NumPy? You're making a mistake") analysed over 100,000 GitHub
repositories that import PyTorch and reported that, of those that define a custom Dataset, use NumPy's RNG
and load with worker processes, over 95% had the bug. It did not publish how many repositories qualified,
so its figure has no interval; ours is on the same denominator (``with_workers``) with a Wilson interval.
"""
from __future__ import annotations

import math
from typing import Dict, List

STUDY = {"source": "blog post, April 2021", "scanned": 100_000, "share": 0.95,
         "population": "repositories importing PyTorch that define a custom Dataset, draw NumPy random numbers "
                       "and load it with worker processes"}


def _pct(x: float) -> str:
    return "–" if x is None or math.isnan(x) else f"{100 * x:.1f}%"


def comparison_rows(h: Dict[str, float]) -> List[Dict[str, str]]:
    """The two figures side by side on the same denominator."""
    return [
        {"source": f"2021 claim ({STUDY['source']})", "corpus": f"over {STUDY['scanned']:,} repositories importing "
         "PyTorch", "qualifying": "not published", "affected": "not published",
         "share": f"over {100 * STUDY['share']:.0f}%",
         "interval": "cannot be computed (qualifying count not published)"},
        {"source": "this corpus", "corpus": f"{h['classified']:,} repositories classified",
         "qualifying": f"{h['with_workers']:,}", "affected": f"{h['affected']:,}", "share": _pct(h["share"]),
         "interval": f"{_pct(h['ci_low'])}–{_pct(h['ci_high'])}" if h["with_workers"] else "–"},
    ]


def comparison_sentence(h: Dict[str, float]) -> str:
    """One sentence: where the 2021 figure lies against this corpus's 95% interval."""
    n, k = h["with_workers"], h["affected"]
    if not n:
        return ("The 2021 claim (over 95% affected) cannot be compared: no repository in this corpus defines a "
                "Dataset that draws NumPy random numbers under worker processes.")
    mine = f"{k:,} of {n:,} ({_pct(h['share'])}, 95% CI {_pct(h['ci_low'])}–{_pct(h['ci_high'])})"
    if h["ci_high"] < STUDY["share"]:
        where = "lies above this corpus's interval: this corpus shows a lower share"
    elif h["ci_low"] > STUDY["share"]:
        where = "lies below this corpus's interval: this corpus shows a higher share"
    else:
        where = "lies inside this corpus's interval: the two agree"
    return (f"On the same denominator, {mine} are affected here; the 2021 claim of over 95% {where}"
            f"{' (the sample is too small to say more)' if n < 100 else ''}.")


DIFFERENCES = [
    "Same: the question (custom Dataset + NumPy randomness + worker processes) and the unit (a repository).",
    "Different: survey follows the per-sample path through methods, helpers, transforms and collate_fn; counts "
    "RNG objects, not only np.random.* calls; resolves num_workers instead of assuming > 0; judges worker_init_fn "
    "reseeds (a constant, worker_id or get_state()[1][0] seed is still affected); says separately whether the bug "
    "shows with the repository's pinned torch (>= 1.9 reseeds the global RNG); gives a confidence interval; and "
    "counts forks and copied Datasets once on request.",
]
