"""Statements found in a file's bytes by the keyword that starts them.

A pattern anchored with ``^`` and re.MULTILINE is tried at every position of the file (0.2 to 0.3 s per
pass over 27 MB of real code); one that starts with its keyword is searched for as a literal, five times
faster. ``at_line_start`` finds what the anchored pattern ``^[ \\t]*`` + pattern finds, the same matches in
the same order, with the groups of ``pattern``.
"""
from __future__ import annotations

from typing import Iterator, Match, Pattern


def at_line_start(pattern: Pattern[bytes], data: bytes) -> Iterator[Match[bytes]]:
    """The non-overlapping matches of pattern that only blanks precede on their line."""
    pos = 0
    search = pattern.search
    while True:
        m = search(data, pos)
        if m is None:
            return
        start = m.start()
        line = data.rfind(b"\n", 0, start) + 1
        if line == start or not data[line:start].strip(b" \t"):
            yield m
            pos = max(m.end(), start + 1)
        else:
            # not a statement (prose, a comment, the middle of a line): a statement may still start within
            # what this match spans, as the anchored pattern would find it
            pos = start + 1
