"""One tarball download, bounded whatever the server claims: wall time over all tries, seconds of silence,
bytes written, redirects. Every way it can fail is a ``SnapshotError`` with a reason, and says whether
another try may cure it (``retry``): a cut connection may, a redirect loop or an HTML page will not.
"""
from __future__ import annotations

import json
import time
from typing import BinaryIO, Optional

import requests
import urllib3.exceptions
from github.GithubException import GithubException, RateLimitExceededExceedsMaxWait

from .bounds import WaitTooLong
from .snapshot import SnapshotError

DOWNLOAD_BYTES = 1_000_000_000    # bytes written per try (decoded: a Content-Encoding bomb stops here too)
DOWNLOAD_SECONDS = 600.0          # wall time per repository, every try and the extraction included
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 30.0               # seconds of silence from the server
MAX_REDIRECTS = 5
CHUNK = 1 << 16
GONE = {404: "not found (404)", 451: "unavailable for legal reasons (451)", 409: "empty repository (409)"}


def _message(resp: requests.Response) -> str:
    """The server's own words on an error status, as JSON says them; an HTML page is named, not quoted."""
    ctype = resp.headers.get("Content-Type", "")
    if "json" not in ctype:
        return f" ({ctype.split(';')[0] or 'no Content-Type'} body)"
    try:
        text = resp.raw.read(4096, decode_content=True)
        message = json.loads(text).get("message")
    except Exception:
        return ""
    return f": {message}" if isinstance(message, str) else ""


def _length(value: Optional[str]) -> Optional[int]:
    return int(value) if value is not None and value.strip().isdigit() else None


def download(session: requests.Session, url: str, out: BinaryIO, deadline: float) -> None:
    """Streams the body at ``url`` into ``out`` until ``deadline`` (a ``time.monotonic()`` value)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise SnapshotError(f"download took more than {DOWNLOAD_SECONDS:.0f} s")
    try:
        with session.get(url, stream=True, timeout=(min(CONNECT_TIMEOUT, left), min(READ_TIMEOUT, left))) as resp:
            if resp.status_code in GONE:
                raise SnapshotError(GONE[resp.status_code])
            if resp.status_code != 200:
                raise SnapshotError(f"HTTP {resp.status_code} for the tarball{_message(resp)}",
                                    retry=resp.status_code >= 500 or resp.status_code in (401, 429))
            claimed = _length(resp.headers.get("Content-Length"))
            if claimed is not None and claimed > DOWNLOAD_BYTES:
                raise SnapshotError(f"tarball of {claimed} bytes is over the {DOWNLOAD_BYTES}-byte limit")
            got = 0
            while True:
                if time.monotonic() > deadline:
                    raise SnapshotError(f"cut off: download took more than {DOWNLOAD_SECONDS:.0f} s", retry=True)
                # read1 returns what one receive brings, so a trickling server cannot hold a read past the
                # deadline; each receive waits at most READ_TIMEOUT.
                chunk = resp.raw.read1(CHUNK, decode_content=True)
                if not chunk:
                    break
                got += len(chunk)
                if got > DOWNLOAD_BYTES:
                    raise SnapshotError(f"cut off: tarball is more than {DOWNLOAD_BYTES} bytes")
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise SnapshotError(f"cannot write the download: {exc.strerror or exc}", retry=True) from None
    except (WaitTooLong, SnapshotError):
        raise
    except RateLimitExceededExceedsMaxWait as exc:
        raise WaitTooLong(exc.wait or 0, 0, "X-RateLimit-Reset") from None
    except GithubException as exc:  # a 403 that is no rate limit, e.g. "Repository access blocked"
        message = exc.data.get("message") if isinstance(exc.data, dict) else ""
        raise SnapshotError(f"HTTP {exc.status} for the tarball" + (f": {message}" if message else "")) from None
    except requests.exceptions.TooManyRedirects:
        raise SnapshotError(f"more than {MAX_REDIRECTS} redirects (a redirect loop)") from None
    except (requests.exceptions.InvalidSchema, requests.exceptions.MissingSchema, requests.exceptions.InvalidURL):
        raise SnapshotError("redirected to a URL that is not http(s)") from None
    except (requests.exceptions.ContentDecodingError, urllib3.exceptions.DecodeError):
        raise SnapshotError("body does not decode as its Content-Encoding says") from None
    except requests.exceptions.RetryError:
        raise SnapshotError("gave up after repeated server errors or rate limits", retry=True) from None
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
        if "timed out" in str(exc):
            raise SnapshotError(f"no answer: the server was silent for {READ_TIMEOUT:.0f} s", retry=True) from None
        if "refused" in str(exc):
            raise SnapshotError("connection refused", retry=True) from None
        raise SnapshotError(f"download interrupted: {type(exc).__name__}", retry=True) from None
