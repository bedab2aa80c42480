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


def _codes(text: str) -> List[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


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
    src = w.add_mutually_exclusive_group()
    src.add_argument("--from-dir", type=Path, metavar="DIR", help="register local checkouts instead of crawling")
    src.add_argument("--from-git", type=Path, metavar="DIR", help="register git clones (owner+name or owner/name)")
    src.add_argument("--manifest", type=Path, metavar="FILE", help="download exactly the commits of a manifest CSV")
    w.add_argument("--at", metavar="DATE", help="also snapshot each repository at its last commit before DATE")
    w.add_argument("--retry-failed", action="store_true",
                   help="download every failed repository again (transient failures are retried anyway)")
    w.add_argument("--max-wait", type=float, default=3600.0, metavar="SECONDS",
                   help="longest wait a server may ask for (rate-limit reset, Retry-After); longer stops the crawl")
    c = sub.add_parser("classify", help="one verdict row per repository")
    c.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="repository roots")
    c.add_argument("--db", type=Path, help="classify every downloaded, unclassified repository of a catalog")
    c.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: all cores)")
    c.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on an existing Dask cluster")
    c.add_argument("--csv", type=Path, metavar="FILE", help="write the CSV here instead of stdout")
    c.add_argument("--json", action="store_true", help="JSON with every finding and its evidence")
    c.add_argument("--count-vendored", action="store_true",
                   help="let findings in vendored third-party trees decide verdicts (default: marked, not counted)")
    r = sub.add_parser("report", help="CSV tables and a self-contained HTML report from a catalog")
    r.add_argument("--db", type=Path, default=Path("data/survey.db"))
    r.add_argument("--out", type=Path, default=Path("reports"))
    m = sub.add_parser("export-manifest", help="the (repository, commit) pairs of a catalog, as a manifest CSV")
    m.add_argument("--db", type=Path, default=Path("data/survey.db"))
    m.add_argument("--out", type=Path, metavar="FILE", help="write here instead of stdout")
    m.add_argument("--at", metavar="DATE", help="the dated snapshots for the 2021 columns (default: the only ones)")
    k = sub.add_parser("check", help="lint files and projects",
                       description="Exit status: 0 nothing that shows with the target torch, 1 findings, 2 usage "
                                   "or internal error.")
    k.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                   help="files (their project is analysed, their findings reported) and project folders")
    k.add_argument("--output-format", "--format", dest="output_format", default="full",
                   choices=("full", "text", "concise", "json", "sarif", "github", "gitlab", "junit"))
    k.add_argument("--select", type=_codes, metavar="CODES", help="rule codes or prefixes (default: SRV)")
    k.add_argument("--ignore", type=_codes, metavar="CODES", help="rule codes or prefixes not to report")
    k.add_argument("--extend-select", type=_codes, default=[], metavar="CODES", help="added to select")
    k.add_argument("--exclude", type=_codes, metavar="PATTERNS", help="gitignore-style patterns not to report")
    k.add_argument("--extend-exclude", type=_codes, default=[], metavar="PATTERNS", help="added to exclude")
    k.add_argument("--target-torch", metavar="VERSION|SPEC",
                   help="the torch the project runs with (default: its pins, else the installed torch, "
                        "else a current release); SRV101 fails the run only if it admits torch < 1.9")
    k.add_argument("-q", "--quiet", action="store_true", help="no summary line on stderr")
    fix = k.add_mutually_exclusive_group()
    fix.add_argument("--fix", action="store_true",
                     help="add a per-worker NumPy reseed to the loaders of SRV101 findings, then report the rest")
    fix.add_argument("--diff", action="store_true", help="print the --fix changes as a unified diff, write nothing")
    u = sub.add_parser("rule", help="what a rule finds, why, the fix, and examples")
    u.add_argument("code", nargs="?", metavar="CODE")
    u.add_argument("--all", action="store_true", help="every rule")
    return p


def _crawl(args) -> int:
    from .crawl.bounds import scrub
    try:
        return _crawl_run(args)
    except Exception as exc:  # whatever a server sent back, the token is never printed
        print(scrub(f"survey: {_crawl_failure(exc, args.api_url, args.max_wait)}", [args.token]), file=sys.stderr)
        return 2


