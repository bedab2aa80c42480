"""Agreement of `survey classify` with the hand labels of real public repositories (analysis/real/).

    python analysis/score_real.py [--mirror DIR] [--work DIR] [--jobs N] [--out FILE] [--show]

Labels are in analysis/real/labels.csv (written blind, before the tool was run; see CONTRACT.md). The code
is not committed: each row's checkout is rebuilt from a snapshot on this machine, a git directory at
MIRROR/owner+name/repo/.git (the layout of the `fetch` tool; default /work/.mirror), with `git archive` at
the labelled commit. Rows whose snapshot is absent are skipped and counted. Prints exact agreement,
precision and recall of `affected`, a confusion table and every disagreement with the tool's evidence.
"""
from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from survey.analysis.batch import classify_many  # noqa: E402

VERDICTS = ["affected", "flawed-seed", "seeded", "single-process", "clean", "no-dataset"]
# What a checkout needs: the analysis reads Python, pins and configs; images and weights are skipped.
_KEEP = (".py", ".txt", ".toml", ".cfg", ".yaml", ".yml", ".json", ".ini")


def git_dir(mirror: Path, repo: str) -> Path | None:
    base = mirror / repo.replace("/", "+")
    for candidate in (base / "repo" / ".git", base / "repo", base / ".git", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def checkout(git: Path, commit: str, dest: Path) -> Path:
    """The labelled commit's files under dest, built once and reused by later runs.

    Read blob by blob (``ls-tree`` then ``cat-file --batch``) rather than with ``git archive``, because
    snapshots lack their largest files and ``archive`` stops at the first missing object."""
    done = dest / ".survey-checkout"
    if done.is_file():
        return dest
    listing = subprocess.run(["git", f"--git-dir={git}", "ls-tree", "-r", "-l", "-z", commit],
                             check=True, capture_output=True, timeout=300).stdout
    wanted = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, name = entry.partition(b"\t")
        mode, kind, sha, size = meta.split()
        path = name.decode("utf-8", "surrogateescape")
        if kind == b"blob" and mode != b"120000" and path.lower().endswith(_KEEP) and size.isdigit() \
                and int(size) < 2_000_000 and ".." not in path.split("/") and not path.startswith("/"):
            wanted.append((sha.decode(), path))
    batch = subprocess.run(["git", f"--git-dir={git}", "cat-file", "--batch"], check=True, capture_output=True,
                           input="".join(sha + "\n" for sha, _ in wanted).encode(), timeout=600).stdout
    pos = 0
    for sha, path in wanted:
        end = batch.index(b"\n", pos)
        header = batch[pos:end].split()
        pos = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(batch[pos:pos + size])
        pos += size + 1
    dest.mkdir(parents=True, exist_ok=True)
    done.write_text(commit)
    return dest


def load_labels(path: Path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def score(pairs):
    """(label, verdict) pairs -> agreement, precision and recall of affected."""
    n = len(pairs)
    exact = sum(label == verdict for label, verdict in pairs)
    tp = sum(label == verdict == "affected" for label, verdict in pairs)
    fp = sum(verdict == "affected" and label != "affected" for label, verdict in pairs)
    fn = sum(label == "affected" and verdict != "affected" for label, verdict in pairs)
    return {
        "n": n, "exact": exact, "agreement": exact / n if n else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"), "tp": tp, "fp": fp, "fn": fn,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--labels", type=Path, default=HERE / "real" / "labels.csv")
    p.add_argument("--mirror", type=Path, default=Path("/work/.mirror"))
    p.add_argument("--work", type=Path, default=Path("/tmp/survey-real"), help="where checkouts are built")
    p.add_argument("--jobs", type=int, default=2)
    p.add_argument("--out", type=Path, help="write repo, commit, label, verdict and the tool's evidence here")
    p.add_argument("--show", action="store_true", help="print the evidence of every disagreement")
    args = p.parse_args(argv)

    rows = load_labels(args.labels)
    items, present, missing = [], [], []
    for row in rows:
        git = git_dir(args.mirror, row["repo"])
        if git is None:
            missing.append(row["repo"])
            continue
        dest = args.work / f"{row['repo'].replace('/', '+')}@{row['commit'][:12]}"
        try:
            items.append((str(checkout(git, row["commit"], dest)), row["repo"]))
            present.append(row)
        except (subprocess.SubprocessError, OSError, ValueError) as exc:
            missing.append(f"{row['repo']} ({exc})")
    verdicts = {v.repo: v for v in classify_many(items, jobs=args.jobs)}
    pairs = [(row["label"], verdicts[row["repo"]].verdict) for row in present]
    s = score(pairs)
    print(f"real set: {s['n']} repositories scored ({len(missing)} without a snapshot here)")
    print(f"exact agreement {s['exact']}/{s['n']} = {s['agreement']:.2f}; affected: precision {s['precision']:.2f} "
          f"({s['tp']}/{s['tp'] + s['fp']}), recall {s['recall']:.2f} ({s['tp']}/{s['tp'] + s['fn']})")
    confusion = Counter(pairs)
    print("\nlabel \\ tool".ljust(18) + "".join(v[:9].rjust(10) for v in VERDICTS))
    for label in VERDICTS:
        if any(lab == label for lab, _ in pairs):
            print(label.ljust(17) + "".join(str(confusion[(label, v)] or ".").rjust(10) for v in VERDICTS))
    wrong = [(row, verdicts[row["repo"]]) for row in present if row["label"] != verdicts[row["repo"]].verdict]
    if wrong:
        print("\ndisagreements:")
    for row, v in wrong:
        print(f"  {row['repo']}: label {row['label']}, tool {v.verdict}")
        if args.show:
            print(f"    label evidence: {row['evidence']}")
            for f in v.findings[:6]:
                print(f"    tool: {f.code} {f.verdict} {f.path}:{f.line} loader={f.loader[:70]!r} "
                      f"workers={f.num_workers[:50]!r} seed={f.seed[:60]!r}")
    for m in missing:
        print(f"  no snapshot: {m}")
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as out:
            w = csv.writer(out, lineterminator="\n")
            w.writerow(["repo", "commit", "label", "verdict", "rng_kind", "findings"])
            for row in present:
                v = verdicts[row["repo"]]
                w.writerow([row["repo"], row["commit"], row["label"], v.verdict, v.rng_kind, len(v.findings)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
