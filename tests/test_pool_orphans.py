"""kill -9 of `survey classify --jobs N` must not leave its pool workers running."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import FIXTURES


def _children(pid: int):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ", 1)[1].startswith("Z"))


def test_pool_workers_die_with_a_killed_parent(tmp_path):
    # many copies of the fixtures keep the pool busy long enough to be killed mid-run
    paths = [str(p) for p in sorted(FIXTURES.iterdir()) if p.is_dir()] * 40
    proc = subprocess.Popen([sys.executable, "-m", "survey", "classify", "--jobs", "2", *paths],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    deadline = time.time() + 60
    while time.time() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = _children(proc.pid)
    assert workers, "the pool never started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.2)
    assert not [w for w in workers if _alive(w)]
