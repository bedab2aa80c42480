"""Finding codes and their messages, in one table.

Hundreds group families: 1xx affected, 2xx flawed reseed, 3xx informational (not a bug), 9xx analysis
errors. Each message's first sentence states the problem, the second the fix. The README's rule table is
generated from this table (``python -m survey.rules``) and a test keeps the two in step.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict


@dataclass(frozen=True)
class Rule:
    code: str
    verdict: str
    title: str
    message: str


_FIX_SEED = ("Reseed in a worker_init_fn from torch.initial_seed() (or get_worker_info().seed), "
             "which differs per worker and per epoch.")

RULES: Dict[str, Rule] = {r.code: r for r in (
    Rule("SRV101", "affected", "NumPy global RNG in DataLoader workers",
         "NumPy's global RNG is drawn in the workers of a multi-worker DataLoader without a per-worker reseed, "
         "so every worker repeats the same numbers on torch < 1.9. " + _FIX_SEED),
    Rule("SRV102", "affected", "NumPy RNG object copied into DataLoader workers",
         "A NumPy RNG object created in the parent process is drawn in the workers of a multi-worker "
         "DataLoader, so every worker repeats the same numbers on every torch version. Create the RNG "
         "lazily inside the worker, or reseed it in a worker_init_fn from get_worker_info().seed."),
    Rule("SRV201", "flawed-seed", "constant worker seed",
         "The worker reseed uses a constant, so every worker and every epoch draws the same numbers. "
         + _FIX_SEED),
    Rule("SRV202", "flawed-seed", "worker seed repeats every epoch",
         "The worker reseed is built from worker_id and fixed values, so the numbers repeat in every epoch. "
         + _FIX_SEED),
    Rule("SRV203", "flawed-seed", "np.random.get_state()[1][0] worker seed",
         "The worker reseed uses np.random.get_state()[1][0], which PyTorch >= 1.9 makes the same constant "
         "in every worker and epoch, undoing PyTorch's own reseed. " + _FIX_SEED),
    Rule("SRV204", "flawed-seed", "reseed misses NumPy",
         "The worker reseed covers Python's random or torch but not the NumPy RNG the dataset draws from. "
         "Reseed NumPy too, from torch.initial_seed()."),
    Rule("SRV205", "flawed-seed", "global reseed while an RNG object is drawn",
         "The worker reseed covers NumPy's global RNG, but the dataset draws from an RNG object copied from "
         "the parent. Reseed that object (or create it) inside the worker from get_worker_info().seed."),
    Rule("SRV206", "flawed-seed", "seeded by the sample index",
         "The RNG is reseeded with the sample index, so each sample gets the same augmentation in every "
         "epoch. Draw from a per-worker RNG seeded from torch.initial_seed() instead."),
    Rule("SRV207", "flawed-seed", "wall-clock worker seed",
         "The worker reseed comes from the wall clock, and workers started in the same tick (int(time.time()) "
         "is one second) get the same seed. " + _FIX_SEED),
    Rule("SRV301", "seeded", "NumPy randomness reseeded per worker",
         "NumPy randomness in DataLoader workers is reseeded per worker and per epoch. Nothing to fix."),
    Rule("SRV302", "single-process", "NumPy randomness without worker processes",
         "NumPy randomness is drawn on a Dataset's per-sample path, but no loader of it uses worker "
         "processes. Reseed per worker before raising num_workers above 0."),
    Rule("SRV901", "", "file not analysed",
         "The file could not be analysed. Fix the reported problem for it to be checked."),
)}

BUG_VERDICTS = ("affected", "flawed-seed")


def message(code: str) -> str:
    return RULES[code].message


def markdown_table() -> str:
    lines = ["| code | verdict | what it finds |", "| --- | --- | --- |"]
    for rule in RULES.values():
        lines.append(f"| {rule.code} | {rule.verdict or '-'} | {rule.message} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(markdown_table())
