"""Rebuild the study under data/study/ from git snapshots of its repositories.

    python analysis/study.py [--mirror DIR] [--work DIR] [--jobs N]

The corpus is `data/study/candidates.csv` (how it was drawn: `data/study/README.md`); its kept rows are
cloned or fetched repositories under MIRROR (`owner+name`, bare or with a work tree, or the `fetch` tool's
`owner+name/repo`). The script runs the tool's own commands, nothing else:

    survey crawl --from-git CLONES --at 2021-04-11 --db WORK/study.db --sources WORK/src
    survey classify --db WORK/study.db
    survey report --db WORK/study.db --out data/study/report
    survey export-manifest --db WORK/study.db --out data/study/manifest.csv

and copies the report's `repos.csv` and `findings.csv` (every snapshot's verdict is in the then-vs-now
tables) beside the manifest. It also writes `shared_history.csv`: the kept repositories that share a root
commit (forks, renames, org moves), one group a line, read from the snapshots with git. Without the mirrors, `survey crawl --manifest data/study/manifest.csv --at
2021-04-11` with a GitHub token downloads exactly the same commits.
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from score_real import git_dir  # noqa: E402  (the same snapshot layouts)
STUDY = HERE.parent / "data" / "study"
AT = "2021-04-11"


def survey(*args: str) -> None:
    print("+ survey " + " ".join(args), file=sys.stderr)
    subprocess.run([sys.executable, "-m", "survey", *args], check=True, cwd=HERE.parent)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    p.add_argument("--work", type=Path, default=Path("/tmp/survey-study"))
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = p.parse_args(argv)

    clones = args.work / "clones"
    shutil.rmtree(args.work, ignore_errors=True)
    clones.mkdir(parents=True)
    with open(STUDY / "candidates.csv", newline="", encoding="utf-8") as fh:
        kept = [r["repo"] for r in csv.DictReader(fh) if r["excluded"] == "0"]
    missing = []
    for repo in kept:
        folder = args.mirror / repo.replace("/", "+")
        if folder.is_dir():
            (clones / folder.name).symlink_to(folder.resolve())
        else:
            missing.append(repo)
    print(f"{len(kept) - len(missing)} of {len(kept)} kept repositories have a snapshot here", file=sys.stderr)
    db = str(args.work / "study.db")
    survey("crawl", "--from-git", str(clones), "--at", AT, "--db", db, "--sources", str(args.work / "src"))
    survey("classify", "--db", db, "--jobs", str(args.jobs))
    survey("report", "--db", db, "--out", str(STUDY / "report"))
    survey("export-manifest", "--db", db, "--out", str(STUDY / "manifest.csv"))
    for name in ("repos.csv", "findings.csv"):
        shutil.copy(STUDY / "report" / name, STUDY / name)
    write_shared_history(kept, args.mirror, STUDY / "shared_history.csv")
    return 0


def write_shared_history(repos, mirror: Path, out: Path) -> None:
    """Groups of repositories whose histories start at a common root commit."""
    by_root = {}
    for repo in repos:
        git = git_dir(mirror, repo)
        if git is None:
            continue
        roots = subprocess.run(["git", f"--git-dir={git}", "rev-list", "--max-parents=0", "HEAD"],
                               capture_output=True, text=True, timeout=300).stdout.split()
        for root in roots:
            by_root.setdefault(root, set()).add(repo)
    # a repository with several roots can join groups: merge groups that share a member
    groups = []
    for root, members in sorted(by_root.items()):
        if len(members) < 2:
            continue
        for g in groups:
            if g[1] & members:
                g[0].append(root)
                g[1].update(members)
                break
        else:
            groups.append(([root], set(members)))
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["root_commit", "repos"])
        for roots, members in sorted(groups, key=lambda g: sorted(g[1])):
            w.writerow([min(roots), " ".join(sorted(members))])


if __name__ == "__main__":
    sys.exit(main())
