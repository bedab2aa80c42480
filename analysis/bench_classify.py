"""Classify benchmark: survey's analysis against ast.parse over the same files, one process and all cores.

    python analysis/bench_classify.py [ROOT ...]

Each top-level package or module folder under each ROOT (default: the standard library and this venv's
site-packages, PyTorch among them) is one "repository". Prints files/s and MB/s, the ratio to ast.parse
over every .py file, the speed-up with --jobs, peak memory, and the projected CPU-hours for 100k repositories.
"""
import ast
import os
import platform
import resource
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from survey.sources import iter_python_files  # noqa: E402


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
    main(sys.argv[1:])
