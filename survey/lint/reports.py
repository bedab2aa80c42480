"""Machine-readable reports of a check: ``json`` (one object per finding, with its evidence), ``gitlab``
(GitLab Code Quality) and ``junit`` (one test case per finding, grouped by file)."""
from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from dataclasses import asdict
from typing import IO, List

from .ruledocs import help_uri


def json_records(diagnostics) -> List[dict]:
    out = []
    for d in diagnostics:
        record = {"filename": d.filename, "level": d.level, "fixable": d.fixable,
                  "target_torch": d.target.describe(), "url": help_uri(d.code)}
        record.update(asdict(d.finding))
        out.append(record)
    return out


def write_json(diagnostics, out: IO[str]) -> None:
    json.dump(json_records(diagnostics), out, indent=2)
    out.write("\n")


def _fingerprint(d) -> str:
    f = d.finding
    key = f"{f.code}\0{d.filename}\0{f.dataset}\0{f.rng_call.split(': ', 1)[-1]}\0{f.line if not f.dataset else ''}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def gitlab(diagnostics) -> List[dict]:
    """GitLab Code Quality: ``description``, ``check_name``, ``fingerprint``, ``severity``, ``location``."""
    severity = {"error": "major", "note": "info", "warning": "minor"}
    return [{
        "description": f"{d.code} {d.finding.message}",
        "check_name": d.code,
        "fingerprint": _fingerprint(d),
        "severity": severity[d.level],
        "location": {"path": d.filename, "lines": {"begin": d.finding.line}},
    } for d in diagnostics]


def write_gitlab(diagnostics, out: IO[str]) -> None:
    json.dump(gitlab(diagnostics), out, indent=2)
    out.write("\n")


def junit(diagnostics) -> ET.Element:
    """One ``testsuite`` per file, one ``testcase`` per finding; failures are the findings that fail the
    run, the others (notes, SRV901) are reported as skipped so a dashboard does not count them red."""
    suites = ET.Element("testsuites", name="survey")
    by_file = {}
    for d in diagnostics:
        by_file.setdefault(d.filename, []).append(d)
    total = failed = 0
    for filename, items in by_file.items():
        fails = sum(d.level == "error" for d in items)
        suite = ET.SubElement(suites, "testsuite", name=filename, tests=str(len(items)), failures=str(fails),
                              skipped=str(len(items) - fails), errors="0")
        for d in items:
            f = d.finding
            case = ET.SubElement(suite, "testcase", name=f"survey.{f.code}", classname=filename,
                                 file=filename, line=str(f.line))
            text = f"{filename}:{f.line}:{f.col}: {f.code} {f.message}"
            if d.level == "error":
                ET.SubElement(case, "failure", message=f.message, type=f.code).text = text
            else:
                ET.SubElement(case, "skipped", message=f"{d.level}: {f.message}")
        total += len(items)
        failed += fails
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    return suites


def write_junit(diagnostics, out: IO[str]) -> None:
    tree = ET.ElementTree(junit(diagnostics))
    ET.indent(tree)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(tree.getroot(), encoding="unicode"))
    out.write("\n")
