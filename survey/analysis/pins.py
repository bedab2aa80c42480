"""The torch version a repository asks for, from its requirements, setup and environment files.

Files are read as text and matched, never executed (setup.py included).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Tuple

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

# Releases either side of 1.9, the first torch that reseeds NumPy's global RNG in each worker.
_RELEASES = [Version(v) for v in (
    "0.1.12", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "0.4.1", "1.0.0", "1.0.1", "1.1.0", "1.2.0", "1.3.0", "1.3.1",
    "1.4.0", "1.5.0", "1.5.1", "1.6.0", "1.7.0", "1.7.1", "1.8.0", "1.8.1", "1.8.2", "1.9.0", "1.9.1", "1.10.0",
    "1.10.1", "1.10.2", "1.11.0", "1.12.0", "1.12.1", "1.13.0", "1.13.1", "2.0.0", "2.0.1", "2.1.0", "2.1.2",
    "2.2.0", "2.2.2", "2.3.0", "2.3.1", "2.4.0", "2.4.1", "2.5.0", "2.5.1", "2.6.0", "2.7.0", "2.7.1", "2.8.0",
    "2.9.0", "2.9.1", "2.10.0", "2.11.0", "2.12.0", "2.13.0", "2.14.0", "2.14.1", "3.0.0")]
FIXED_IN = Version("1.9.0")
MAX_BYTES = 200_000

_PIP = re.compile(r"""(?ix)(?:^|[\s"'\[,])(?:torch|pytorch)(?:\[[^\]]*\])?\s*
                      (?P<spec>(?:[=<>!~]=?=?|\^)\s*[0-9][0-9a-z.*+]*(?:\s*,\s*[=<>!~]=?\s*[0-9][0-9a-z.*+]*)*)""")
_TOML_TABLE = re.compile(r"""(?im)^\s*(?:torch|pytorch)\s*=\s*(?:\{[^}]*version\s*=\s*)?["'](?P<spec>[^"']+)["']""")


def _candidates(root: Path) -> List[Path]:
    out = []
    for pattern in ("requirements*.txt", "requirements/*.txt", "*requirements*.txt", "setup.py", "setup.cfg",
                    "pyproject.toml", "environment*.yml", "environment*.yaml", "env*.yml", "conda*.yml"):
        out.extend(p for p in root.glob(pattern) if p.is_file() and not p.is_symlink())
    return sorted(set(out))


def _normalise(spec: str) -> Optional[str]:
    spec = spec.strip().replace(" ", "")
    if spec.startswith("^"):
        v = Version(spec[1:].rstrip(".*"))
        upper = f"{v.major + 1}.0" if v.major else f"0.{v.minor + 1}"
        return f">={v},<{upper}"
    if spec.startswith("~") and not spec.startswith("~="):
        v = Version(spec[1:].rstrip(".*"))
        return f">={v},<{v.major}.{v.minor + 1}"
    if re.match(r"^=[0-9]", spec):  # conda: pytorch=1.8 means 1.8.*
        body = spec[1:].split("=")[0]
        return f"=={body}" if "*" in body or body.count(".") >= 2 else f"=={body}.*"
    return spec


def find_pins(root: Path) -> List[Tuple[str, str]]:
    """(file, specifier) for every torch constraint found."""
    pins = []
    for path in _candidates(root):
        try:
            if path.stat().st_size > MAX_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        rel = path.relative_to(root).as_posix()
        lines = [ln.split("#", 1)[0] for ln in text.splitlines()]
        specs = [m.group("spec") for ln in lines for m in _PIP.finditer(ln)]
        if path.suffix == ".toml":
            specs += [m.group("spec") for m in _TOML_TABLE.finditer(text)]
        for spec in specs:
            try:
                norm = _normalise(spec)
                SpecifierSet(norm)
            except (InvalidSpecifier, ValueError):
                continue
            if (rel, norm) not in pins:
                pins.append((rel, norm))
    return pins


def admits(spec: str) -> Tuple[bool, bool]:
    """Whether the specifier admits a torch release before 1.9, and one from 1.9 on."""
    s = SpecifierSet(spec)
    s.prereleases = True
    old = any(v in s for v in _RELEASES if v < FIXED_IN)
    new = any(v in s for v in _RELEASES if v >= FIXED_IN)
    if not old and not new:  # a release newer than our list (or a local build): compare directly
        try:
            bound = Version(re.sub(r"[^0-9.].*$", "", spec.lstrip("=<>!~")).rstrip("."))
            return bound < FIXED_IN, bound >= FIXED_IN
        except ValueError:
            return False, False
    return old, new


def torch_era(pins: List[Tuple[str, str]]) -> str:
    """ "old" if every pin admits only torch < 1.9, "new" if only >= 1.9, else "unknown"."""
    if not pins:
        return "unknown"
    eras = set()
    for _, spec in pins:
        old, new = admits(spec)
        eras.add("both" if old and new else "old" if old else "new" if new else "both")
    return eras.pop() if len(eras) == 1 and "both" not in eras else "unknown"
