"""Code written for a newer Python than the one running survey, rewritten so CPython's ``ast`` reads it.

The analysis parses with the running interpreter's ``ast``; on 3.11 that rejects PEP 695 (``type X = ...``,
``def f[T]()``, ``class C[T]``) and PEP 701 f-strings (``f"{cfg["k"]}"``), so a Dataset in such a file went
unseen. Only when ``ast.parse`` fails on a line that shows one of those constructs, libcst (whose parser
knows them) parses the file and they are rewritten into equivalents with the same lines: an alias becomes
an assignment, type parameters are dropped (they bind no runtime names the analysis follows), and an
f-string that this Python cannot read becomes a tuple of its expressions (the text around them carries no
NumPy draw or loader argument).
"""
from __future__ import annotations

import ast
import re
from functools import lru_cache
from typing import Optional

_HINT = re.compile(r"^\s*type\s+\w|\b(?:def|class)\s+\w+\s*\[|(?<![\w])[rRbB]?[fF][rR]?['\"]")
_BRACKETS = re.compile(r"[()\[\]{}]")
MAX_DEPTH = 200   # libcst's native parser recurses per level; CPython stops at 200 nested brackets too


def _parses(code: str, mode: str = "exec") -> bool:
    try:
        ast.parse(code, mode=mode)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _shallow(text: str) -> bool:
    depth = 0
    for m in _BRACKETS.finditer(text):
        depth += 1 if m.group() in "([{" else -1
        if depth > MAX_DEPTH:
            return False
    return True


@lru_cache(maxsize=None)
def _libcst():
    """libcst and the rewriting transformer, imported when a file first needs them: importing libcst takes
    0.16 s, half of what a classify process spends before its first repository."""
    import libcst as cst

    class Downlevel(cst.CSTTransformer):
        def __init__(self, module: cst.Module):
            super().__init__()
            self.module = module

        def leave_TypeAlias(self, original, updated):
            return cst.Assign(targets=[cst.AssignTarget(updated.name)], value=updated.value)

        def leave_FunctionDef(self, original, updated):
            return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

        def leave_ClassDef(self, original, updated):
            return updated.with_changes(type_parameters=None) if updated.type_parameters else updated

        def leave_FormattedString(self, original, updated):
            code = self.module.code_for_node(updated)
            if _parses(code, "eval"):
                return updated
            parts = [self.module.code_for_node(p.expression) for p in updated.parts
                     if isinstance(p, cst.FormattedStringExpression)]
            text = "(" + ", ".join(parts or ['""']) + ","
            text += "\n" * (code.count("\n") - text.count("\n")) + ")"
            return cst.parse_expression(text)
    return cst, Downlevel


def downlevel(text: str, error: SyntaxError) -> Optional[str]:
    """``text`` rewritten for this Python's ``ast`` with every line where it was, or None when the error is
    not about newer syntax (Python 2, a real syntax error) or the rewrite does not parse either."""
    lines = text.splitlines()
    line = lines[error.lineno - 1] if error.lineno and 0 < error.lineno <= len(lines) else ""
    if not _HINT.search(line) or not _shallow(text):
        return None
    cst, downlevel_transformer = _libcst()
    try:
        module = cst.parse_module(text)
        out = module.visit(downlevel_transformer(module)).code
    except Exception:  # libcst's own parse and codegen errors, RecursionError: not newer Python then
        return None
    if out.count("\n") != text.count("\n") or not _parses(out):
        return None
    return out
