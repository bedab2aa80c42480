"""SARIF 2.1.0 for GitHub code scanning: rules with descriptions, help and tags; results with their
loader, draw and reseed as related locations, and a level from the torch-aware severity.

URIs are relative to the current directory (``%SRCROOT%``), where a CI job runs from the checkout's root, so
a check of a monorepo's subfolder still points at files that exist.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

from .. import __version__
from ..analysis.rules import RULES
from .ruledocs import DOCS, DOCS_URL, help_uri, markdown

_LEVEL = {"error": "error", "note": "note", "warning": "warning"}


def _artifact(filename: str) -> dict:
    if filename.startswith("/"):  # outside the current directory: no base to be relative to
        return {"uri": Path(filename).as_uri()}
    return {"uri": filename, "uriBaseId": "%SRCROOT%"}


def _rule(code: str) -> dict:
    rule, doc = RULES[code], DOCS[code]
    return {
        "id": code,
        "name": "".join(w.capitalize() for w in rule.title.replace("/", " ").split() if w.isalnum()) or code,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.message},
        "help": {"text": f"{rule.message}\n\n{doc.why}", "markdown": markdown(code)},
        "helpUri": help_uri(code),
        "defaultConfiguration": {"level": "warning" if code == "SRV901" else "error"},
        "properties": {"tags": list(doc.tags), "precision": doc.precision},
    }


def _related(d) -> List[dict]:
    f = d.finding
    out = []
    for label, evidence in (("loader", f.loader), ("draw", f.rng_call), ("reseed", f.seed)):
        place = d.related(evidence) if evidence else None
        if place is None or (place[0] == d.filename and place[1] == f.line):
            continue
        filename, line, text = place
        out.append({
            "id": len(out) + 1,
            "physicalLocation": {"artifactLocation": _artifact(filename), "region": {"startLine": line}},
            "message": {"text": f"{label}: {text}"},
        })
    return out


def sarif(diagnostics) -> dict:
    used = sorted({d.code for d in diagnostics})
    index = {code: i for i, code in enumerate(used)}
    results = []
    for d in diagnostics:
        f = d.finding
        text = f.message if f.code == "SRV901" else \
            f"{f.message} Dataset: {f.dataset}. Draw: {f.rng_call}. Loader: {f.loader}."
        if d.level == "note":
            text += f" Not shown with the target {d.target.describe()}."
        result = {
            "ruleId": f.code, "ruleIndex": index[f.code], "level": _LEVEL[d.level],
            "message": {"text": text},
            "locations": [{"physicalLocation": {
                "artifactLocation": _artifact(d.filename),
                "region": {"startLine": f.line, "startColumn": f.col},
            }}],
        }
        related = _related(d)
        if related:
            result["relatedLocations"] = related
        if f.code != "SRV901":
            draw = f.rng_call.split(": ", 1)[-1]
            result["partialFingerprints"] = {"survey/v1": f"{f.code}:{d.filename}:{f.dataset}:{draw}"}
        results.append(result)
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "survey", "version": __version__, "semanticVersion": __version__,
                                "informationUri": DOCS_URL, "rules": [_rule(c) for c in used]}},
            "automationDetails": {"id": "survey/check/"},
            "results": results,
        }],
    }

