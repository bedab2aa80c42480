"""Report benchmark: `survey report` over a generated catalog of N classified repositories (about 3.3N
findings), plus 2% failed downloads and one recorded crawl.

    python analysis/bench_report.py [N]      (default 100000)
"""
import os
import platform
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.report.files import write  # noqa: E402
from survey.report.tables import build  # noqa: E402
from survey.crawl.store import Catalog  # noqa: E402

VERDICTS = ["affected"] * 30 + ["flawed-seed"] * 8 + ["seeded"] * 10 + ["single-process"] * 7 + ["clean"] * 25 + \
    ["no-dataset"] * 20
CODES = {"affected": "SRV101", "flawed-seed": "SRV202", "seeded": "SRV301", "single-process": "SRV302"}


def generate(db: Path, n: int) -> int:
    rnd = random.Random(1)
    with Catalog(db) as cat:
        cat.record_crawl("https://api.github.com", "", ("2016-01-01", "2025-12-31"), 1)
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
        verdicts.append((name, sha, v, "global" if v in CODES else "", pin, eff, 6 if v in CODES else 0,
                         int(rnd.random() < 0.03), "2026-01-02T03:04:05+00:00", "0.1.0+gbench"))
        if v in CODES:
            for k in range(6):
                findings.append((name, CODES[v], "data.py", 10 + k, 5, v, "data.D", f"data.py:{10 + k}: np.random.rand()",
                                 "global", "train.py:3: DataLoader(d)", "4", "", "", f"{rnd.randint(0, n // 3):x}"))
    for i in range(n // 50):
        repos.append((f"failed/repo{i}", n + i, 1, 0, "2020-01-01T00:00:00Z", "", "main", "", 10, 0, 0, "failed",
                      rnd.choice(["HTTP 404", "snapshot over the size cap", "truncated download after 3 tries"]),
                      None, "", "", "", "", ""))
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
        t0, c0 = time.perf_counter(), time.process_time()
        report = build(db)
        t1 = time.perf_counter()
        page = write(report, Path(tmp) / "out")
        t2, c2 = time.perf_counter(), time.process_time()
        size = page.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"machine: {platform.machine()} python {platform.python_version()}")
    print(f"catalog: {n} repositories, {nf} findings")
    print(f"tables {t1 - t0:.1f} s, CSV + HTML {t2 - t1:.1f} s, total {t2 - t0:.1f} s wall "
          f"({c2 - c0:.1f} s CPU: the gap is other work on the machine); report.html {size / 1e6:.1f} MB")
    print(f"load average while running: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"peak RSS {peak:.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
