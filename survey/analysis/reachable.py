"""Whether a loader can ever start a worker: the rule for code nothing runs.

A loader built at module level, in an ``if __name__ == "__main__":`` block, in a Lightning
``train/val/test/predict_dataloader`` hook, in a dunder method or in ``main`` runs. So does one in a function
of an importable module without a ``__main__`` block when the repository is an installable package (a
``setup.py``, ``setup.cfg`` or ``pyproject.toml`` at its root: API its users call) or when nothing in the
repository imports that module (a top-level module a user's script or notebook may call). Elsewhere (an entry
script, or a module of the repository's own library in a project nobody installs, such as a copied
``utils/datasets.py`` whose ``create_dataloader`` the copy's training script did not come with) a function
runs when something can call it: its name is spelled somewhere in the repository besides its own ``def`` (a
call, a reference passed on, a registry entry).
A script's function whose name appears nowhere else, such as a ``get_data_loaders()`` left over from an
older version, cannot start a worker, and its loaders do not decide the verdict; their findings are
kept, marked ``unreachable``. Spelled anywhere is generous on purpose: a false "unreachable" would hide a
real bug, a false "reachable" only keeps today's verdict.
"""
from __future__ import annotations

import re
from typing import Dict, Optional

from .lines import at_line_start
from .sources import RepoFiles

_ALWAYS = ("main", "<module>")
_PACKAGING = ("setup.py", "setup.cfg", "pyproject.toml")
# called by Lightning's Trainer (create_dataloader is not one of them)
_LIGHTNING_HOOKS = frozenset({"train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader"})
# statements, found by at_line_start
_FROM_LINE = re.compile(rb"from[ \t]+(\.*[\w.]*)[ \t]+import")
_IMPORT_LINE = re.compile(rb"import[ \t]+([\w.]+)")
_MAIN_BLOCK = re.compile(rb"""^if\s+__name__\s*==\s*['"]__main__['"]""", re.MULTILINE)


class Reachability:
    def __init__(self, repo: RepoFiles):
        self.repo = repo
        self._memo: Dict[str, bool] = {}
        self._scripts: Dict[str, bool] = {}
        self._installable = any((repo.root / name).is_file() for name in _PACKAGING)
        self._imported_modules: Optional[set] = None

    def loader_runs(self, scope: str, module: str) -> bool:
        """Whether the function or method with this qualname, defined in ``module``, can run."""
        name = scope.rsplit(".", 1)[-1]
        if name in _ALWAYS or name.startswith("__") or name in _LIGHTNING_HOOKS or "<lambda" in name:
            return True
        if not self._is_script(module) and (self._installable or not self._imported(module)):
            return True
        if name not in self._memo:
            self._memo[name] = self._spelled_twice(name)
        return self._memo[name]

    def _is_script(self, module: str) -> bool:
        """Whether a module has an ``if __name__ == "__main__":`` block (read once per module)."""
        if module not in self._scripts:
            data = self.repo.read(module) if module in self.repo.paths else None
            self._scripts[module] = bool(data and _MAIN_BLOCK.search(data))
        return self._scripts[module]

    def _imported(self, module: str) -> bool:
        """Whether another module of the repository imports this one (by its last name, as scripts that
        extend sys.path do): then it is the repository's own library, whose dead functions nobody calls."""
        if self._imported_modules is None:
            names = set()
            for other in self.repo.paths:
                data = self.repo.read(other)
                if data and b"import" in data:
                    for m in at_line_start(_IMPORT_LINE, data):
                        names.update(m.group(1).decode("ascii", "replace").strip(".").split("."))
                    for m in at_line_start(_FROM_LINE, data):
                        names.update(m.group(1).decode("ascii", "replace").strip(".").split("."))
                        tail = data[m.end():m.end() + 200].split(b"\n", 1)[0]  # from pkg import mod
                        names.update(w.decode("ascii", "replace") for w in re.findall(rb"\w+", tail))
            self._imported_modules = names
        return module.rsplit(".", 1)[-1] in self._imported_modules

    def _spelled_twice(self, name: str) -> bool:
        token = re.compile(rb"(?<![\w.])" + re.escape(name.encode()) + rb"\b|\." + re.escape(name.encode()) + rb"\b")
        seen = 0
        for module in self.repo.paths:
            data = self.repo.read(module)
            if not data or name.encode() not in data:
                continue
            seen += len(token.findall(data))
            if seen >= 2:
                return True
        return False
