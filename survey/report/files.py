"""The report folder: tidy CSVs, their data dictionary (``datapackage.json``, Frictionless Data's Table Schema)
and ``report.html``.

Every CSV is described here, column by column; a test checks that each file's header matches its schema.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Dict, List, Tuple

import pandas as pd

from .study import comparison_rows
from .then_now import SCHEMAS as THEN_NOW_SCHEMAS

S, I, N, B, T = "string", "integer", "number", "boolean", "datetime"


def _f(name: str, kind: str, description: str) -> dict:
    return {"name": name, "type": kind, "description": description}


SHARE = [
    _f("with_workers", I, "repositories whose custom Dataset draws NumPy random numbers on its per-sample path and "
                          "is loaded with worker processes (verdict affected, flawed-seed or seeded): the denominator"),
    _f("affected", I, "of those, repositories with the bug (verdict affected or flawed-seed)"),
    _f("share", N, "affected / with_workers; empty when with_workers is 0"),
    _f("ci_low", N, "lower bound of the 95% Wilson score interval of share"),
    _f("ci_high", N, "upper bound of the 95% Wilson score interval of share"),
    _f("effective_yes", I, "affected repositories whose bug shows with the torch their pins admit"),
    _f("effective_unknown", I, "affected repositories that do not pin torch (the global-RNG bug shows only on "
                               "torch < 1.9)"),
    _f("effective_no", I, "affected repositories whose pins admit only torch >= 1.9, which reseeds NumPy's global "
                          "RNG per worker"),
]

SCHEMAS: Dict[str, Tuple[str, List[dict]]] = {
    "repos": ("One row per classified repository.", [
        _f("repo", S, "owner/name on GitHub, or the folder name of a local checkout"),
        _f("commit", S, "the commit analysed (40 hex digits; empty for a local checkout without one)"),
        _f("verdict", S, "affected, flawed-seed, seeded, single-process, clean or no-dataset (the worst that applies)"),
        _f("recipe", S, "how the repository reseeds NumPy in its workers (worst loader); empty without loaders "
                        "with workers"),
        _f("rng_kind", S, "global (np.random.*), instance/object (an RNG object) or empty"),
        _f("effective", S, "yes: the bug shows with the pinned torch; no: the pins admit only torch >= 1.9 or "
                           "there is no bug; unknown: torch not pinned"),
        _f("torch_pin", S, "torch version specifiers found, joined with '; '"),
        _f("torch_era", S, "< 1.9 only, >= 1.9 only, mixed, or not pinned"),
        _f("copy_group", S, "the representative of the repositories with the same set of per-sample code "
                            "fingerprints (non-forks first, then oldest, then by name); its own name if none"),
        _f("copies", I, "repositories in this copy group"),
        _f("stars", I, "stargazers when discovered; empty when unknown"),
        _f("forks", I, "forks when discovered; empty when unknown"),
        _f("created_at", T, "creation time on GitHub (UTC); empty when unknown"),
        _f("pushed_at", T, "last push on GitHub when discovered (UTC); empty when unknown"),
        _f("fork", B, "whether the repository is a fork; empty when unknown"),
        _f("archived", B, "whether the repository is archived; empty when unknown"),
        _f("license", S, "SPDX identifier"),
        _f("findings", I, "findings recorded for the repository"),
        _f("errors", I, "files that could not be analysed"),
        _f("classified_at", T, "when the verdict was recorded (UTC)"),
        _f("tool_version", S, "survey version (and git commit) that classified it"),
        _f("source", S, "the API the repository was discovered through, or 'local' for a folder"),
        _f("fetched_at", T, "when its snapshot was downloaded or registered (UTC)"),
    ]),
    "findings": ("One row per finding, with the evidence located file by file.", [
        _f("repo", S, "as in repos.csv"), _f("commit", S, "as in repos.csv"),
        _f("code", S, "rule code (SRVnnn, see the README's rule table)"),
        _f("verdict", S, "the verdict this finding supports"), _f("recipe", S, "the reseeding recipe it shows"),
        _f("path", S, "file of the reported location, relative to the repository root"),
        _f("line", I, "1-based line of the reported location"), _f("col", I, "1-based column of the reported location"),
        _f("dataset", S, "qualified name of the Dataset class"),
        _f("rng_kind", S, "global, or the kind of RNG object drawn"),
        _f("draw_path", S, "file of the NumPy draw"), _f("draw_line", I, "line of the NumPy draw"),
        _f("draw_col", I, "column of the NumPy draw when it is the reported location; else empty"),
        _f("draw_code", S, "source text of the draw"),
        _f("loader_path", S, "file of the DataLoader call"), _f("loader_line", I, "line of the DataLoader call"),
        _f("loader_code", S, "source text of the DataLoader call"),
        _f("num_workers", I, "the largest worker count num_workers resolves to; empty when a value is unresolved "
                             "or the CPU count"),
        _f("num_workers_evidence", S, "how num_workers was resolved (e.g. 'workers default 16': the default of "
                                      "the option workers)"),
        _f("worker_init_fn", S, "the worker_init_fn passed, if any"),
        _f("seed_path", S, "file of the reseed"), _f("seed_line", I, "line of the reseed"),
        _f("seed_code", S, "source text of the reseed"),
        _f("fingerprint", S, "hash of the Dataset's normalised per-sample code: equal across copies"),
        _f("pairing", S, "how the loader was paired with the dataset: construction site (judged with the "
                         "arguments its dataset was built with), class (traced to the class only), untraced "
                         "(paired with every dataset); empty without a loader"),
        _f("vendored", B, "the draw and its loader lie in a vendored third-party tree (not counted)"),
        _f("unreachable", B, "the loader is built in a function nothing can call (counts as single-process)"),
        _f("in_tests", B, "the loader (or, without one, the draw) is in the repository's test code (not counted)"),
        _f("url", S, "link to the reported line at the analysed commit; empty without a GitHub name and commit"),
    ]),
    "by_pairing": ("How the headline verdicts rest on the analysis: per affected or flawed-seed repository, the "
                   "best pairing of a deciding finding with its loader.", [
        _f("pairing", S, "construction site, class, untraced, or no loader"),
        _f("repositories", I, "affected or flawed-seed repositories"),
        _f("share", N, "repositories / affected or flawed-seed repositories"),
    ]),
    "funnel": ("How many repositories pass each step of the question.", [
        _f("step", S, "the step"), _f("repositories", I, "repositories at this step"),
        _f("share_of_classified", N, "repositories / repositories classified"),
        _f("share_of_previous", N, "repositories / the previous step's"),
    ]),
    "by_year": ("The headline share by creation year (every year from the first to the last; 'unknown' without "
                "a date).", [_f("created_year", S, "creation year")] + SHARE),
    "by_quarter": ("The headline share by creation quarter (every quarter kept).",
                   [_f("created_quarter", S, "creation quarter, e.g. 2021Q2")] + SHARE),
    "by_stars": ("The headline share by stars.", [_f("stars", S, "stars group; 'unknown' without metadata")] + SHARE),
    "by_rng_kind": ("The headline share by the kind of RNG drawn.", [_f("rng_kind", S, "global or RNG object kind")]
                    + SHARE),
    "by_torch_pin": ("The headline share by what the torch pins admit.", [_f("torch_pin", S, "torch era")] + SHARE),
    "by_recipe": ("How repositories with NumPy draws under workers reseed (each repository's worst loader).", [
        _f("recipe", S, "the recipe"), _f("repositories", I, "repositories using it"),
        _f("share", N, "repositories / with_workers"), _f("works", B, "whether the recipe gives every worker and "
                                                                      "epoch its own stream"),
    ]),
    "effective": ("Affected repositories by whether the bug shows with their pinned torch.", [
        _f("effective", S, "yes, unknown or no (see repos.csv)"), _f("repositories", I, "affected repositories"),
    ]),
    "collapsed": ("The headline with forks excluded and copies of the same per-sample code counted once.", [
        _f("population", S, "which repositories are counted"),
        _f("classified", I, "repositories in the population")] + SHARE),
    "comparison": ("The 2021 claim beside this corpus's figure, on the same denominator.", [
        _f("source", S, "whose figure"), _f("corpus", S, "what was scanned"),
        _f("qualifying", S, "repositories in the denominator"), _f("affected", S, "repositories with the bug"),
        _f("share", S, "the share"), _f("interval", S, "95% interval"),
    ]),
    "catalog": ("Every repository in the catalog by status, and failures by reason.", [
        _f("status", S, "discovered, downloaded, failed or classified"),
        _f("reason", S, "why a download failed (failed rows only)"), _f("repositories", I, "repositories"),
    ]),
}

SCHEMAS.update(THEN_NOW_SCHEMAS)  # described beside their code (survey/report/then_now.py)


def _catalog_table(report) -> pd.DataFrame:
    prov = report.provenance
    rows = [(s, "", n) for s, n in sorted(prov.statuses.items()) if s != "failed"]
    rows += [("failed", reason, n) for reason, n in prov.failures]
    return pd.DataFrame(rows, columns=["status", "reason", "repositories"])


def _inert(value):
    """Text a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading quote, as OWASP
    advises for CSV injection: names, paths and code in the cells come from crawled repositories."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """RFC 4180 CSV, missing values as empty fields, times as ISO 8601 UTC. The csv module over plain lists:
    pandas' writer spends seconds per 100,000 rows converting nullable columns."""
    columns = []
    for name in df.columns:
        s = df[name]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            s = s.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        columns.append([_inert(v) for v in s.astype(object).where(s.notna(), "").tolist()])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(list(df.columns))
        out.writerows(zip(*columns))


