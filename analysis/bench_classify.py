"""Classify benchmark: survey's analysis against ast.parse over the same files, one process and all cores.

    python analysis/bench_classify.py [ROOT ...]

Each top-level package or module folder under each ROOT (default: the standard library and this venv's
site-packages, PyTorch among them) is one "repository". Prints files/s and MB/s, the ratio to ast.parse
over every .py file, the speed-up with --jobs, peak memory, and the projected CPU-hours for 100k repositories;
then peak memory on one near-limit file and on a small and a 12x larger generated corpus (``--memory``: only that).
"""
import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.analysis.sources import MAX_FILE_BYTES, iter_python_files  # noqa: E402


def repositories(roots):
    out = []
    for root in roots:
        for child in sorted(Path(root).iterdir()):
            # the stdlib folder holds the interpreter's own site-packages: that is not one repository
            if child.is_dir() and not child.name.startswith((".", "__")) and not child.name.endswith("-info") \
                    and child.name not in ("site-packages", "dist-packages"):
                out.append(child)
    return out


def ast_baseline(repos):
    """(files, bytes, CPU s) of ast.parse over every .py file, and the CPU s of each repository."""
    files = size = 0
    per_repo = []
    t0 = time.process_time()
    for repo in repos:
        t_repo = time.process_time()
        for path in iter_python_files(repo):
            data = path.read_bytes()
            files += 1
            size += len(data)
            try:
                ast.parse(data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass
        per_repo.append(time.process_time() - t_repo)
    return files, size, time.process_time() - t0, per_repo


# Runs survey's CLI and reports, on stderr, the CPU it and its pool workers used and their peak memory.
# Peak memory is VmHWM of /proc: ru_maxrss survives exec and would report this benchmark's own peak.
_MEASURED = """
import json, re, resource, sys, time
from survey.cli import main
rc = main(sys.argv[1:])
def hwm():
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\\s+(\\d+)", f.read()).group(1)) / 1024
me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"cpu": me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, "rss": hwm(),
                  "workers_rss": kids.ru_maxrss / 1024}), file=sys.stderr)
sys.exit(rc)
"""


# CPU seconds of each repository's classification, in one process as `classify --jobs 1` runs them.
_PER_REPO = """
import json, sys, time
from survey.analysis.classify import classify_item
out = []
for path in sys.argv[1:]:
    t0 = time.process_time()
    classify_item((path, None))
    out.append(time.process_time() - t0)
print(json.dumps(out))
"""


def per_repo_ratios(repos, ast_per_repo):
    proc = subprocess.run([sys.executable, "-c", _PER_REPO, *map(str, repos)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    cpu = json.loads(proc.stdout.strip().splitlines()[-1])
    # repositories whose parse takes under 10 ms are all start-up noise: left out of the spread
    ratios = sorted(s / a for s, a in zip(cpu, ast_per_repo) if a >= 0.01)
    return ratios


def survey(args):
    """(wall s, CPU s, peak RSS MB of the main process, of the largest pool worker) of one survey command."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    m = json.loads(proc.stderr.strip().splitlines()[-1])
    return wall, m["cpu"], m["rss"], m["workers_rss"]


def survey_run(repos, jobs):
    return survey(["classify", "--jobs", str(jobs), "--csv", os.devnull, *map(str, repos)])


def huge_files(tmp: Path):
    """Repositories whose one file is just under the analyser's size limit: dense code, and a data literal."""
    repo = tmp / "huge_code"
    repo.mkdir(parents=True)
    block = ("class Set{i}(Dataset):\n    def __getitem__(self, i):\n        x = np.random.rand(3) * {i}\n"
             "        return [x + k for k in range(8)]\n\n")
    body = "import numpy as np\nfrom torch.utils.data import Dataset, DataLoader\n\n"
    i = 0
    while len(body) < MAX_FILE_BYTES - 50_000:
        body += block.format(i=i)
        i += 1
    (repo / "data.py").write_text(body + "loader = DataLoader(Set0(), num_workers=4)\n")
    data = tmp / "huge_literal"
    data.mkdir()
    rows = ",\n".join(f"    [{k}, {k + 1}.5, 'row{k}']" for k in range(MAX_FILE_BYTES // 25))
    text = f"import torch\n\n\nclass Rows(torch.utils.data.Dataset):\n    pass\n\n\nTABLE = [\n{rows}"
    (data / "table.py").write_text(text[:text.rindex(",", 0, MAX_FILE_BYTES - 100)] + "\n]\n")
    return [repo, data]


def generated_corpus(tmp: Path, copies: int):
    """The test fixtures copied under new names: many small repositories, as a survey has."""
    fixtures = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "repos"
    out = []
    for k in range(copies):
        for repo in sorted(fixtures.iterdir()):
            dest = tmp / f"{repo.name}-{k}"
            shutil.copytree(repo, dest)
            # a distinct first line per copy, so the facts cache cannot serve the copies
            for py in dest.rglob("*.py"):
                py.write_text(f"# copy {k}\n" + py.read_text())
            out.append(dest)
    return out


def memory():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for repo in huge_files(tmp):
            size = sum(p.stat().st_size for p in repo.rglob("*.py")) / 1e6
            wall, _, rss, _ = survey(["classify", "--jobs", "1", "--csv", os.devnull, str(repo)])
            print(f"one {size:.2f} MB file ({repo.name}): {wall:.1f} s, peak RSS {rss:.0f} MB")
        many = tmp / "many_huge"
        many.mkdir()
        dense = (huge_files(tmp / "one")[0] / "data.py").read_text()
        for n in range(30):
            (many / f"part{n}.py").write_text(dense)
        wall, _, rss, _ = survey(["classify", "--jobs", "1", "--csv", os.devnull, str(many)])
        print(f"one repository of 30 such files ({30 * len(dense) / 1e6:.0f} MB): {wall:.1f} s, peak RSS {rss:.0f} MB")
        small = generated_corpus(tmp / "small", 1)
        large = generated_corpus(tmp / "large", 12)
        wall_small, _, rss_small, _ = survey(["classify", "--jobs", "1", "--csv", os.devnull, *map(str, small)])
        wall_large, cpu_large, rss_large, _ = survey(["classify", "--jobs", "1", "--csv", os.devnull, *map(str, large)])
        print(f"generated corpus: {len(small)} repositories {wall_small:.1f} s, peak RSS {rss_small:.0f} MB; "
              f"{len(large)} repositories {wall_large:.1f} s ({cpu_large / len(large) * 1000:.1f} ms CPU each), "
              f"peak RSS {rss_large:.0f} MB")


def main(roots):
    roots = roots or [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    repos = repositories(roots)
    files, size, ast_cpu, ast_per_repo = ast_baseline(repos)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"corpus: {len(repos)} repositories, {files} .py files, {size / 1e6:.1f} MB ({', '.join(map(str, roots))})")
    print(f"ast.parse: {ast_cpu:.1f} s CPU, {files / ast_cpu:.0f} files/s, {size / 1e6 / ast_cpu:.1f} MB/s")
    wall1, cpu1, rss1, _ = survey_run(repos, 1)
    print(f"survey classify --jobs 1: {wall1:.1f} s wall, {cpu1:.1f} s CPU, {files / wall1:.0f} files/s, "
          f"{size / 1e6 / wall1:.1f} MB/s; ratio to ast.parse {wall1 / ast_cpu:.2f} (wall), {cpu1 / ast_cpu:.2f} (CPU, "
          f"steadier when other work shares the cores); peak RSS {rss1:.0f} MB")
    ratios = per_repo_ratios(repos, ast_per_repo)
    if ratios:
        print(f"per repository (CPU, {len(ratios)} with >= 10 ms of parsing): median ratio "
              f"{ratios[len(ratios) // 2]:.2f}, worst {ratios[-1]:.2f}")
    jobs = os.cpu_count() or 1
    if jobs > 1:
        wall_n, cpu_n, rss_n, workers_n = survey_run(repos, jobs)
        print(f"survey classify --jobs {jobs}: {wall_n:.1f} s wall, {cpu_n:.1f} s CPU, speed-up {wall1 / wall_n:.2f}x; "
              f"peak RSS {rss_n:.0f} MB main, {workers_n:.0f} MB largest worker")
    per_repo = cpu1 / len(repos)
    print(f"projection: {per_repo * 1000:.0f} ms CPU per repository here -> {per_repo * 100_000 / 3600:.1f} CPU-hours "
          f"for 100k repositories of this size")


if __name__ == "__main__":
    if sys.argv[1:] == ["--memory"]:
        memory()
    else:
        main(sys.argv[1:])
        memory()
