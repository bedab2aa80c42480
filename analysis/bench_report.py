"""Report benchmark: `survey report` over a generated catalog of N repositories and 3N findings.

    python analysis/bench_report.py [N]      (default 100000)
"""
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.report.tables import build, write  # noqa: E402
from survey.crawl.store import Catalog  # noqa: E402

VERDICTS = ["affected"] * 30 + ["flawed-seed"] * 8 + ["seeded"] * 10 + ["single-process"] * 7 + ["clean"] * 25 + \
    ["no-dataset"] * 20
CODES = {"affected": "SRV101", "flawed-seed": "SRV202", "seeded": "SRV301", "single-process": "SRV302"}


def generate(db: Path, n: int) -> int:
    rnd = random.Random(1)
    Catalog(db).close()
    con = sqlite3.connect(db)
    repos, verdicts, findings = [], [], []
    for i in range(n):
        name = f"owner{i % 5000}/repo{i}"
        v = rnd.choice(VERDICTS)
        year = rnd.randint(2016, 2025)
        sha = f"{i:040x}"
        repos.append((name, i, int(rnd.lognormvariate(1.5, 2)), 0, f"{year}-{rnd.randint(1, 12):02d}-15T00:00:00Z", "",
                      "main", "MIT", 10, int(rnd.random() < 0.05), 0, "classified", None, sha, "", "", "", "", ""))
        pin = rnd.choice(["", "", "==1.8.1", ">=1.10", ">=1.4"])
        eff = "yes" if v == "flawed-seed" else rnd.choice(["yes", "no", "unknown"]) if v == "affected" else "no"
        verdicts.append((name, sha, v, "global" if v in CODES else "", pin, eff, 6 if v in CODES else 0, 0, "", ""))
        if v in CODES:
            for k in range(6):
                findings.append((name, CODES[v], "data.py", 10 + k, 5, v, "data.D", f"data.py:{10 + k}: np.random.rand()",
                                 "global", "train.py:3: DataLoader(d)", "4", "", "", f"{rnd.randint(0, n // 3):x}"))
    con.executemany(f"INSERT INTO repos VALUES ({','.join('?' * 19)})", repos)
    con.executemany(f"INSERT INTO verdicts VALUES ({','.join('?' * 10)})", verdicts)
    con.executemany(f"INSERT INTO findings VALUES ({','.join('?' * 14)})", findings)
    con.commit()
    con.close()
    return len(findings)


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "big.db"
        nf = generate(db, n)
        t0 = time.perf_counter()
        report = build(db)
        t1 = time.perf_counter()
        page = write(report, Path(tmp) / "out")
        t2 = time.perf_counter()
        size = page.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print(f"catalog: {n} repositories, {nf} findings")
    print(f"tables {t1 - t0:.1f} s, CSV + HTML {t2 - t1:.1f} s, total {t2 - t0:.1f} s; report.html {size / 1e6:.1f} MB")
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
