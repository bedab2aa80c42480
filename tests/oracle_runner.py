"""Runs one fixture repository's loader for real and reports whether drawn numbers repeat.

Usage: python oracle_runner.py FIXTURE_DIR. Prints JSON {"now": bool, "undone": bool, "values": n}:
``now`` with the installed torch, ``undone`` with PyTorch's per-worker NumPy reseed undone (every worker
starts from the parent's NumPy state, as on torch < 1.9). Runs in its own process because fixtures'
module names (train, data, ...) collide.
"""
import importlib.util
import json
import sys

import numpy as np
import torch


def load(root):
    sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location("fixture_train", f"{root}/train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def values(module, undo):
    loader = module.make_loader()
    parent = {}
    if undo:
        original = loader.worker_init_fn

        def restore_parent_state(worker_id):
            np.random.set_state(parent["state"])
            if original is not None:
                original(worker_id)

        loader.worker_init_fn = restore_parent_state
    out = []
    for _epoch in range(2):
        parent["state"] = np.random.get_state()  # what a forked worker inherits
        for batch in loader:
            out.extend(torch.as_tensor(batch, dtype=torch.float64).flatten().tolist())
    return out


def repeats(xs):
    return len(xs) != len(set(xs))


def main():
    module = load(sys.argv[1])
    now = values(module, undo=False)
    undone = values(module, undo=True)
    print(json.dumps({"now": repeats(now), "undone": repeats(undone), "values": len(now)}))


if __name__ == "__main__":
    main()
