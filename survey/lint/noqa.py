"""``# noqa`` and ``# noqa: SRVnnn`` comments, as flake8 and ruff honour them."""
from __future__ import annotations

from pathlib import Path
from typing import Dict

from ..analysis.facts import noqa_lines
from ..analysis.sources import decode


def without_noqa(findings, root: Path):
    """Findings not silenced by a ``# noqa`` or ``# noqa: SRVnnn`` comment on their line."""
    cache: Dict[str, dict] = {}
    out = []
    for f in findings:
        if f.path not in cache:
            try:
                cache[f.path] = dict(noqa_lines(decode((Path(root) / f.path).read_bytes())))
            except (OSError, SyntaxError, UnicodeDecodeError):
                cache[f.path] = {}
        codes = cache[f.path].get(f.line)
        if codes is None or (codes and f.code not in codes.split(",")):
            out.append(f)
    return out
