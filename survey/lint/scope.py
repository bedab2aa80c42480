"""Which findings of an analysed project are reported: the files asked for, ``exclude``/``extend-exclude``
and ``.gitignore`` (gitignore-style patterns, read by pathspec), rule selection and ``per-file-ignores``.

The analysis always reads the whole project, since a worker's path crosses files (the Dataset in one, the
loader in another): these filters choose what is *reported*, never what is read.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, FrozenSet, Optional, Tuple

import pathspec

from ..analysis.model import Finding
from .config import Settings, prefix_rank

MAX_GITIGNORE_BYTES = 1_000_000


class Scope:
    """Paths are relative to the analysed root, so a scope built for a project also filters the findings
    of a copy of it (``--fix`` works on one); ``.gitignore`` files are read from the project itself."""

    def __init__(self, root: Path, settings: Settings, files: Optional[FrozenSet[str]] = None):
        self.root = root.resolve()
        self.settings = settings
        base = (settings.base or self.root).resolve()
        try:
            self.offset = self.root.relative_to(base).as_posix()
        except ValueError:
            self.offset = "."
        self.files = files            # root-relative paths asked for, or None for every file of the project
        self.excluded = _spec((*settings.exclude, *settings.extend_exclude))
        self.per_file = tuple((_spec((pattern,)), codes) for pattern, codes in settings.per_file_ignores)
        self._gitignores: Dict[Path, Optional[pathspec.GitIgnoreSpec]] = {}

    def relative(self, rel: str) -> str:
        """A finding's path (relative to the analysed root) relative to the configuration's directory."""
        return rel if self.offset == "." else f"{self.offset}/{rel}"

    def reports_file(self, rel: str) -> bool:
        if self.files is not None and rel not in self.files:
            return False
        if rel != "." and self.excluded is not None and self.excluded.match_file(self.relative(rel)):
            return False
        return not (self.settings.respect_gitignore and rel != "." and self.gitignored(rel))

    def reports(self, f: Finding) -> bool:
        if not self.reports_file(f.path) or not self.settings.selects(f.code):
            return False
        for spec, codes in self.per_file:
            if spec.match_file(self.relative(f.path)) and prefix_rank(f.code, codes):
                return False
        return True

    def gitignored(self, rel: str) -> bool:
        """Whether a ``.gitignore`` in the root or a folder on the way to the file ignores it."""
        parts = Path(rel).parts
        for depth in range(len(parts)):
            folder = self.root.joinpath(*parts[:depth])
            spec = self._gitignore(folder)
            if spec is not None and spec.match_file("/".join(parts[depth:])):
                return True
        return False

    def _gitignore(self, folder: Path) -> Optional[pathspec.GitIgnoreSpec]:
        if folder not in self._gitignores:
            path = folder / ".gitignore"
            spec = None
            try:
                if path.is_file() and not path.is_symlink() and path.stat().st_size <= MAX_GITIGNORE_BYTES:
                    spec = _spec(path.read_text(encoding="utf-8", errors="replace").splitlines())
            except OSError:
                spec = None
            self._gitignores[folder] = spec
        return self._gitignores[folder]


def _spec(lines: Tuple[str, ...]) -> Optional[pathspec.GitIgnoreSpec]:
    lines = [line for line in lines if line.strip()]
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None
