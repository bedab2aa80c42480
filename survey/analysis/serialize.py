"""Verdicts as data: one CSV row per repository, or JSON with every finding and error."""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from typing import IO, Iterable

from .model import RepoVerdict

CSV_COLUMNS = ["repo", "verdict", "rng_kind", "torch_pin", "effective", "findings", "errors"]


def write_csv(verdicts: Iterable[RepoVerdict], out: IO[str]) -> None:
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for v in verdicts:
        writer.writerow(v.row())
        out.flush()


def verdict_json(v: RepoVerdict) -> dict:
    data = v.row()
    data["files"] = v.files
    data["parsed"] = v.parsed
    data["findings_detail"] = [asdict(f) for f in v.findings]
    data["errors_detail"] = [asdict(e) for e in v.errors]
    return data


def write_json(verdicts: Iterable[RepoVerdict], out: IO[str]) -> None:
    json.dump([verdict_json(v) for v in verdicts], out, indent=2)
    out.write("\n")
