"""What the crawl lets a server or a name cost: validated names, capped waits, scrubbed messages.

Everything a server sends is data. Names become paths only when they follow GitHub's own rules, a wait a
server asks for is honoured only up to ``max_wait``, and the token is removed from any text (an error body
may echo it) before it is printed or stored.
"""
from __future__ import annotations

import re
from typing import Iterable, Optional
from urllib.parse import quote

from github.GithubRetry import GithubRetry

# GitHub's rules: a login is 1-39 letters, digits and hyphens, not starting with a hyphen; a repository
# name is 1-100 letters, digits, ".", "-" and "_", and never "." or "..".
_OWNER = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
# git's ref rules (git check-ref-format): no control characters, spaces, "~^:?*[\", no "..", no "//".
_REF = re.compile(r"[^\x00-\x20\x7f~^:?*\[\\]{1,255}")
REASON_CHARS = 500   # a reason stored in the catalog or printed, at most


class WaitTooLong(Exception):
    """A server asked for a wait longer than the crawl's ``max_wait``: stop, resume later."""

    def __init__(self, seconds: float, max_wait: float, why: str):
        allowed = f"the {max_wait:.0f} s" if max_wait else "what is"
        super().__init__(f"the server asks to wait {seconds:.0f} s ({why}), more than {allowed} allowed "
                         "(--max-wait); nothing is lost, run the same crawl again later")
        self.seconds, self.why = seconds, why


def valid_full_name(full_name: str) -> bool:
    owner, sep, name = full_name.partition("/")
    return bool(sep) and bool(_OWNER.fullmatch(owner)) and bool(_NAME.fullmatch(name)) and name not in (".", "..")


def valid_ref(ref: str) -> bool:
    return bool(_REF.fullmatch(ref)) and ".." not in ref and "//" not in ref and not ref.startswith("/") \
        and not ref.endswith((".", "/", ".lock"))


def shown(text: str, limit: int = 80) -> str:
    """A name from outside, safe to print: escaped, and cut to ``limit`` characters."""
    text = text.encode("unicode_escape").decode("ascii")
    return text if len(text) <= limit else text[:limit] + "..."


def scrub(text: str, secrets: Iterable[Optional[str]]) -> str:
    """``text`` without any of ``secrets`` (as sent, and URL-quoted), cut to ``REASON_CHARS``."""
    for secret in secrets:
        if secret:
            for form in {secret, quote(secret, safe=""), quote(secret)}:
                text = text.replace(form, "***")
    return text if len(text) <= REASON_CHARS else text[:REASON_CHARS] + "..."


class CappedRetry(GithubRetry):
    """PyGithub's retry policy, with every wait a server asks for capped at ``max_wait`` seconds.

    PyGithub caps the waits for X-RateLimit-Reset itself (``max_rate_limit_wait``); ``Retry-After`` is slept by
    urllib3, uncapped (a huge value sleeps for years or overflows), so it is checked here."""

    def __init__(self, max_wait: float = 3600.0, **kwargs):
        self.max_wait = max_wait
        kwargs.setdefault("max_rate_limit_wait", max_wait)
        super().__init__(**kwargs)

    def new(self, **kw):
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        return retry

    def get_retry_after(self, response) -> Optional[float]:
        try:
            seconds = super().get_retry_after(response)
        except (OverflowError, ValueError):
            seconds = float("inf")
        if seconds is not None and seconds > self.max_wait:  # urllib3 itself may have cut it to 6 hours
            raise WaitTooLong(seconds, self.max_wait, f"Retry-After: {response.headers.get('Retry-After', '')[:40]}")
        return seconds
