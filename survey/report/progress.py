"""Progress of ``survey classify --db``: a tqdm bar with the verdict tally and an ETA on a terminal, one plain
line per repository otherwise (logs, CI), and a closing summary line either way; all on stderr.
"""
from __future__ import annotations

import sys
import time
from collections import Counter

from tqdm import tqdm

from ..analysis.model import VERDICT_ORDER


class VerdictProgress:
    def __init__(self, total: int, stream=None):
        self.total = total
        self.stream = stream or sys.stderr
        self.tally: Counter = Counter()
        self.with_errors = 0
        self.started = time.monotonic()
        live = getattr(self.stream, "isatty", lambda: False)()
        self.bar = tqdm(total=total, file=self.stream, unit="repo", dynamic_ncols=True, smoothing=0.05) \
            if live else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()
        print(f"survey: {self.summary()}", file=self.stream, flush=True)

    def tally_text(self) -> str:
        return ", ".join(f"{v} {self.tally[v]}" for v in VERDICT_ORDER if self.tally[v])

    def update(self, v) -> None:
        self.tally[v.verdict] += 1
        self.with_errors += bool(v.errors)
        if self.bar is not None:
            self.bar.set_postfix_str(self.tally_text(), refresh=False)
            self.bar.update(1)
        else:
            done = sum(self.tally.values())
            print(f"survey: [{done}/{self.total}] {v.repo}: {v.verdict}", file=self.stream, flush=True)

    def summary(self) -> str:
        done = sum(self.tally.values())
        took = time.monotonic() - self.started
        errors = f"; {self.with_errors} with files that could not be analysed" if self.with_errors else ""
        return (f"classified {done} of {self.total} repositories in {took:.1f} s: {self.tally_text() or 'none'}"
                f"{errors}")
