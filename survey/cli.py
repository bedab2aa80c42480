"""Command line: argument parsing and exit codes, nothing else.

Exit status: 0 clean, 1 findings (``check``), 2 usage or internal error. Data goes to stdout, progress and
logs to stderr.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

from . import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="survey", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"survey {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="one verdict row per repository")
    c.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="repository roots")
    c.add_argument("--csv", type=Path, metavar="FILE", help="write the CSV here instead of stdout")
    c.add_argument("--json", action="store_true", help="JSON with every finding and its evidence")
    k = sub.add_parser("check", help="lint one project")
    k.add_argument("path", type=Path, metavar="PATH")
    k.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    return p


def _classify(args) -> int:
    from .classify import classify_repo
    from .output import write_csv, write_json
    for path in args.paths:
        if not path.is_dir():
            print(f"survey: {path}: not a directory", file=sys.stderr)
            return 2
    verdicts = []
    for path in args.paths:
        v = classify_repo(path)
        for e in v.errors:
            print(f"survey: {v.repo}: {e.path}: {e.reason}", file=sys.stderr)
        verdicts.append(v)
    if args.json:
        write_json(verdicts, sys.stdout)
    elif args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as out:
            write_csv(verdicts, out)
    else:
        write_csv(verdicts, sys.stdout)
    return 0


def _check(args) -> int:
    from .classify import classify_repo, without_noqa
    from .output import lint_findings, sarif, verdict_json, write_text
    if not args.path.is_dir():
        print(f"survey: {args.path}: not a directory", file=sys.stderr)
        return 2
    v = classify_repo(args.path)
    findings = without_noqa(lint_findings(v), args.path)
    if args.format == "text":
        write_text(findings, v.errors, sys.stdout)
    elif args.format == "json":
        data = verdict_json(v)
        data["findings_detail"] = [f for f in data["findings_detail"]
                                   if (f["code"], f["path"], f["line"]) in {(x.code, x.path, x.line) for x in findings}]
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        json.dump(sarif(findings, v.errors), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 1 if findings else 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"classify": _classify, "check": _check}[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an analyser bug must not look like a clean result
        print(f"survey: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
