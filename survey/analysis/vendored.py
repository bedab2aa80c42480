"""Vendored third-party trees: copies of other projects inside a repository.

A repository that carries a copy of fairseq, mmcv or an MLPerf reference ships that code, but the bug in it
is that project's, and a survey counting it would count the same upstream file once per copy. A folder
below the repository root is taken as vendored when:

- its name says so (``third_party``, ``3rdparty``, ``external``, ``vendor``, ...); or
- it is packaged as a project of its own (``setup.py``, ``setup.cfg`` or ``pyproject.toml``) and either
  holds its own licence (``LICENSE*``, ``LICENCE*``, ``COPYING*``) or is a well-known third-party project
  (``fairseq``, ``mmcv``, ``detectron2``, ``timm``, ...).

A licence alone is not enough: projects keep attribution files in folders of their own code (a ``vocoder/``
adapted from another repository, with its licence), and packaging alone is not either (a CUDA extension
built by its own ``setup.py``).

Everything under such a folder is vendored. The repository root's own licence and packaging never count.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import FrozenSet

from .sources import SKIP_DIRS

_LICENCE_PREFIXES = ("license", "licence", "copying")
_VENDOR_FOLDERS = frozenset({"third_party", "third-party", "thirdparty", "3rdparty", "3rd_party", "external",
                             "externals", "extern", "vendor", "vendored", "_vendor"})
_KNOWN_PROJECTS = frozenset({
    "fairseq", "mmcv", "mmdet", "mmdetection", "mmseg", "mmsegmentation", "mmpose", "mmengine", "mmaction",
    "mmaction2", "detectron2", "timm", "apex", "transformers", "yolov5", "ultralytics", "segment_anything",
    "pytorch_lightning", "torchvision", "espnet", "nemo", "allennlp", "fvcore", "pycocotools", "kornia",
})
_PACKAGING = frozenset({"setup.py", "setup.cfg", "pyproject.toml"})
_MAX_DIRS = 20_000  # a walk of folder names only; bounded for repositories of generated folders


def vendored_roots(root: Path) -> FrozenSet[str]:
    """Repo-relative folders (``a/b``) whose contents are vendored, by the rules above."""
    out = set()
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        seen += 1
        if seen > _MAX_DIRS:
            break
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not d.startswith("."))
        rel = Path(dirpath).relative_to(root).as_posix()
        if rel == ".":
            continue
        name = rel.rsplit("/", 1)[-1]
        lowered = {f.lower() for f in filenames}
        packaged = bool(lowered & _PACKAGING)
        if name.lower() in _VENDOR_FOLDERS or packaged and (
                name.lower() in _KNOWN_PROJECTS or any(f.startswith(_LICENCE_PREFIXES) for f in lowered)):
            out.add(rel)
            dirnames[:] = []  # everything below is vendored already
    return frozenset(out)


def is_vendored(path: str, roots: FrozenSet[str]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)
