"""Safe extraction of a repository tarball: only what the analysis reads, nothing outside its folder.

A tarball from GitHub is untrusted input. Members are never extracted by name: each regular file whose
normalised path stays inside the repository and matches what the analysis reads is copied into a fresh
folder, under per-file and per-repository caps; links, devices, FIFOs, absolute paths, ``..`` and control
characters are skipped. The decompressed stream is read forward only, under caps on its bytes, on any one
read (tarfile reads a pax or long-name header whole, whatever size it claims), on members and on wall time,
so neither lying size headers, a decompression bomb nor a million members can cost more than those caps.
"""
from __future__ import annotations

import gzip
import os
import posixpath
import re
import shutil
import tarfile
import time
import zlib
from pathlib import Path
from typing import BinaryIO, Tuple

MAX_FILE = 2_000_000            # bytes per kept file (the analyser skips larger Python files anyway)
MAX_CONFIG = 200_000            # bytes per kept config file
MAX_REPO = 100_000_000          # bytes kept per repository
MAX_STREAM = 2_000_000_000      # decompressed bytes read per tarball
MAX_HEADER = 1_000_000          # bytes of one tar header (pax records, GNU long names)
MAX_MEMBERS = 300_000           # members per tarball (a large Python monorepo has tens of thousands)
EXTRACT_SECONDS = 300.0         # wall time per extraction
_KEEP_NAMES = re.compile(r"(requirements[^/]*\.txt|setup\.py|setup\.cfg|pyproject\.toml|environment[^/]*\.ya?ml)$")
_CONFIG = re.compile(r"\.(cfg|toml|ya?ml|ini)$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class SnapshotError(Exception):
    """One repository's download or extraction failed; ``retry``: another try (or a later crawl) may cure it."""

    def __init__(self, reason: str, retry: bool = False):
        super().__init__(reason)
        self.retry = retry


class _Bounded:
    """The decompressed tar stream as tarfile reads it: forward only, within the caps above."""

    def __init__(self, raw, deadline: float):
        self.raw, self.pos, self.deadline = raw, 0, deadline

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > MAX_HEADER:
            raise SnapshotError(f"a tar header claims {n} bytes, over the {MAX_HEADER}-byte limit")
        if time.monotonic() > self.deadline:
            raise SnapshotError(f"cut off: extraction took more than {EXTRACT_SECONDS:.0f} s")
        data = self.raw.read(n)
        self.pos += len(data)
        if self.pos > MAX_STREAM:
            raise SnapshotError(f"cut off: tarball decompresses to more than {MAX_STREAM} bytes")
        return data

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        if whence != 0 or pos < self.pos:
            raise tarfile.StreamError("seeking backwards in a tarball")
        while self.pos < pos:  # skipping a member reads it; at the end of the data the skip stops short
            if not self.read(min(1 << 16, pos - self.pos)):
                break
        return self.pos


def wanted(rel: str, size: int) -> bool:
    base = rel.rsplit("/", 1)[-1]
    if rel.endswith(".py"):
        return size <= MAX_FILE
    if _KEEP_NAMES.search(base) or _CONFIG.search(base):
        return size <= MAX_CONFIG
    return False


def safe_relpath(name: str) -> str:
    """The member's path below the tarball's top folder, or "" when it is unsafe or the top folder itself."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or _CONTROL.search(name):
        return ""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if len(parts) < 2 or ".." in parts or any(len(p.encode("utf-8", "surrogateescape")) > 255 for p in parts):
        return ""
    return posixpath.join(*parts[1:])


def extract_snapshot(fileobj: BinaryIO, full_name: str, sources: Path) -> Tuple[str, str]:
    owner, _, name = full_name.partition("/")
    parent = Path(sources) / owner / name
    parent.mkdir(parents=True, exist_ok=True)
    partial = parent / f".partial-{os.getpid()}-{id(fileobj)}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    sha, top, kept, members = "", "", 0, 0
    try:
        stream = _Bounded(gzip.GzipFile(fileobj=fileobj, mode="rb"), time.monotonic() + EXTRACT_SECONDS)
        try:
            tar = tarfile.open(fileobj=stream, mode="r:")
        except (tarfile.ReadError, gzip.BadGzipFile, zlib.error) as exc:
            raise SnapshotError(f"not a gzipped tarball: {exc}") from None
        except EOFError:
            raise SnapshotError("truncated tarball", retry=True) from None
        with tar:
            while True:
                try:
                    member = tar.next()
                except (tarfile.ReadError, gzip.BadGzipFile, tarfile.StreamError, zlib.error) as exc:
                    raise SnapshotError(f"corrupt tarball: {exc}") from None
                except EOFError:
                    raise SnapshotError("truncated tarball", retry=True) from None
                if member is None:
                    break
                tar.members.clear()  # tarfile remembers every member; a million of them cost 600 MB
                members += 1
                if members > MAX_MEMBERS:
                    raise SnapshotError(f"more than {MAX_MEMBERS} members")
                if member.size < 0 or member.size > MAX_STREAM - stream.pos:
                    raise SnapshotError(f"cut off: a member claims {member.size} bytes, "
                                        f"past the {MAX_STREAM}-byte limit")
                comment = tar.pax_headers.get("comment", "")
                if _SHA.match(comment):
                    sha = comment
                top = top or member.name.split("/", 1)[0]
                if not member.isfile():
                    continue  # directories are implied; links, devices and FIFOs are never created
                rel = safe_relpath(member.name)
                if not rel or not wanted(rel, member.size) or kept + member.size > MAX_REPO:
                    continue
                dest = partial / rel
                if not dest.resolve().is_relative_to(partial.resolve()):
                    continue
                try:
                    src = tar.extractfile(member)
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                except (tarfile.ReadError, gzip.BadGzipFile, tarfile.StreamError, zlib.error) as exc:
                    raise SnapshotError(f"corrupt tarball: {exc}") from None
                except EOFError:
                    raise SnapshotError("truncated tarball", retry=True) from None
                except OSError as exc:  # disk full, a name the file system refuses: not the tarball's fault
                    raise SnapshotError(f"cannot write {rel!r}: {exc.strerror or exc}", retry=True) from None
                kept += member.size
        if not sha:
            m = re.search(r"-([0-9a-f]{7,40})$", top)
            if not m:
                raise SnapshotError("tarball names no commit (no pax comment, no sha in its top folder)")
            sha = m.group(1)
        final = parent / sha
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        return sha, str(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
