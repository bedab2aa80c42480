"""Safe extraction of a repository tarball: only what the analysis reads, nothing outside its folder.

A tarball from GitHub is untrusted input. Members are never extracted by name: each regular file whose
normalised path stays inside the repository and matches what the analysis reads is copied into a fresh
folder, under per-file and per-repository caps; links, devices, FIFOs, absolute paths and ``..`` are
skipped, and a stream that decompresses past a cap is cut off (a decompression bomb).
"""
from __future__ import annotations

import gzip
import os
import posixpath
import re
import shutil
import tarfile
from pathlib import Path
from typing import BinaryIO, Tuple

MAX_FILE = 2_000_000            # bytes per kept file (the analyser skips larger Python files anyway)
MAX_CONFIG = 200_000            # bytes per kept config file
MAX_REPO = 100_000_000          # bytes kept per repository
MAX_STREAM = 2_000_000_000      # decompressed bytes read per tarball
_KEEP_NAMES = re.compile(r"(requirements[^/]*\.txt|setup\.py|setup\.cfg|pyproject\.toml|environment[^/]*\.ya?ml)$")
_CONFIG = re.compile(r"\.(cfg|toml|ya?ml|ini)$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


class SnapshotError(Exception):
    def __init__(self, reason: str, retry: bool = False):
        super().__init__(reason)
        self.retry = retry


class _Capped:
    """A read-only stream that refuses to yield more than ``cap`` bytes."""

    def __init__(self, raw, cap: int):
        self.raw, self.cap, self.read_bytes = raw, cap, 0

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        self.read_bytes += len(data)
        if self.read_bytes > self.cap:
            raise SnapshotError(f"cut off: tarball decompresses to more than {self.cap} bytes")
        return data


def wanted(rel: str, size: int) -> bool:
    base = rel.rsplit("/", 1)[-1]
    if rel.endswith(".py"):
        return size <= MAX_FILE
    if _KEEP_NAMES.search(base) or _CONFIG.search(base):
        return size <= MAX_CONFIG
    return False


def safe_relpath(name: str) -> str:
    """The member's path below the tarball's top folder, or "" when it is unsafe or the top folder itself."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return ""
    parts = [p for p in name.replace("\\", "/").split("/") if p not in ("", ".")]
    if len(parts) < 2 or ".." in parts:
        return ""
    rel = posixpath.join(*parts[1:])
    return rel


def extract_snapshot(fileobj: BinaryIO, full_name: str, sources: Path) -> Tuple[str, str]:
    owner, _, name = full_name.partition("/")
    parent = Path(sources) / owner / name
    parent.mkdir(parents=True, exist_ok=True)
    partial = parent / f".partial-{os.getpid()}-{id(fileobj)}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    sha, top, kept = "", "", 0
    try:
        stream = _Capped(gzip.GzipFile(fileobj=fileobj, mode="rb"), MAX_STREAM)
        try:
            with tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    comment = tar.pax_headers.get("comment", "")
                    if _SHA.match(comment):
                        sha = comment
                    top = top or member.name.split("/", 1)[0]
                    if not member.isfile():
                        continue  # directories are implied; links, devices and FIFOs are never created
                    rel = safe_relpath(member.name)
                    if not rel or not wanted(rel, member.size):
                        continue
                    if kept + member.size > MAX_REPO:
                        continue
                    src = tar.extractfile(member)
                    if src is None:
                        continue
                    dest = partial / rel
                    if not dest.resolve().is_relative_to(partial.resolve()):
                        continue
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                    kept += member.size
        except (tarfile.ReadError, EOFError, gzip.BadGzipFile, OSError, tarfile.StreamError) as exc:
            raise SnapshotError(f"truncated or corrupt tarball: {exc}", retry=True) from None
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
