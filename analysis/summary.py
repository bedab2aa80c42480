"""The 2021 study's style of summary, from a report folder's CSVs, and how it compares.

    python analysis/summary.py [REPORT_DIR]     (default: reports)
"""
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.report.tables import BUG, WITH_WORKERS, wilson  # noqa: E402

STUDY = {"scanned": 100_000, "share": 0.95}


def main(folder: Path) -> None:
    repos = pd.read_csv(folder / "repos.csv", keep_default_na=False)
    base = repos[repos["verdict"].isin(WITH_WORKERS)]
    k = int(base["verdict"].isin(BUG).sum())
    p, lo, hi = wilson(k, len(base))
    no_forks = base[~base["fork"].astype(str).str.lower().isin(("true", "1"))]
    kf = int(no_forks["verdict"].isin(BUG).sum())
    still = int((base["effective"] == "yes").sum())
    print(f"{len(repos)} repositories scanned; {int(repos['verdict'].ne('no-dataset').sum())} define a custom Dataset; "
          f"{len(base)} draw NumPy random numbers in it and load it with worker processes.")
    print(f"{k} of those {len(base)} ({100 * p:.1f}%, 95% CI {100 * lo:.1f}-{100 * hi:.1f}%) are affected "
          f"(no reseed, or a reseed that does not help); {still} are still affected with today's torch.")
    if len(no_forks):
        print(f"Forks excluded: {kf} of {len(no_forks)} ({100 * kf / len(no_forks):.1f}%).")
    print()
    print(f"The April 2021 study reported over {100 * STUDY['share']:.0f}% of about {STUDY['scanned']:,} PyTorch "
          f"repositories' qualifying projects affected.")
    print("Same: the question (custom Dataset + NumPy randomness + worker processes) and the unit (a repository).")
    print("Different: survey follows the per-sample path through methods, helpers, transforms and collate_fn;")
    print("  counts RNG objects, not only np.random.* calls; resolves num_workers instead of assuming > 0;")
    print("  judges worker_init_fn reseeds (a constant, worker_id or get_state()[1][0] seed is still affected);")
    print("  reports torch >= 1.9, which reseeds the global RNG, separately ('still affected today');")
    print("  gives a confidence interval and excludes forks and copied Datasets on request.")
    if len(repos) < 1000:
        print(f"Note: {len(repos)} repositories is a sample, not a survey; the interval says how little it pins down.")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("reports"))
