"""Writers: CSV rows and JSON for surveys; flake8-style text, JSON and SARIF 2.1.0 for the linter."""
from __future__ import annotations

import csv
import json
from dataclasses import asdict
from typing import IO, Iterable, List

from . import __version__
from .model import Finding, RepoVerdict
from .rules import BUG_VERDICTS, RULES

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


def lint_findings(v: RepoVerdict) -> List[Finding]:
    """What the linter reports: bugs only, one line per place."""
    seen, out = set(), []
    for f in v.findings:
        if f.verdict in BUG_VERDICTS and (f.code, f.path, f.line, f.col) not in seen:
            seen.add((f.code, f.path, f.line, f.col))
            out.append(f)
    return out


def text_line(f: Finding) -> str:
    detail = f" [dataset {f.dataset}; loader {f.loader.split(': ', 1)[0]}, num_workers {f.num_workers}]" \
        if f.loader else ""
    return f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}{detail}"


def write_text(findings: List[Finding], errors, out: IO[str]) -> None:
    for f in findings:
        out.write(text_line(f) + "\n")
    for e in errors:
        out.write(f"{e.path}:{e.line}:1: SRV901 {e.reason}\n")


def sarif(findings: List[Finding], errors) -> dict:
    used = sorted({f.code for f in findings} | ({"SRV901"} if errors else set()))
    rules = [{
        "id": code,
        "name": RULES[code].title.replace(" ", "-"),
        "shortDescription": {"text": RULES[code].title},
        "fullDescription": {"text": RULES[code].message},
        "defaultConfiguration": {"level": "note" if code == "SRV901" else "warning"},
    } for code in used]
    index = {code: i for i, code in enumerate(used)}
    results = []
    for f in findings:
        results.append({
            "ruleId": f.code, "ruleIndex": index[f.code], "level": "warning",
            "message": {"text": f"{f.message} Dataset: {f.dataset}. Draw: {f.rng_call}. Loader: {f.loader}."},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": f.line, "startColumn": f.col},
            }}],
            "partialFingerprints": {"survey/v1": f"{f.code}:{f.path}:{f.dataset}:{f.rng_call.split(': ', 1)[-1]}"},
        })
    for e in errors:
        results.append({
            "ruleId": "SRV901", "ruleIndex": index["SRV901"], "level": "note",
            "message": {"text": e.reason},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": e.path, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": e.line, "startColumn": 1},
            }}],
        })
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "survey", "version": __version__, "rules": rules}},
            "results": results,
        }],
    }
