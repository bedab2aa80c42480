"""The torch a project runs with, and whether each finding shows with it.

PyTorch reseeds NumPy's *global* RNG in every DataLoader worker since 1.9 (``torch/utils/data/_utils/
worker.py``, ``_generate_state``), so a global-RNG finding without a reseed (SRV101), or a reseed that only
misses NumPy (SRV204), shows only where torch < 1.9 can be installed. RNG objects and reseeds that replace
PyTorch's own show on every version. The target comes from, first to last: ``--target-torch`` /
``target-torch``, the project's pins, the torch installed where survey runs (its metadata, never imported),
else a current release.
"""
from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from ..analysis.classify import effective
from ..analysis.model import Finding
from ..analysis.pins import admits, find_pins, torch_era


class TargetError(ValueError):
    """A --target-torch / target-torch value that is neither a version nor a specifier."""


@dataclass(frozen=True)
class TorchTarget:
    spec: str        # a specifier set ("==2.13.0", ">=1.8,<2"), or "" for a current release
    source: str      # "--target-torch", "target-torch in pyproject.toml", "pins", "installed", "current"
    era: str         # as pins.torch_era: "old" (< 1.9 only), "new" (>= 1.9 only) or "unknown" (both)

    def describe(self) -> str:
        if not self.spec:
            return f"a current torch release ({self.source})"
        exact = self.spec.startswith("==") and not any(c in self.spec for c in ",;")
        what = f"torch {self.spec[2:] if exact else self.spec}"
        return f"{what} ({self.source})"


def as_specifier(text: str) -> str:
    """``"1.8"`` means the torch you run: ``==1.8.*``; a specifier (``">=1.6,<2"``) is kept."""
    text = text.strip()
    try:
        if text and text[0].isdigit():
            v = Version(text)
            return f"=={v}" if len(v.release) >= 3 or v.local else f"=={v}.*"
        SpecifierSet(text)
    except (InvalidVersion, InvalidSpecifier):
        raise TargetError(f"target torch {text!r} is neither a version (2.1) nor a specifier (>=1.8,<2)") from None
    if not text:
        raise TargetError("target torch is empty")
    return text


def era_of(spec: str) -> str:
    old, new = admits(spec)
    return "old" if old and not new else "new" if new and not old else "unknown"


def installed_torch() -> str:
    """The version of the torch distribution installed in this environment, from its metadata; "" if none."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return ""


def resolve(root: Path, given: str = "", given_by: str = "--target-torch") -> TorchTarget:
    if given:
        spec = as_specifier(given)
        return TorchTarget(spec, given_by, era_of(spec))
    pins = find_pins(root)
    if pins:
        specs = "; ".join(dict.fromkeys(spec for _, spec in pins))
        files = ", ".join(dict.fromkeys(path for path, _ in pins))
        return TorchTarget(specs, f"pinned in {files}", torch_era(pins))
    version = installed_torch()
    if version:
        spec = f"=={version}"
        return TorchTarget(spec, "installed", era_of(spec))
    return TorchTarget("", "current", "new")


def shows(f: Finding, target: TorchTarget) -> bool:
    """Whether the finding's bug shows with the target torch; what does not is a note, not a failure."""
    if f.code == "SRV901":
        return False
    return effective(f.verdict, f.rng_kind, (f.code,), target.era) != "no"
