"""The 2021 study's style of summary, recomputed from a report folder's CSVs, and how it compares.

    python analysis/summary.py [REPORT_DIR]     (default: reports)

The comparison sentence is worded by survey.report.study, as in report.html, from numbers recomputed here
from repos.csv alone (the CSVs are the data; the page is one view of them).
"""
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.report.study import DIFFERENCES, STUDY, comparison_sentence  # noqa: E402
from survey.report.tables import BUG, WITH_WORKERS, wilson  # noqa: E402


def figures(repos: pd.DataFrame) -> dict:
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    k = int(base["verdict"].isin(BUG).sum())
    p, lo, hi = wilson(k, len(base))
    bug = base[base["verdict"].isin(BUG)]
    return {"classified": len(repos), "with_workers": len(base), "affected": k, "share": p, "ci_low": lo,
            "ci_high": hi, "effective_yes": int((bug["effective"] == "yes").sum())}


def main(folder: Path) -> None:
    repos = pd.read_csv(folder / "repos.csv", keep_default_na=False, dtype=str)
    h = figures(repos)
    fork = repos["fork"].str.lower() == "true"
    no_forks = repos[~fork]
    # copies counted once, as collapsed.csv: forks out, then the oldest of each copy group
    once = no_forks.assign(_t=no_forks["created_at"].replace("", "9999")).sort_values(["_t", "repo"]) \
        .drop_duplicates("copy_group")
    print(f"{h['classified']} repositories classified; {int(repos['verdict'].ne('no-dataset').sum())} define a custom "
          f"Dataset; {h['with_workers']} draw NumPy random numbers in it and load it with worker processes.")
    print(f"{h['affected']} of those {h['with_workers']} ({100 * h['share']:.1f}%, 95% CI {100 * h['ci_low']:.1f}-"
          f"{100 * h['ci_high']:.1f}%) are affected (no reseed, or a reseed that does not help); in "
          f"{h['effective_yes']} the bug shows with the torch they pin.")
    unknown = int((repos["fork"] == "").sum())
    if unknown:
        print(f"{unknown} of {len(repos)} repositories have no fork flag (no metadata) and count as non-forks.")
    for label, frame in (("Forks excluded", no_forks), ("Forks excluded, copied Datasets counted once", once)):
        f = figures(frame)
        if f["with_workers"]:
            print(f"{label}: {f['affected']} of {f['with_workers']} ({100 * f['share']:.1f}%, 95% CI "
                  f"{100 * f['ci_low']:.1f}-{100 * f['ci_high']:.1f}%).")
    print()
    print(f"The 2021 claim ({STUDY['source']}): over {100 * STUDY['share']:.0f}% of the {STUDY['population']}, "
          f"among over {STUDY['scanned']:,} repositories; the qualifying count was not published, so it has no "
          f"interval.")
    print(comparison_sentence(h))
    for line in DIFFERENCES:
        print(line)
    if h["classified"] < 1000:
        print(f"Note: {h['classified']} repositories is a sample, not a survey; the interval says how little it "
              f"pins down.")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("reports"))
