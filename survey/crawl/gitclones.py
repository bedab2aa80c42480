"""Local git clones as snapshots: trees read through git's plumbing, never checked out.

``crawl --from-git DIR`` takes one clone per folder, named ``owner+name`` (a bare clone, a work tree, or the
``owner+name/repo/.git`` layout of mirrors) or ``owner/name``. The tree at HEAD, and with ``--at`` the tree
at the last commit before the date, is listed with ``git ls-tree`` and only the files the analysis reads are
written, with the filters and caps of tarball extraction, through one ``git cat-file --batch``. A clone's
history and file names are data: every git call has a timeout, no work tree is touched, and one bad clone
costs only its own row. ``created_at`` is the first commit's date and ``pushed_at`` the head's.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from . import dated
from .dated import Snapshot
from .manifest import NAME
from .snapshot import MAX_REPO, safe_relpath, wanted
from .store import Catalog, RepoMeta

GIT_TIMEOUT = 120        # seconds for one listing or log command
READ_TIMEOUT = 600       # seconds to read the kept files of one tree
MAX_ENTRIES = 2_000_000  # tree entries listed per snapshot
SOURCE = "git"           # the api_url of a clone's row: no API to ask for more
# No system or global configuration, no prompts, no lock files written into someone else's clone, no
# replace refs (they let a clone swap one object for another behind its commit ids).
_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0",
        "GIT_OPTIONAL_LOCKS": "0", "GIT_NO_REPLACE_OBJECTS": "1", "LC_ALL": "C"}


class GitError(Exception):
    pass


class GitTimeout(GitError):
    pass


@dataclass(frozen=True)
class Clone:
    full_name: str
    git_dir: Path


def _is_git_dir(p: Path) -> bool:
    if p.name == ".git" and p.is_file():
        return True  # a gitfile ("gitdir: ..."), which git follows itself
    return p.is_dir() and (p / "HEAD").is_file() and (p / "objects").is_dir()


def git_dir_of(folder: Path, mirror_layout: bool = True) -> Optional[Path]:
    candidates = [folder, folder / ".git"] + ([folder / "repo" / ".git", folder / "repo"] if mirror_layout else [])
    return next((c for c in candidates if _is_git_dir(c)), None)


def find_clones(root: Path) -> Tuple[List[Clone], List[str]]:
    """The clones under root, and a note for each folder that is skipped and why."""
    clones, skipped = [], []
    for child in sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith(".")):
        found: List[Tuple[str, Optional[Path]]] = []
        if "+" in child.name:
            owner, _, name = child.name.partition("+")
            found.append((f"{owner}/{name}", git_dir_of(child)))
        elif git_dir_of(child, mirror_layout=False):
            skipped.append(f"{child.name}: a clone, but not named owner+name")
            continue
        else:
            found += [(f"{child.name}/{g.name}", git_dir_of(g, mirror_layout=False))
                      for g in sorted(child.iterdir()) if g.is_dir() and not g.name.startswith(".")]
        for full_name, gd in found:
            if not NAME.match(full_name):
                skipped.append(f"{full_name}: not a GitHub owner/name")
            elif gd is None:
                skipped.append(f"{full_name}: no git repository found")
            else:
                clones.append(Clone(full_name, gd))
    return clones, skipped


# -- git -------------------------------------------------------------------------------------------------
def git(gd: Path, *args: str, timeout: Optional[float] = None) -> str:
    timeout = GIT_TIMEOUT if timeout is None else timeout
    try:
        proc = subprocess.run(["git", "--git-dir", str(gd), *args], stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=timeout, env=_ENV)
    except subprocess.TimeoutExpired:
        raise GitTimeout(f"git {args[0]} took more than {timeout:g} s") from None
    except OSError as exc:
        raise GitError(f"cannot run git: {exc}") from None
    if proc.returncode:
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {proc.returncode}"]
        raise GitError(f"git {args[0]}: {tail[0][:300]}")
    return proc.stdout.decode("utf-8", "replace").strip()


def _date(stamp: str) -> str:
    return dated.utc(stamp) if stamp else ""


def head_commit(gd: Path) -> Tuple[str, str]:
    try:
        sha = git(gd, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    except GitTimeout:
        raise
    except GitError:
        raise GitError("empty repository (HEAD names no commit)") from None
    return sha, _date(git(gd, "show", "-s", "--format=%cI", sha))


def first_commit_date(gd: Path, sha: str) -> str:
    roots = git(gd, "log", "--max-parents=0", "--format=%cI", sha).split()
    return min((_date(r) for r in roots if _date(r)), default="")


def commit_before(gd: Path, sha: str, at: str) -> Optional[Tuple[str, str]]:
    """(sha, date) of the last commit before ``at`` reachable from ``sha``, by committer date; None if none."""
    instant = datetime.fromisoformat(dated.until(at).replace("Z", "+00:00"))
    found = git(gd, "rev-list", "-1", f"--before=@{int(instant.timestamp())}", sha)
    if not found:
        return None
    return found, _date(git(gd, "show", "-s", "--format=%cI", found))


def kept_entries(gd: Path, sha: str) -> Iterator[Tuple[str, int, str]]:
    """(blob id, size, path) of the files of a tree that the analysis reads, within the repository cap."""
    listing = git(gd, "ls-tree", "-r", "-l", "-z", "--full-tree", sha)
    kept = 0
    for n, record in enumerate(listing.split("\0")):
        if n >= MAX_ENTRIES:
            raise GitError(f"tree has more than {MAX_ENTRIES} entries")
        head, tab, path = record.partition("\t")
        parts = head.split()
        # only regular files: links (120000) and submodules (160000) are never followed
        if not tab or len(parts) != 4 or parts[1] != "blob" or parts[0] not in ("100644", "100755"):
            continue
        rel = safe_relpath(f"top/{path}")
        if not rel or "\ufffd" in rel or not parts[3].isdigit():
            continue
        size = int(parts[3])
        if not wanted(rel, size) or kept + size > MAX_REPO:
            continue
        kept += size
        yield parts[2], size, rel


def write_tree(gd: Path, sha: str, full_name: str, sources: Path) -> str:
    """Writes the kept files of commit ``sha`` under sources/owner/name/sha; returns that folder."""
    owner, _, name = full_name.partition("/")
    parent = Path(sources) / owner / name
    parent.mkdir(parents=True, exist_ok=True)
    entries = list(kept_entries(gd, sha))
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=parent))
    try:
        _read_blobs(gd, entries, partial)
        final = parent / sha
        if final.exists():
            shutil.rmtree(final)
        os.replace(partial, final)
        return str(final)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _read_blobs(gd: Path, entries: List[Tuple[str, int, str]], dest: Path) -> None:
    with tempfile.TemporaryFile() as ids:
        ids.write("".join(f"{oid}\n" for oid, _, _ in entries).encode())
        ids.seek(0)
        proc = subprocess.Popen(["git", "--git-dir", str(gd), "cat-file", "--batch"], stdin=ids,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=_ENV)
        timer = threading.Timer(READ_TIMEOUT, proc.kill)
        timer.start()
        try:
            for oid, size, rel in entries:
                header = proc.stdout.readline(200).split()
                if len(header) == 2 and header[1] == b"missing":
                    continue  # a partial clone or a mirror without its largest objects
                data = proc.stdout.read(size) if len(header) == 3 else b""
                proc.stdout.read(1)
                if timer.finished.is_set():
                    raise GitTimeout(f"reading the tree took more than {READ_TIMEOUT:g} s")
                if len(header) != 3 or header[0].decode() != oid or header[2] != str(size).encode() \
                        or len(data) != size:
                    raise GitError(f"git cat-file answered {b' '.join(header)[:100]!r} for {rel}")
                out = dest / rel
                if not out.resolve().is_relative_to(dest.resolve()):
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                out.write_bytes(data)
        finally:
            timer.cancel()
            proc.kill()
            proc.wait()
            proc.stdout.close()


# -- registering -----------------------------------------------------------------------------------------
def register_clone(catalog: Catalog, clone: Clone, sources: Path, at: Optional[str] = None) -> str:
    """Records one clone's head (and its snapshot before ``at``); returns its head's status."""
    name = clone.full_name
    row = _row(catalog, name)
    try:
        sha, date = head_commit(clone.git_dir)
        if not (row and row["status"] in ("downloaded", "classified") and row["commit_sha"] == sha
                and row["source_path"] and Path(row["source_path"]).is_dir()):
            created = first_commit_date(clone.git_dir, sha)
            branch = _branch(clone.git_dir)
            path = write_tree(clone.git_dir, sha, name, sources)
            catalog.add_discovered([RepoMeta(full_name=name, created_at=created, pushed_at=date,
                                             default_branch=branch)], SOURCE)
            catalog.db.execute("UPDATE repos SET created_at=?, pushed_at=?, default_branch=? WHERE full_name=?",
                               (created, date, branch, name))
            catalog.mark_downloaded(name, sha, path)
            dated.set_commit_date(catalog, name, date)
    except (GitError, OSError) as exc:
        catalog.add_discovered([RepoMeta(full_name=name)], SOURCE)
        catalog.mark_failed(name, str(exc))
        return "failed"
    if at and name not in dated.recorded(catalog, at):
        dated.record(catalog, _snapshot_before(catalog, clone, sources, at))
    return "downloaded"


def _row(catalog: Catalog, full_name: str) -> Optional[dict]:
    cur = catalog.db.execute("SELECT * FROM repos WHERE full_name=?", (full_name,))
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def _branch(gd: Path) -> str:
    try:
        return git(gd, "symbolic-ref", "--quiet", "--short", "HEAD") or "HEAD"
    except GitError:
        return "HEAD"  # a detached HEAD


def _snapshot_before(catalog: Catalog, clone: Clone, sources: Path, at: str) -> Snapshot:
    row = _row(catalog, clone.full_name)
    if row["created_at"] and row["created_at"] >= dated.until(at):
        return Snapshot(clone.full_name, at, "absent", f"created after {at}")
    try:
        found = commit_before(clone.git_dir, row["commit_sha"], at)
        if found is None:
            return Snapshot(clone.full_name, at, "absent", f"no commit before {at}")
        sha, date = found
        path = row["source_path"] if sha == row["commit_sha"] else write_tree(clone.git_dir, sha, clone.full_name,
                                                                               sources)
        return Snapshot(clone.full_name, at, "downloaded", commit_sha=sha, commit_date=date, source_path=path)
    except (GitError, OSError) as exc:
        return Snapshot(clone.full_name, at, "failed", str(exc))


def register_git(catalog: Catalog, root: Path, sources: Path, at: Optional[str] = None,
                 progress: Callable[[str], None] = lambda s: None) -> Dict[str, int]:
    """Registers every clone under root; returns the count of each head status and of skipped folders."""
    clones, skipped = find_clones(root)
    for note in skipped:
        progress(f"skipped {note}")
    counts = {"skipped": len(skipped)}
    for clone in clones:
        status = register_clone(catalog, clone, sources, at)
        counts[status] = counts.get(status, 0) + 1
        progress(f"{clone.full_name}: {status}")
    return counts
