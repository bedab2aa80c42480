"""The linter's writers: flake8-style text and SARIF 2.1.0 (JSON is the verdict's own, ``analysis.serialize``)."""
from __future__ import annotations

from typing import IO, List

from .. import __version__
from ..analysis.model import Finding, RepoVerdict
from ..analysis.rules import BUG_VERDICTS, RULES

def lint_findings(v: RepoVerdict) -> List[Finding]:
    """What the linter reports: bugs only, one line per place."""
    seen, out = set(), []
    for f in v.findings:
        if f.verdict in BUG_VERDICTS and not f.vendored and (f.code, f.path, f.line, f.col) not in seen:
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
