"""Classify benchmark: survey's analysis against ast.parse over the same files, one process and all cores.

    python analysis/bench_classify.py [ROOT ...]

Each top-level package or module folder under each ROOT (default: the standard library and this venv's
site-packages, PyTorch among them) is one "repository". Prints files/s and MB/s, the ratio to ast.parse
over every .py file, the speed-up with --jobs, peak memory, and the projected CPU-hours for 100k repositories;
then peak memory on one near-limit file and on a small and a 12x larger generated corpus (``--memory``: only that).
"""
import ast
import os
import platform
import resource
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.sources import MAX_FILE_BYTES, iter_python_files  # noqa: E402


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
    files = size = 0
    t0 = time.process_time()
    for repo in repos:
        for path in iter_python_files(repo):
            data = path.read_bytes()
            files += 1
            size += len(data)
            try:
                ast.parse(data)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                pass
    return files, size, time.process_time() - t0


def survey_run(repos, jobs):
    cmd = [sys.executable, "-m", "survey", "classify", "--jobs", str(jobs), "--csv", os.devnull, *map(str, repos)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, usage


_PEAK = ("import resource, sys; from survey.cli import main; rc = main(sys.argv[1:]); "
         "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); sys.exit(rc)")


def peak_rss(args):
    """Peak RSS in MB and wall seconds of one `survey` command run in a fresh interpreter."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(proc.stderr[-2000:])
    return int(proc.stderr.strip().splitlines()[-1]) / 1024, time.perf_counter() - t0


def huge_files(tmp: Path):
    """Repositories whose one file is just under the analyser's size limit: dense code, and a data literal."""
    repo = tmp / "huge_code"
    repo.mkdir()
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
    text = f"# Dataset rows for torch\nTABLE = [\n{rows}"
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
            rss, wall = peak_rss(["classify", "--jobs", "1", "--csv", os.devnull, str(repo)])
            print(f"one {size:.2f} MB file ({repo.name}): {wall:.1f} s, peak RSS {rss:.0f} MB")
        small = generated_corpus(tmp / "small", 1)
        large = generated_corpus(tmp / "large", 12)
        rss_small, wall_small = peak_rss(["classify", "--jobs", "1", "--csv", os.devnull, *map(str, small)])
        rss_large, wall_large = peak_rss(["classify", "--jobs", "1", "--csv", os.devnull, *map(str, large)])
        print(f"generated corpus: {len(small)} repositories {wall_small:.1f} s, peak RSS {rss_small:.0f} MB; "
              f"{len(large)} repositories {wall_large:.1f} s ({(wall_large - 0.3) / len(large) * 1000:.0f} ms each), "
              f"peak RSS {rss_large:.0f} MB")


def main(roots):
    roots = roots or [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    repos = repositories(roots)
    files, size, ast_cpu = ast_baseline(repos)
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"corpus: {len(repos)} repositories, {files} .py files, {size / 1e6:.1f} MB ({', '.join(map(str, roots))})")
    print(f"ast.parse: {ast_cpu:.1f} s CPU, {files / ast_cpu:.0f} files/s, {size / 1e6 / ast_cpu:.1f} MB/s")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall1, after = survey_run(repos, 1)
    cpu1 = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    print(f"survey classify --jobs 1: {wall1:.1f} s wall, {cpu1:.1f} s CPU, {files / wall1:.0f} files/s, "
          f"{size / 1e6 / wall1:.1f} MB/s; ratio to ast.parse {wall1 / ast_cpu:.2f}; peak RSS {after.ru_maxrss / 1024:.0f} MB")
    jobs = os.cpu_count() or 1
    if jobs > 1:
        wall_n, after_n = survey_run(repos, jobs)
        print(f"survey classify --jobs {jobs}: {wall_n:.1f} s wall, speed-up {wall1 / wall_n:.2f}x; "
              f"peak RSS per process {after_n.ru_maxrss / 1024:.0f} MB")
    per_repo = cpu1 / len(repos)
    print(f"projection: {per_repo * 1000:.0f} ms CPU per repository here -> {per_repo * 100_000 / 3600:.1f} CPU-hours "
          f"for 100k repositories of this size")


if __name__ == "__main__":
    if sys.argv[1:] == ["--memory"]:
        memory()
    else:
        main(sys.argv[1:])
        memory()