def datapackage(names: List[str]) -> dict:
    return {
        "profile": "tabular-data-package", "name": "survey-report",
        "title": "Identical NumPy random numbers in PyTorch DataLoader workers",
        "resources": [{"name": n, "path": f"{n}.csv", "profile": "tabular-data-resource", "format": "csv",
                       "mediatype": "text/csv", "encoding": "utf-8", "description": SCHEMAS[n][0],
                       "schema": {"fields": SCHEMAS[n][1], "missingValues": [""]}} for n in names],
    }


def write(report, out: Path) -> Path:
    """Writes every CSV, datapackage.json and report.html into out; returns the page's path."""
    from .html import render
    out.mkdir(parents=True, exist_ok=True)
    frames = {"repos": report.repos, "findings": report.findings, **report.tables,
              "comparison": pd.DataFrame(comparison_rows(report.headline)), "catalog": _catalog_table(report)}
    for name, frame in frames.items():
        columns = [f["name"] for f in SCHEMAS[name][1]]
        missing = [c for c in columns if c not in frame.columns]
        if missing:  # the dictionary would describe a column the file does not hold
            raise ValueError(f"{name}.csv lacks {', '.join(missing)}")
        write_csv(frame.reindex(columns=columns), out / f"{name}.csv")
    (out / "datapackage.json").write_text(json.dumps(datapackage(list(frames)), indent=2) + "\n", encoding="utf-8")
    page = out / "report.html"
    page.write_text(render(report), encoding="utf-8")
    return page