def _crawl_failure(exc: Exception, api_url: str, max_wait: float) -> str:
    import requests
    from github.GithubException import GithubException, RateLimitExceededExceedsMaxWait
    from .crawl.bounds import WaitTooLong
    if isinstance(exc, WaitTooLong):
        return f"crawl stopped: {WaitTooLong(exc.seconds, max_wait, exc.why)}"
    if isinstance(exc, RateLimitExceededExceedsMaxWait):
        return f"crawl stopped: {WaitTooLong(exc.wait or 0, max_wait, 'X-RateLimit-Reset')}"
    if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
        return f"cannot reach the API at {api_url} ({type(exc).__name__}); nothing is lost, run again when it answers"
    if isinstance(exc, GithubException):
        message = exc.data.get("message") if isinstance(exc.data, dict) else exc.data
        return f"the API at {api_url} answered HTTP {exc.status}: {str(message)[:300]}"
    return f"internal error: {type(exc).__name__}: {exc}"


def _crawl_run(args) -> int:
    from .crawl.github import CrawlOptions, Crawler, clean_partials, register_dir
    from .crawl.progress import Progress
    from .crawl.dated import crawl_at, parse_at
    from .crawl.store import Catalog
    try:
        at = parse_at(args.at) if args.at else None
    except ValueError as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return 2
    for folder in (args.from_dir, args.from_git):
        if folder is not None and not folder.is_dir():
            print(f"survey: {folder}: not a directory", file=sys.stderr)
            return 2
    if args.from_dir and at:
        print("survey: --at needs history: use --from-git for local clones", file=sys.stderr)
        return 2
    if args.from_git or args.manifest:
        return _crawl_local_or_manifest(args, at)
    with Catalog(args.db) as catalog:
        if args.from_dir:
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
                            sources=args.sources, jobs=args.jobs, max_wait=args.max_wait,
                            retry_failed=args.retry_failed)
        catalog.record_crawl(args.api_url, args.query, (lo, hi), args.min_stars, args.include_forks)
        clean_partials(args.sources)
        with Progress(catalog, token=args.token) as progress:
            crawler = Crawler(opts, catalog, progress.note)
            crawler.discover()
            crawler.download_all()
            if at:
                crawl_at(crawler, at, progress.note)
        counts = catalog.counts()
        print(f"survey: catalog {args.db}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
              file=sys.stderr)
    return 0


def _crawl_local_or_manifest(args, at) -> int:
    from .crawl.github import CrawlOptions, Crawler, clean_partials
    from .crawl.gitclones import register_git
    from .crawl.manifest import ManifestError, crawl_manifest, read_manifest
    from .crawl.progress import Progress
    from .crawl.store import Catalog
    rows = None
    if args.manifest:
        try:
            rows = read_manifest(args.manifest)
        except (ManifestError, OSError, UnicodeDecodeError) as exc:
            print(f"survey: {exc}", file=sys.stderr)
            return 2
    clean_partials(args.sources)
    with Catalog(args.db) as catalog, Progress(catalog) as progress:
        if rows is None:
            counts = register_git(catalog, args.from_git, args.sources, at, progress.note)
            where = args.from_git
        else:
            opts = CrawlOptions(api_url=args.api_url, token=args.token, sources=args.sources, jobs=args.jobs,
                                max_wait=args.max_wait)
            counts = crawl_manifest(Crawler(opts, catalog), rows, at, progress.note)
            where = args.manifest
    print(f"survey: {where}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + f" in {args.db}",
          file=sys.stderr)
    return 0


def _export_manifest(args) -> int:
    from .crawl.dated import parse_at
    from .crawl.manifest import ManifestError, export_manifest, pick_at
    from .crawl.store import Catalog
    if not args.db.is_file():
        print(f"survey: {args.db}: no such catalog", file=sys.stderr)
        return 2
    try:
        at = parse_at(args.at) if args.at else None
        with Catalog(args.db) as catalog:
            at = pick_at(catalog, at)  # before the file is opened: a refusal leaves no empty manifest
            if args.out:
                with open(args.out, "w", newline="", encoding="utf-8") as out:
                    n = export_manifest(catalog, out, at)
            else:
                n = export_manifest(catalog, sys.stdout, at)
    except (ManifestError, ValueError) as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return 2
    print(f"survey: {n} repositories in the manifest", file=sys.stderr)
    return 0


