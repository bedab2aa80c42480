"""The linter's writers for people and CI logs: ``full`` (alias ``text``), ``concise`` and ``github``
(workflow annotations). SARIF is in ``sarif.py``; JSON, GitLab Code Quality and JUnit in ``reports.py``.

Writers take the run's diagnostics (``run.Diagnostic``: a finding, its display filename, its level), already
sorted by path and line.
"""
from __future__ import annotations

from typing import IO, List

from ..analysis.model import Finding, RepoVerdict
from ..analysis.rules import BUG_VERDICTS

_BOLD, _RED, _CYAN, _YELLOW, _RESET = "\033[1m", "\033[31m", "\033[36m", "\033[33m", "\033[0m"


def lint_findings(v: RepoVerdict) -> List[Finding]:
    """What the linter reports: bugs only, one line per place."""
    seen, out = set(), []
    for f in v.findings:
        if f.verdict in BUG_VERDICTS and not f.vendored and (f.code, f.path, f.line, f.col) not in seen:
            seen.add((f.code, f.path, f.line, f.col))
            out.append(f)
    return out


def _detail(f: Finding) -> str:
    return f" [dataset {f.dataset}; loader {f.loader.split(': ', 1)[0]}, num_workers {f.num_workers}]" \
        if f.loader else ""


def _note(d) -> str:
    return f" (note: does not show with the target {d.target.describe()})" if d.level == "note" else ""


def _head(d, colour: bool) -> str:
    f = d.finding
    if not colour:
        return f"{d.filename}:{f.line}:{f.col}: {f.code}"
    tint = _RED if d.level == "error" else _YELLOW
    return f"{_BOLD}{d.filename}{_RESET}{_CYAN}:{_RESET}{f.line}{_CYAN}:{_RESET}{f.col}{_CYAN}:{_RESET} " \
           f"{_BOLD}{tint}{f.code}{_RESET}"


def full_line(d, colour: bool = False) -> str:
    """``path:line:col: CODE message [evidence]``, the message whole (problem, then fix)."""
    return f"{_head(d, colour)} {d.finding.message}{_detail(d.finding)}{_note(d)}"


def concise_line(d, colour: bool = False) -> str:
    """``path:line:col: CODE problem``: the message's first sentence only."""
    first = d.finding.message.split(". ", 1)[0].rstrip(".")
    return f"{_head(d, colour)} {first}{' (note)' if d.level == 'note' else ''}"


def write_full(diagnostics, out: IO[str], colour: bool = False) -> None:
    for d in diagnostics:
        out.write(full_line(d, colour) + "\n")


def write_concise(diagnostics, out: IO[str], colour: bool = False) -> None:
    for d in diagnostics:
        out.write(concise_line(d, colour) + "\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_line(d) -> str:
    """A GitHub workflow command: ``::error file=...,line=...,col=...,title=...::message``. Notes are
    ``::notice`` and SRV901 ``::warning``, so only real failures show as errors on the pull request."""
    f = d.finding
    command = {"error": "error", "note": "notice"}.get(d.level, "warning")
    props = ",".join(f"{k}={_escape_property(str(v))}" for k, v in (
        ("file", d.filename), ("line", f.line), ("col", f.col), ("title", f"survey {f.code}")))
    return f"::{command} {props}::{_escape_data(f.code + ' ' + f.message + _detail(f) + _note(d))}"


def write_github(diagnostics, out: IO[str]) -> None:
    for d in diagnostics:
        out.write(github_line(d) + "\n")
