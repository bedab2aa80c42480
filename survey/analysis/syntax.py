"""Reading CPython syntax nodes: dotted names, literal strings, call arguments, and source text by position."""
from __future__ import annotations

import ast
import re
from typing import List, Optional


_NEWLINE = re.compile(r"\r\n|\r|\n")


class SourceText:
    """Line and column of nodes as a reader counts them (ast counts columns in UTF-8 bytes), and their text."""

    def __init__(self, text: str):
        self.text = text
        self.ascii = text.isascii()
        self._lines: Optional[List[str]] = None

    @property
    def lines(self) -> List[str]:
        if self._lines is None:
            self._lines = _NEWLINE.split(self.text)
        return self._lines

    def column(self, line: int, offset: int) -> int:
        if self.ascii or line > len(self.lines):
            return offset
        return len(self._cut(self.lines[line - 1], 0, offset))

    def _cut(self, line: str, start: int, end: Optional[int] = None) -> str:
        """A line between two UTF-8 byte offsets (character offsets are the same for ASCII)."""
        if self.ascii:
            return line[start:end]
        return line.encode("utf-8")[start:end].decode("utf-8", "replace")

    def segment(self, node) -> str:
        if getattr(node, "end_lineno", None) is None:
            return ""
        return self.span(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)

    def span(self, first: int, start: int, last: int, end: int) -> str:
        """Source text between two (line, UTF-8 byte offset) positions, as ast gives them."""
        lines = self.lines[first - 1:last]
        if not lines:
            return ""
        if len(lines) == 1:
            return self._cut(lines[0], start, end)
        return "\n".join([self._cut(lines[0], start), *lines[1:-1], self._cut(lines[-1], 0, end)])


def argument_nodes(args: ast.arguments) -> List[ast.AST]:
    out: List[ast.AST] = [*args.defaults, *(d for d in args.kw_defaults if d is not None)]
    for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg):
        if a is not None and a.annotation is not None:
            out.append(a.annotation)
    return out


def dotted(node) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    parts.append(node.id)
    return ".".join(reversed(parts))


def literal_str(node) -> Optional[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def string_key(node: ast.Subscript) -> Optional[str]:
    return literal_str(node.slice)


def positional(node: ast.Call) -> List[ast.expr]:
    return [a for a in node.args if not isinstance(a, ast.Starred)]


def arg_values(node: ast.Call) -> List[ast.expr]:
    return [*(a.value if isinstance(a, ast.Starred) else a for a in node.args), *(k.value for k in node.keywords)]


def call_arguments(node: ast.Call):
    """(keyword or "", value) of every argument, in the order written."""
    for a in node.args:
        yield "", a.value if isinstance(a, ast.Starred) else a
    for k in node.keywords:
        yield k.arg or "", k.value


def keyword_is_true(node: ast.Call, name: str) -> bool:
    return any(k.arg == name and isinstance(k.value, ast.Constant) and k.value.value is True for k in node.keywords)


def is_super_call(node) -> bool:
    """``super()`` or ``super(Cls, self)``."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
