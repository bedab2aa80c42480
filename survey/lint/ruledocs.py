"""Each rule's documentation beyond its message: why it matters, examples, tags and precision.

``survey rule CODE`` prints it and SARIF carries it as each rule's ``help``. The message (problem, then
fix) stays in ``analysis/rules.py``; a test checks that every rule there has an entry here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from ..analysis.rules import RULES

DOCS_URL = "https://pypi.org/project/survey-worker-rng/"
_LOADER = "loader = DataLoader(Augmented(), batch_size=32, num_workers=4)"
_GOOD_GLOBAL = '''def seed_numpy_worker(worker_id):
    np.random.seed(torch.initial_seed() % 2 ** 32)

loader = DataLoader(Augmented(), batch_size=32, num_workers=4, worker_init_fn=seed_numpy_worker)'''
_GOOD_OBJECT = '''class Augmented(Dataset):
    def __init__(self):
        self.rng = None

    def __getitem__(self, i):
        if self.rng is None:  # first call in this worker
            self.rng = np.random.default_rng(torch.utils.data.get_worker_info().seed)
        return self.rng.normal()'''
_WHY_FORK = ("Each DataLoader worker is a copy of the parent process and starts from the parent's RNG "
             "state, so the workers draw the same sequence: augmentations repeat across the batch.")


@dataclass(frozen=True)
class RuleDoc:
    why: str
    bad: str
    good: str
    tags: Tuple[str, ...] = ("correctness", "pytorch", "randomness")
    precision: str = "high"


DOCS: Dict[str, RuleDoc] = {
    "SRV101": RuleDoc(
        _WHY_FORK + " PyTorch reseeds NumPy's global RNG in each worker since 1.9, so this shows only "
        "where torch < 1.9 can be installed: `survey check` reports it as a note (exit 0) when the "
        "target torch is 1.9 or later.",
        "class Augmented(Dataset):\n    def __getitem__(self, i):\n        return np.random.rand()\n\n" + _LOADER,
        _GOOD_GLOBAL),
    "SRV102": RuleDoc(
        _WHY_FORK + " PyTorch reseeds only the global RNG, never an RNG object, so this shows on every "
        "torch version.",
        "class Augmented(Dataset):\n    def __init__(self):\n        self.rng = np.random.default_rng(0)\n\n"
        "    def __getitem__(self, i):\n        return self.rng.normal()\n\n" + _LOADER,
        _GOOD_OBJECT),
    "SRV201": RuleDoc(
        "A constant seed gives every worker the same state, and the same state again in every epoch.",
        "loader = DataLoader(ds, num_workers=4, worker_init_fn=lambda _: np.random.seed(42))",
        _GOOD_GLOBAL.replace("Augmented()", "ds")),
    "SRV202": RuleDoc(
        "A seed from worker_id alone differs between workers but is the same in every epoch, since each "
        "epoch starts new workers with the same ids (unless persistent_workers=True).",
        "loader = DataLoader(ds, num_workers=4, worker_init_fn=lambda wid: np.random.seed(wid))",
        _GOOD_GLOBAL.replace("Augmented()", "ds")),
    "SRV203": RuleDoc(
        "get_state()[1][0] is the first word of the Mersenne Twister state. Before torch 1.9 that state is "
        "the parent's, copied into every worker, so the seed repeats every epoch; from 1.9 on the recipe "
        "replaces PyTorch's per-worker reseed with a value that is the same in every worker and epoch.",
        "def init(worker_id):\n    np.random.seed(np.random.get_state()[1][0] + worker_id)",
        _GOOD_GLOBAL.replace("Augmented()", "ds")),
    "SRV204": RuleDoc(
        "A worker_init_fn that reseeds Python's random or torch leaves NumPy's state as forked.",
        "def init(worker_id):\n    random.seed(torch.initial_seed())",
        "def init(worker_id):\n    random.seed(torch.initial_seed())\n"
        "    np.random.seed(torch.initial_seed() % 2 ** 32)"),
    "SRV205": RuleDoc(
        "np.random.seed() reseeds the global RNG only; an RNG object created in the parent keeps its "
        "copied state.",
        "def init(worker_id):\n    np.random.seed(torch.initial_seed() % 2 ** 32)  # self.rng untouched",
        _GOOD_OBJECT),
    "SRV206": RuleDoc(
        "Seeding with the sample index makes sample i draw the same numbers in every epoch, which removes "
        "the augmentation's variety.",
        "def __getitem__(self, i):\n    np.random.seed(i)\n    return np.random.rand()",
        _GOOD_OBJECT, precision="medium"),
    "SRV207": RuleDoc(
        "A seed read from the wall clock differs per epoch, but DataLoader workers start within microseconds "
        "of each other: int(time.time()) is the same second for all of them, so they draw the same numbers.",
        "def worker_init_fn(worker_id):\n    np.random.seed(int(time.time()))",
        "def worker_init_fn(worker_id):\n    np.random.seed(torch.initial_seed() % 2 ** 32)", precision="medium"),
    "SRV301": RuleDoc("Informational: the pattern is handled. `survey check` does not report it.", "", "",
                      tags=("pytorch", "randomness"), precision="high"),
    "SRV302": RuleDoc("Informational: with num_workers=0 all samples come from one process, so nothing repeats. "
                      "`survey check` does not report it.", "", "", tags=("pytorch", "randomness")),
    "SRV901": RuleDoc("A file that cannot be parsed (Python 2, a syntax error, binary, over 1 MB) is left out "
                      "of the analysis; findings that pass through it may be missed. It never fails the run.",
                      "", "", tags=("analysis",)),
}


def help_uri(code: str) -> str:
    """The README's rule table (its "Rules" heading), on the project's page."""
    return f"{DOCS_URL}#rules"


def explain(code: str) -> str:
    """The rule's documentation as plain text, for ``survey rule``."""
    rule, doc = RULES[code], DOCS[code]
    problem, _, fix = rule.message.partition(". ")
    parts = [f"{code}: {rule.title}", "", f"What: {problem}.", "", f"Why: {doc.why}", "", f"Fix: {fix}"]
    if doc.bad:
        parts += ["", "Flagged:", "", _indent(doc.bad)]
    if doc.good:
        parts += ["", "Fixed:", "", _indent(doc.good)]
    return "\n".join(parts) + "\n"


def markdown(code: str) -> str:
    """The same documentation as Markdown, for SARIF's ``help.markdown``."""
    rule, doc = RULES[code], DOCS[code]
    parts = [f"**{rule.title}**", "", rule.message, "", doc.why]
    if doc.bad:
        parts += ["", "Flagged:", "", "```python", doc.bad, "```"]
    if doc.good:
        parts += ["", "Fixed:", "", "```python", doc.good, "```"]
    parts += ["", f"[Documentation]({help_uri(code)})"]
    return "\n".join(parts)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" if line else "" for line in text.splitlines())
