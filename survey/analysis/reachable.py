"""Whether a loader can ever start a worker: the rule for code nothing runs.

A loader built at module level, in an ``if __name__ == "__main__":`` block, in a Lightning ``*_dataloader``
hook, in a dunder method or in ``main`` runs. So does one in a function of an importable module without a
``__main__`` block: that is API a user's script or notebook may call. In an entry script (a file with an
``if __name__ == "__main__":`` block) a function runs when something can call it: its name is spelled
somewhere in the repository besides its own ``def`` (a call, a reference passed on, a registry entry).
A script's function whose name appears nowhere else, such as a ``get_data_loaders()`` left over from an
older version, cannot start a worker, and its loaders do not decide the verdict; their findings are
kept, marked ``unreachable``. Spelled anywhere is generous on purpose: a false "unreachable" would hide a
real bug, a false "reachable" only keeps today's verdict.
"""
from __future__ import annotations

import re
from typing import Dict

from .sources import RepoFiles

_ALWAYS = ("main", "<module>")
_MAIN_BLOCK = re.compile(rb"""^if\s+__name__\s*==\s*['"]__main__['"]""", re.MULTILINE)


class Reachability:
    def __init__(self, repo: RepoFiles):
        self.repo = repo
        self._memo: Dict[str, bool] = {}
        self._scripts: Dict[str, bool] = {}

    def loader_runs(self, scope: str, module: str) -> bool:
        """Whether the function or method with this qualname, defined in ``module``, can run."""
        name = scope.rsplit(".", 1)[-1]
        if name in _ALWAYS or name.startswith("__") or name.endswith("_dataloader") or "<lambda" in name:
            return True
        if not self._is_script(module):
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
