"""``[tool.survey]`` in a project's ``pyproject.toml``, merged with the command line (which wins).

Keys are spelled as ruff spells its own (``select``, ``ignore``, ``extend-select``, ``per-file-ignores``,
``exclude``, ``extend-exclude``), plus ``target-torch`` and ``respect-gitignore``. An unknown key, or a value
of the wrong type, is an error naming the key: a typo must not silently lint with the defaults.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from ..analysis.rules import RULES

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.9 and 3.10
    import tomli as tomllib

# What marks a project's root, as ruff and black look for it.
ROOT_MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
MAX_PYPROJECT_BYTES = 1_000_000
_LISTS = ("select", "ignore", "extend-select", "exclude", "extend-exclude")
_KEYS = set(_LISTS) | {"per-file-ignores", "target-torch", "respect-gitignore"}


class ConfigError(ValueError):
    """A configuration the user must correct; the message names the file and the key."""


@dataclass(frozen=True)
class Settings:
    select: Tuple[str, ...] = ("SRV",)
    ignore: Tuple[str, ...] = ()
    extend_select: Tuple[str, ...] = ()
    per_file_ignores: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    exclude: Tuple[str, ...] = ()
    extend_exclude: Tuple[str, ...] = ()
    target_torch: str = ""
    respect_gitignore: bool = True
    base: Optional[Path] = None       # the directory patterns are relative to: the config file's
    source: str = ""                  # the file the settings came from, for messages

    def selects(self, code: str) -> bool:
        """ruff's rule: the longest matching prefix wins, ``ignore`` over ``select`` at equal length."""
        chosen = prefix_rank(code, (*self.select, *self.extend_select))
        dropped = prefix_rank(code, self.ignore)
        return chosen > 0 and chosen > dropped


def prefix_rank(code: str, prefixes) -> int:
    best = 0
    for p in prefixes:
        if p == "ALL":
            best = max(best, 1)
        elif code.startswith(p):
            best = max(best, len(p) + 1)
    return best


def project_root(path: Path) -> Path:
    """The nearest directory at or above ``path`` holding a root marker; else the file's own directory."""
    path = path.resolve()
    start = path if path.is_dir() else path.parent
    for d in (start, *start.parents):
        if any((d / m).exists() for m in ROOT_MARKERS):
            return d
    return start


def find_config(start: Path) -> Optional[Path]:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.survey]`` table."""
    start = start.resolve()
    for d in (start, *start.parents):
        candidate = d / "pyproject.toml"
        if candidate.is_file() and b"tool.survey" in _read(candidate):
            if "survey" in _parse(candidate).get("tool", {}):
                return candidate
    return None


def _read(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(MAX_PYPROJECT_BYTES + 1)


def _parse(path: Path) -> dict:
    data = _read(path)
    if len(data) > MAX_PYPROJECT_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_PYPROJECT_BYTES} bytes")
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def load(config: Optional[Path]) -> Settings:
    """Settings from a ``pyproject.toml`` (its ``[tool.survey]``), or the defaults when there is none."""
    if config is None:
        return Settings()
    table = _parse(config).get("tool", {}).get("survey", {})
    return from_table(table, str(config), config.parent.resolve())


def from_table(table: dict, source: str, base: Path) -> Settings:
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [tool.survey] must be a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key [tool.survey] {unknown[0]!r} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    values: Dict[str, object] = {"source": source, "base": base}
    for key in _LISTS:
        if key in table:
            values[key.replace("-", "_")] = _strings(table[key], f"{source}: [tool.survey] {key}")
    for key in ("select", "ignore", "extend-select"):
        for code in values.get(key.replace("-", "_"), ()):
            check_code(code, f"{source}: [tool.survey] {key}")
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{source}: [tool.survey] per-file-ignores must be a table of pattern = [codes]")
        pairs = []
        for pattern, codes in pfi.items():
            where = f"{source}: [tool.survey.per-file-ignores] {pattern!r}"
            codes = _strings(codes, where)
            for code in codes:
                check_code(code, where)
            pairs.append((pattern, codes))
        values["per_file_ignores"] = tuple(pairs)
    if "target-torch" in table:
        if not isinstance(table["target-torch"], str):
            raise ConfigError(f"{source}: [tool.survey] target-torch must be a string such as \"2.1\" or \">=1.8\"")
        values["target_torch"] = table["target-torch"]
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{source}: [tool.survey] respect-gitignore must be true or false")
        values["respect_gitignore"] = table["respect-gitignore"]
    return Settings(**values)


def _strings(value, where: str) -> Tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of strings")
    return tuple(value)


def check_code(code: str, where: str) -> None:
    """A selector is ``ALL`` or a prefix of a rule code (``SRV``, ``SRV1``, ``SRV101``)."""
    if code != "ALL" and not any(c.startswith(code) for c in RULES):
        raise ConfigError(f"{where}: {code!r} is no rule code or prefix of one (see survey rule --all)")


@dataclass(frozen=True)
class Overrides:
    """What the command line said; None (or empty) where it said nothing."""
    select: Optional[List[str]] = None
    ignore: Optional[List[str]] = None
    extend_select: List[str] = field(default_factory=list)
    exclude: Optional[List[str]] = None
    extend_exclude: List[str] = field(default_factory=list)
    target_torch: Optional[str] = None


def merged(settings: Settings, cli: Overrides) -> Settings:
    """The command line over the file: lists given on it replace the file's, ``extend-*`` add to them."""
    for name, codes in (("--select", cli.select), ("--ignore", cli.ignore), ("--extend-select", cli.extend_select)):
        for code in codes or ():
            check_code(code, name)
    return Settings(
        select=tuple(cli.select) if cli.select is not None else settings.select,
        ignore=(*settings.ignore, *cli.ignore) if cli.ignore is not None else settings.ignore,
        extend_select=(*(settings.extend_select if cli.select is None else ()), *cli.extend_select),
        per_file_ignores=settings.per_file_ignores,
        exclude=tuple(cli.exclude) if cli.exclude is not None else settings.exclude,
        extend_exclude=(*settings.extend_exclude, *cli.extend_exclude),
        target_torch=cli.target_torch if cli.target_torch is not None else settings.target_torch,
        respect_gitignore=settings.respect_gitignore,
        base=settings.base, source=settings.source,
    )
