"""Crawl progress: a live bar on a terminal (tqdm), plain log lines otherwise; both on stderr.

Rate-limit waits come from PyGithub's retry logger and are shown with how long and why.
"""
from __future__ import annotations

import logging
import sys
from typing import Optional

from tqdm import tqdm

from .bounds import scrub


class _Scrub(logging.Filter):
    """Log records may quote what a server sent (a reason phrase, a body): the token is taken out."""

    def __init__(self, secrets):
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = scrub(record.getMessage(), self.secrets), ()
        return True


class _WaitHandler(logging.Handler):
    def __init__(self, progress: "Progress"):
        super().__init__(logging.INFO)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        if "backoff" in msg or "Retrying after" in msg or "rate limit" in msg.lower():
            self.progress.note(f"waiting: {msg}")


class Progress:
    def __init__(self, catalog, stream=None, token: Optional[str] = None):
        self.catalog = catalog
        self.scrub = _Scrub([token])
        self.stream = stream or sys.stderr
        self.live = self.stream.isatty()
        self.bar = tqdm(total=0, file=self.stream, unit="repo", dynamic_ncols=True) if self.live else None
        self.handler = _WaitHandler(self)
        self.logger = logging.getLogger("github.GithubRetry")

    def __enter__(self):
        self.logger.addHandler(self.handler)
        self.logger.setLevel(logging.INFO)
        # PyGithub's own handler on "github" prints these records too, unscrubbed
        self.filtered = [h for h in (*logging.getLogger("github").handlers, self.handler)]
        for h in self.filtered:
            h.addFilter(self.scrub)
        return self

    def __exit__(self, *exc):
        for h in self.filtered:
            h.removeFilter(self.scrub)
        self.logger.removeHandler(self.handler)
        if self.bar is not None:
            self.bar.close()

    def note(self, message: str) -> None:
        counts = self.catalog.counts() if not message.startswith("waiting") else {}
        if self.bar is not None:
            if counts:
                total = sum(counts.values())
                self.bar.total = total
                self.bar.n = counts.get("downloaded", 0) + counts.get("failed", 0) + counts.get("classified", 0)
                self.bar.set_postfix_str(f"found {total}, downloaded {counts.get('downloaded', 0)}, "
                                         f"failed {counts.get('failed', 0)}")
            else:
                self.bar.set_postfix_str(message[:80])
            self.bar.refresh()
        else:
            print(scrub(f"survey: {message}", self.scrub.secrets), file=self.stream, flush=True)
