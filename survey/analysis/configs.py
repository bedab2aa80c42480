"""Worker options set in configuration files: YAML (Hydra/OmegaConf trees, yacs), JSON and TOML.

Code reads a worker count as ``cfg.DATALOADER.NUM_WORKERS``, ``self.hparams.num_workers`` or
``config["data"]["workers"]``; the analysis sees the last name (``arg:NUM_WORKERS``) and looks it up
here among every key of every config file, as it does among argparse defaults. Files are parsed as data
(PyYAML's safe loader, ``json``, ``tomllib``): nothing is executed, and each file, the number of files
and the total bytes read are bounded, so a repository of generated configs costs only its bound.

A key set to an integer gives that integer, ``null`` gives None (PyTorch's default, 0), a boolean itself
(``persistent_workers: true``), a mapping with a Hydra ``_target_`` the callable it names (a
``worker_init_fn``); anything else (an OmegaConf interpolation ``${oc.env:WORKERS}``, a string) is unknown.
A key no file sets stays unresolved.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional

import yaml

from . import atoms as A
from .sources import SKIP_DIRS

try:  # Python 3.11+
    import tomllib
except ImportError:  # pragma: no cover - 3.9/3.10
    tomllib = None

_SUFFIXES = (".yaml", ".yml", ".json", ".toml")
MAX_CONFIG_BYTES = 256_000     # per file: configs are small; a large JSON is data, not configuration
MAX_CONFIG_FILES = 2_000
MAX_CONFIG_TOTAL = 16_000_000
_MAX_NODES = 200_000            # keys and items visited per file


class ConfigValues:
    """Every key of the repository's config files, read once on the first lookup."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._keys: Optional[Dict[str, List[FrozenSet[str]]]] = None
        self.files = 0

    def lookup(self, key: str) -> List[FrozenSet[str]]:
        """Atom sets of every value config files give ``key`` (exact name first, then any case)."""
        if self._keys is None:
            self._keys = self._read_all()
        return self._keys.get(key) or self._keys.get(key.lower() + "\0", [])

    def _read_all(self) -> Dict[str, List[FrozenSet[str]]]:
        keys: Dict[str, List[FrozenSet[str]]] = {}
        total = 0
        for path in self._config_files():
            try:
                size = path.stat().st_size
                if size > MAX_CONFIG_BYTES or total + size > MAX_CONFIG_TOTAL:
                    continue
                total += size
                data = _load(path)
            except (OSError, ValueError, yaml.YAMLError, RecursionError, TypeError):
                continue  # a config that does not parse sets nothing; the analysis never needs it whole
            self.files += 1
            for key, value in _pairs(data):
                atoms = _atoms(value)
                keys.setdefault(key, []).append(atoms)
                keys.setdefault(key.lower() + "\0", []).append(atoms)
        return keys

    def _config_files(self):
        seen = 0
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
            for name in sorted(filenames):
                if name.lower().endswith(_SUFFIXES):
                    path = Path(dirpath) / name
                    if path.is_file() and not path.is_symlink():
                        seen += 1
                        if seen > MAX_CONFIG_FILES:
                            return
                        yield path


def _load(path: Path):
    raw = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(raw)
    if suffix == ".toml":
        return tomllib.loads(raw.decode("utf-8")) if tomllib is not None else None
    docs = list(yaml.load_all(raw, Loader=_SafeLoader))
    return docs


class _SafeLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """Safe loading, with tags it does not know (``!!python/name``, ``!include``) read as plain data."""


def _unknown_tag(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_SafeLoader.add_multi_constructor("", _unknown_tag)


def _pairs(data):
    """(key, scalar value) of every mapping entry in a parsed tree, iteratively and bounded."""
    stack = [data]
    visited = 0
    while stack and visited < _MAX_NODES:
        node = stack.pop()
        visited += 1
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(v, dict) and isinstance(v.get("_target_"), str) and isinstance(k, str):
                    yield k, v  # worker_init_fn: {_target_: pkg.seeding.seed_worker, _partial_: true}
                if isinstance(v, (dict, list)):
                    stack.append(v)
                elif isinstance(k, str):
                    yield k, v
        elif isinstance(node, list):
            stack.extend(node)


def _atoms(value) -> FrozenSet[str]:
    if value is None:
        return frozenset({A.NONE})
    if isinstance(value, bool):
        return frozenset({A.TRUE if value else A.FALSE, A.CONST})  # persistent_workers: true
    if isinstance(value, dict):
        return frozenset({A.qual(value["_target_"])})  # Hydra instantiates (or partially applies) the target
    if isinstance(value, int):
        return frozenset({A.integer(value), A.CONST})
    return frozenset({A.OTHER})
