"""``survey check PATH...``: paths to projects, projects to reported diagnostics.

A folder is analysed as a project of its own. A file belongs to the project found above it (``config.
project_root``); the whole project is analysed, since the worker path crosses files, and only findings in
the files given are reported. Findings read the public ``classify_repo`` result; nothing here judges code.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple

from ..analysis.classify import classify_repo
from ..analysis.model import Finding, RepoVerdict
from .config import Overrides, find_config, load, merged, project_root
from .fix import FIXABLE, FileFix, plan_all
from .noqa import without_noqa
from .output import lint_findings
from .scope import Scope
from .target import TorchTarget, resolve, shows


class CheckError(ValueError):
    """A path or setting the user must correct (exit status 2)."""


@dataclass(frozen=True)
class Diagnostic:
    finding: Finding
    root: Path           # of the analysed project
    filename: str        # for people and CI: relative to the current directory when under it
    level: str           # "error" fails the run; "note" does not show with the target torch; "warning" SRV901
    target: TorchTarget
    fixable: bool = False

    @property
    def code(self) -> str:
        return self.finding.code

    def related(self, evidence: str) -> Optional[Tuple[str, int, str]]:
        """(filename, line, text) of an evidence string "path:line: text", or None if it names no place."""
        path, _, rest = evidence.partition(":")
        line, _, text = rest.partition(":")
        if not path or not line.isdigit():
            return None
        return display(self.root / path), int(line), text.strip()


@dataclass(frozen=True)
class Project:
    root: Path
    files: Optional[FrozenSet[str]]   # root-relative, or None for all


def projects(paths: Sequence[Path]) -> List[Project]:
    """The projects the paths belong to, in the order given, each once."""
    wanted: Dict[Path, Optional[set]] = {}
    for path in paths:
        if not path.exists():
            raise CheckError(f"{path}: no such file or directory")
        if path.is_dir():
            wanted[path.resolve()] = None
            continue
        root = project_root(path)
        rel = path.resolve().relative_to(root).as_posix()
        if root not in wanted:
            wanted[root] = {rel}
        elif wanted[root] is not None:
            wanted[root].add(rel)
    return [Project(root, None if files is None else frozenset(files)) for root, files in wanted.items()]


def display(path: Path, cwd: Optional[Path] = None) -> str:
    cwd = (cwd or Path.cwd()).resolve()
    path = path.resolve()
    try:
        return path.relative_to(cwd).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass
class Checked:
    project: Project
    verdict: RepoVerdict
    target: TorchTarget
    scope: Scope
    diagnostics: List[Diagnostic]
    fixes: List[FileFix]


def reported(root: Path, scope: Scope) -> Callable[[Path], List[Finding]]:
    """The findings of a project (or a copy of it) that the scope reports, ``# noqa`` honoured."""
    def findings_of(where: Path) -> List[Finding]:
        return [f for f in without_noqa(lint_findings(classify_repo(where, root.name)), where) if scope.reports(f)]
    return findings_of


def check_project(project: Project, cli: Overrides, fix: bool = False) -> Checked:
    config = find_config(project.root)
    settings = merged(load(config), cli)
    given_by = "--target-torch" if cli.target_torch is not None else f"target-torch in {config}"
    target = resolve(project.root, settings.target_torch, given_by)
    scope = Scope(project.root, settings, project.files)
    fixes = plan_all(project.root, reported(project.root, scope)) if fix else []
    return _diagnose(project, target, scope, fixes)


def recheck(checked: Checked) -> Checked:
    """After the fixes were written: what is left."""
    return _diagnose(checked.project, checked.target, checked.scope, checked.fixes)


def _diagnose(project: Project, target: TorchTarget, scope: Scope, fixes: List[FileFix]) -> Checked:
    v = classify_repo(project.root)
    findings = [f for f in without_noqa(lint_findings(v), project.root) if scope.reports(f)]
    errors = [Finding("SRV901", e.path, e.line, 1, e.reason, "") for e in v.errors]
    errors = [f for f in errors if scope.reports(f)]
    out = []
    for f in (*findings, *errors):
        level = "warning" if f.code == "SRV901" else "error" if shows(f, target) else "note"
        fixable = f.code in FIXABLE and bool(f.loader) and not f.worker_init_fn
        out.append(Diagnostic(f, project.root, display(project.root / f.path), level, target, fixable))
    return Checked(project, v, target, scope, out, fixes)


def sort_key(d: Diagnostic):
    return d.filename, d.finding.line, d.finding.col, d.code


def all_diagnostics(checked: Iterable[Checked]) -> List[Diagnostic]:
    return sorted((d for c in checked for d in c.diagnostics), key=sort_key)


def exit_status(diagnostics: Iterable[Diagnostic]) -> int:
    return 1 if any(d.level == "error" for d in diagnostics) else 0


def summary(diagnostics: List[Diagnostic]) -> str:
    """One line for stderr: "3 findings in 2 files, 1 fixable with --fix"."""
    if not diagnostics:
        return "no findings"
    files = len({d.filename for d in diagnostics})
    n = len(diagnostics)
    parts = [f"{n} finding{'s' * (n != 1)} in {files} file{'s' * (files != 1)}"]
    notes = [d for d in diagnostics if d.level == "note"]
    if notes:
        targets = "; ".join(dict.fromkeys(d.target.describe() for d in notes))
        parts.append(f"{len(notes)} note{'s' * (len(notes) != 1)} that do{'es' * (len(notes) == 1)} not show "
                     f"with the target {targets}")
    fixable = sum(d.fixable for d in diagnostics)
    if fixable:
        parts.append(f"{fixable} fixable with --fix")
    return ", ".join(parts)


__all__ = ["CheckError", "Diagnostic", "Project", "projects", "check_project", "recheck", "all_diagnostics",
           "exit_status", "summary", "display"]
