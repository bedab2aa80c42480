"""Command line: argument parsing and exit codes, nothing else.

Exit status: 0 clean, 1 findings (``check``), 2 usage or internal error. Data goes to stdout, progress and
logs to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import List, Optional

from . import __version__


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="survey", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"survey {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    w = sub.add_parser("crawl", help="discover and download repositories into the catalog")
    w.add_argument("--query", default="", help="search terms added to language:Python")
    w.add_argument("--created", default=f"2008-01-01..{date.today().isoformat()}", metavar="FROM..TO")
    w.add_argument("--min-stars", type=int, default=0)
    w.add_argument("--limit", type=int, help="stop after this many repositories in the catalog")
    w.add_argument("--include-forks", action="store_true")
    w.add_argument("--api-url", default=os.environ.get("GITHUB_API_URL") or "https://api.github.com")
    w.add_argument("--token", default=os.environ.get("GITHUB_TOKEN"), help="default: $GITHUB_TOKEN")
    w.add_argument("--db", type=Path, default=Path("data/survey.db"))
    w.add_argument("--sources", type=Path, default=Path("data/repos"))
    w.add_argument("--jobs", type=int, default=4, help="concurrent downloads (GitHub asks for few)")
    w.add_argument("--from-dir", type=Path, metavar="DIR", help="register local checkouts instead of crawling")
    c = sub.add_parser("classify", help="one verdict row per repository")
    c.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="repository roots")
    c.add_argument("--db", type=Path, help="classify every downloaded, unclassified repository of a catalog")
    c.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    c.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    c.add_argument("--csv", type=Path, metavar="FILE", help="write the CSV here instead of stdout")
    c.add_argument("--json", action="store_true", help="JSON with every finding and its evidence")
    r = sub.add_parser("report", help="CSV tables and a self-contained HTML report from a catalog")
    r.add_argument("--db", type=Path, default=Path("data/survey.db"))
    r.add_argument("--out", type=Path, default=Path("reports"))
    k = sub.add_parser("check", help="lint one project")
    k.add_argument("path", type=Path, metavar="PATH")
    k.add_argument("--format", choices=("text", "json", "sarif"), default="text")
    fix = k.add_mutually_exclusive_group()
    fix.add_argument("--fix", action="store_true",
                     help="add a per-worker NumPy reseed to the loaders of SRV101 findings, then report the rest")
    fix.add_argument("--diff", action="store_true", help="print the --fix changes as a unified diff, write nothing")
    return p


def _crawl(args) -> int:
    from .crawl.github import CrawlOptions, Crawler, clean_partials, register_dir
    from .crawl.progress import Progress
    from .crawl.store import Catalog
    with Catalog(args.db) as catalog:
        if args.from_dir:
            if not args.from_dir.is_dir():
                print(f"survey: {args.from_dir}: not a directory", file=sys.stderr)
                return 2
            catalog.record_crawl(f"folder {args.from_dir.resolve()}")
            n = register_dir(catalog, args.from_dir)
            print(f"survey: registered {n} repositories from {args.from_dir} in {args.db}", file=sys.stderr)
            return 0
        lo, sep, hi = args.created.partition("..")
        if not sep:
            print("survey: --created takes FROM..TO (YYYY-MM-DD..YYYY-MM-DD)", file=sys.stderr)
            return 2
        opts = CrawlOptions(api_url=args.api_url, token=args.token, query=args.query, created=(lo, hi),
                            min_stars=args.min_stars, limit=args.limit, include_forks=args.include_forks,
                            sources=args.sources, jobs=args.jobs)
        catalog.record_crawl(args.api_url, args.query, (lo, hi), args.min_stars, args.include_forks)
        clean_partials(args.sources)
        with Progress(catalog) as progress:
            crawler = Crawler(opts, catalog, progress.note)
            crawler.discover()
            crawler.download_all()
        counts = catalog.counts()
        print(f"survey: catalog {args.db}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
              file=sys.stderr)
    return 0


def _classify_db(args) -> int:
    from .analysis.batch import classify_many
    from .analysis.serialize import write_csv
    from .crawl.store import Catalog
    from .report.progress import VerdictProgress
    with Catalog(args.db) as catalog:
        records = list(catalog.pending("downloaded"))
        items = [(r.source_path, r.full_name) for r in records]
        shas = {r.full_name: r.commit_sha for r in records}

        def saved():
            with VerdictProgress(len(items)) as progress:
                for v in classify_many(items, args.jobs, args.scheduler, ordered=False):
                    catalog.save_verdict(v, shas[v.repo])
                    progress.update(v)
                    yield v
        if args.csv:
            with open(args.csv, "w", newline="", encoding="utf-8") as out:
                write_csv(saved(), out)
        else:
            for _ in saved():
                pass
    return 0


def _classify(args) -> int:
    from .analysis.batch import classify_many
    from .analysis.serialize import write_csv, write_json
    if args.db:
        return _classify_db(args)
    if not args.paths:
        print("survey: classify needs PATH... or --db", file=sys.stderr)
        return 2
    for path in args.paths:
        if not path.is_dir():
            print(f"survey: {path}: not a directory", file=sys.stderr)
            return 2

    def verdicts():
        for v in classify_many([(p, p.resolve().name) for p in args.paths], args.jobs, args.scheduler):
            for e in v.errors:
                print(f"survey: {v.repo}: {e.path}: {e.reason}", file=sys.stderr)
            yield v
    if args.json:
        write_json(list(verdicts()), sys.stdout)
    elif args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as out:
            write_csv(verdicts(), out)
    else:
        write_csv(verdicts(), sys.stdout)
    return 0


def _report(args) -> int:
    from .report.files import write
    from .report.tables import build
    if not args.db.is_file():
        print(f"survey: {args.db}: no such catalog (run survey crawl and survey classify first)", file=sys.stderr)
        return 2
    report = build(args.db)
    page = write(report, args.out)
    h = report.headline
    print(f"survey: {h['classified']} repositories classified, {h['affected']} of {h['with_workers']} with NumPy draws "
          f"under workers affected", file=sys.stderr)
    print(page)
    return 0


def _check(args) -> int:
    from .analysis.classify import classify_repo
    from .analysis.serialize import verdict_json
    from .lint.noqa import without_noqa
    from .lint.output import lint_findings, sarif, write_text
    if not args.path.is_dir():
        print(f"survey: {args.path}: not a directory", file=sys.stderr)
        return 2
    v = classify_repo(args.path)
    findings = without_noqa(lint_findings(v), args.path)
    if args.fix or args.diff:
        from .lint.fix import apply, plan_all
        fixes = plan_all(args.path, lambda root: without_noqa(lint_findings(classify_repo(root)), root))
        if args.diff:
            for fix in fixes:
                sys.stdout.write(fix.diff())
            return 1 if fixes else 0
        apply(args.path, fixes)
        loaders = sum(f.loaders for f in fixes)
        print(f"survey: fixed {loaders} loader{'s' * (loaders != 1)} in {len(fixes)} file{'s' * (len(fixes) != 1)}",
              file=sys.stderr)
        if fixes:
            v = classify_repo(args.path)
            findings = without_noqa(lint_findings(v), args.path)
    if args.format == "text":
        write_text(findings, v.errors, sys.stdout)
    elif args.format == "json":
        data = verdict_json(v)
        reported = {(x.code, x.path, x.line) for x in findings}
        data["findings_detail"] = [f for f in data["findings_detail"] if (f["code"], f["path"], f["line"]) in reported]
        json.dump(data, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        json.dump(sarif(findings, v.errors), sys.stdout, indent=2)
        sys.stdout.write("\n")
    return 1 if findings else 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"crawl": _crawl, "classify": _classify, "report": _report, "check": _check}[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an analyser bug must not look like a clean result
        print(f"survey: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