def _classify_db(args) -> int:
    from .analysis.batch import classify_many
    from .analysis.serialize import write_csv
    from .crawl.dated import classify_jobs
    from .crawl.store import Catalog
    from .report.progress import VerdictProgress
    with Catalog(args.db) as catalog:
        missing = 0
        for r in catalog.pending("downloaded"):
            if os.path.isdir(r.source_path) and os.access(r.source_path, os.R_OK | os.X_OK):
                continue
            # a snapshot folder deleted or unreadable since the crawl is no repository without a Dataset
            why = "missing" if not os.path.exists(r.source_path) else "unreadable"
            catalog.mark_failed(r.full_name, f"source folder {why}: {r.source_path}")
            print(f"survey: {r.full_name}: source folder {why}: {r.source_path}", file=sys.stderr)
            missing += 1
        items, save = classify_jobs(catalog, args.count_vendored)

        def saved():
            with VerdictProgress(len(items)) as progress:
                for v in classify_many(items, args.jobs, args.scheduler, ordered=False):
                    save[v.repo](v)
                    progress.update(v)
                    yield v
        if args.csv:
            with open(args.csv, "w", newline="", encoding="utf-8") as out:
                write_csv(saved(), out)
        else:
            for _ in saved():
                pass
    return 2 if missing else 0


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
        for v in classify_many([(p, p.resolve().name, args.count_vendored) for p in args.paths], args.jobs,
                               args.scheduler):
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
    import sqlite3
    try:
        report = build(args.db)
    except sqlite3.DatabaseError as exc:  # not SQLite, a 0-byte file, or SQLite without the catalog's tables
        print(f"survey: {args.db}: not a survey catalog ({exc})", file=sys.stderr)
        return 2
    page = write(report, args.out)
    h = report.headline
    print(f"survey: {h['classified']} repositories classified, {h['affected']} of {h['with_workers']} with NumPy draws "
          f"under workers affected", file=sys.stderr)
    print(page)
    return 0


def _check(args) -> int:
    from .lint.config import ConfigError, Overrides
    from .lint.fix import apply
    from .lint.run import CheckError, all_diagnostics, check_project, exit_status, projects, recheck, summary
    from .lint.target import TargetError
    cli = Overrides(select=args.select, ignore=args.ignore, extend_select=args.extend_select,
                    exclude=args.exclude, extend_exclude=args.extend_exclude, target_torch=args.target_torch)
    try:
        checked = [check_project(p, cli, fix=args.fix or args.diff) for p in projects(args.paths)]
    except (CheckError, ConfigError, TargetError) as exc:
        print(f"survey: {exc}", file=sys.stderr)
        return 2
    fixes = [(c.project.root, fix) for c in checked for fix in c.fixes]
    if args.diff:
        for _, fix in fixes:
            sys.stdout.write(fix.diff())
        return 1 if fixes else 0
    if args.fix:
        for c in checked:
            apply(c.project.root, c.fixes)
        loaders = sum(f.loaders for _, f in fixes)
        print(f"survey: fixed {loaders} loader{'s' * (loaders != 1)} in {len(fixes)} file{'s' * (len(fixes) != 1)}",
              file=sys.stderr)
        checked = [recheck(c) if c.fixes else c for c in checked]
    diagnostics = all_diagnostics(checked)
    _write(args.output_format, diagnostics)
    if not args.quiet:
        print(f"survey: {summary(diagnostics)}", file=sys.stderr)
    return exit_status(diagnostics)


def _write(fmt: str, diagnostics) -> None:
    from .lint import output, reports
    from .lint.sarif import sarif
    colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
    if fmt in ("full", "text"):
        output.write_full(diagnostics, sys.stdout, colour)
    elif fmt == "concise":
        output.write_concise(diagnostics, sys.stdout, colour)
    elif fmt == "github":
        output.write_github(diagnostics, sys.stdout)
    elif fmt == "json":
        reports.write_json(diagnostics, sys.stdout)
    elif fmt == "gitlab":
        reports.write_gitlab(diagnostics, sys.stdout)
    elif fmt == "junit":
        reports.write_junit(diagnostics, sys.stdout)
    else:
        json.dump(sarif(diagnostics), sys.stdout, indent=2)
        sys.stdout.write("\n")


def _rule(args) -> int:
    from .analysis.rules import RULES
    from .lint.ruledocs import explain
    if args.all:
        sys.stdout.write("\n".join(explain(code) for code in RULES))
        return 0
    code = (args.code or "").upper()
    if code not in RULES:
        print(f"survey: {args.code or 'a rule code'}: no such rule (known: {', '.join(RULES)})", file=sys.stderr)
        return 2
    sys.stdout.write(explain(code))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"crawl": _crawl, "classify": _classify, "report": _report, "check": _check,
                "rule": _rule,
                "export-manifest": _export_manifest}[args.command](args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # an analyser bug must not look like a clean result
        from .crawl.bounds import scrub
        print(scrub(f"survey: internal error: {type(exc).__name__}: {exc}", [os.environ.get("GITHUB_TOKEN")]),
              file=sys.stderr)
        return 2
