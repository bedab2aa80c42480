"""A hostile GitHub, hostile tarballs and hostile names against the real crawler (PyGithub, requests).

Every answer here is built in the test and served from 127.0.0.1: each must cost only its own repository's
row, within the bounds of survey.crawl.download and survey.crawl.snapshot, and never leak the token.
"""
import gzip
import io
import os
import socket
import tarfile
import threading
import time
import tracemalloc
import zlib
from pathlib import Path

import pytest

import survey.crawl.download as download
import survey.crawl.github as github
import survey.crawl.snapshot as snapshot
from survey.crawl.bounds import WaitTooLong, scrub, valid_full_name
from survey.crawl.github import CrawlOptions, Crawler, clean_partials
from survey.crawl.snapshot import SnapshotError, extract_snapshot
from survey.crawl.store import Catalog
from ghserver import FakeGitHub, make_tarball, repo_item
from test_crawl import BUGGY, corpus, crawl, run_cli


@pytest.fixture
def gh():
    servers = []

    def start(n=1, **kw):
        repos, files = corpus(n, **kw)
        fake = FakeGitHub(repos, files)
        fake.start()
        servers.append(fake)
        fake.names = sorted(r["full_name"] for r in repos)
        return fake
    yield start
    for fake in servers:
        fake.stop()


def raw(status_line: str, headers: dict, body: bytes = b"", close=True):
    """An answer written byte by byte, whatever HTTP says it should be."""
    def answer(h):
        head = f"HTTP/1.1 {status_line}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        try:
            h.wfile.write(head.encode() + body)
            h.wfile.flush()
        except OSError:  # the crawler hung up, as it should past a cap
            pass
        if close:
            h.close_connection = True
    return answer


def tar_gz(members, sha="a" * 40):
    """A gzipped tar of raw 512-byte blocks (members: list of (TarInfo, data)), headers as given."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT, pax_headers={"comment": sha}) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data else None)
    return gzip.compress(buf.getvalue(), 1)


def info(name, size=0, **attrs):
    i = tarfile.TarInfo(name)
    i.size = size
    for k, v in attrs.items():
        setattr(i, k, v)
    return i


def test_each_hostile_answer_is_its_own_failed_row_and_deterministic_ones_are_fetched_once(gh, tmp_path):
    fake = gh(12)
    n = fake.names
    top = "o-r-aaaaaaa"
    nul_tar = tar_gz([(info(top, type=tarfile.DIRTYPE), b""), (info(f"{top}/ok.py", 6), b"x = 1\n")])
    # a pax record whose path holds a NUL byte
    pax = tarfile.TarInfo(f"{top}/x.py")
    pax.size = 6
    pax.pax_headers = {"path": f"{top}/a\0b.py"}
    nul_tar = tar_gz([(pax, b"x = 1\n"), (info(f"{top}/ok.py", 6), b"x = 1\n")])
    fake.status[n[0]] = 403
    fake.answers = {
        n[1]: raw("200 OK", {"Content-Type": "text/html", "Content-Length": "23"}, b"<html>Unicorn!</html>\r\n"),
        n[2]: raw("200 OK", {"Content-Type": "application/x-gzip", "Content-Encoding": "gzip",
                             "Content-Length": "10"}, b"not gzip!!"),
        n[3]: raw("200 OK", {"Content-Type": "application/x-gzip", "Content-Length": "abc"}, b"xx"),
        n[4]: raw("302 Found", {"Location": f"/repos/{n[4]}/tarball/main", "Content-Length": "0"}, close=False),
        n[5]: raw("302 Found", {"Location": "file:///etc/passwd", "Content-Length": "0"}, close=False),
        n[6]: raw("200 OK", {"Content-Type": "application/x-gzip", "Content-Length": str(len(nul_tar))}, nul_tar),
    }
    rows = {r["full_name"]: r for r in crawl(fake, tmp_path)}
    reasons = {name: rows[name]["reason"] for name in n[:7]}
    assert all(rows[name]["status"] == "failed" for name in n[:6]), reasons
    assert "Repository access blocked" in reasons[n[0]]
    assert "text/html" in reasons[n[1]] or "gzip" in reasons[n[1]]
    assert "Content-Encoding" in reasons[n[2]]
    assert "redirect" in reasons[n[4]] and "http" in reasons[n[5]]
    assert rows[n[6]]["status"] == "downloaded"  # the NUL-named member is skipped, the rest kept
    assert sorted(p.name for p in Path(rows[n[6]]["source_path"]).iterdir()) == ["ok.py"]
    assert all(rows[name]["status"] == "downloaded" for name in n[7:])
    tries = {name: sum(f"/repos/{name}/tarball" in p for p in fake.requests) for name in (n[0], n[1], n[2], n[5])}
    assert set(tries.values()) == {1}, tries  # deterministic failures are not downloaded three times


def test_lying_size_headers_cannot_hang_the_extraction(tmp_path):
    # A few hundred bytes whose member claims 8 GB: tarfile's stream mode skipped it block by block, forever.
    top = "o-r-aaaaaaa"
    data = tar_gz([(info(f"{top}/big.bin", 0), b""), (info(f"{top}/ok.py", 6), b"x = 1\n")])
    body = bytearray(gzip.decompress(data))
    pos = body.index(b"big.bin")
    header = pos - (pos % 512)
    body[header + 124: header + 136] = b"77777777777\0"  # size field: 8 GiB
    chk = sum(body[header:header + 148]) + 8 * 32 + sum(body[header + 156:header + 512])
    body[header + 148: header + 156] = b"%06o\0 " % chk
    hostile = gzip.compress(bytes(body))
    assert len(hostile) < 1000
    result = {}

    def run():
        try:
            extract_snapshot(io.BytesIO(hostile), "o/r", tmp_path)
        except SnapshotError as exc:
            result["error"] = exc
    t0 = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "extraction hangs on a lying size header"
    print(f"lying size header refused in {time.monotonic() - t0:.3f} s")
    assert "claims" in str(result["error"]) and not result["error"].retry


def test_a_huge_pax_header_is_refused_without_reading_it_into_memory(tmp_path):
    # A 100 MB pax header of zeros compresses to 100 kB; tarfile reads a header whole into memory.
    top = "o-r-aaaaaaa"
    block = tarfile.TarInfo(f"{top}/././@PaxHeader")
    block.type = tarfile.XHDTYPE
    block.size = 100_000_000
    hdr = block.tobuf(tarfile.USTAR_FORMAT)
    stream = zlib.compressobj(9, zlib.DEFLATED, 31)
    hostile = stream.compress(hdr) + b"".join(stream.compress(b"\0" * 1_000_000) for _ in range(100)) + stream.flush()
    assert len(hostile) < 200_000
    tracemalloc.start()
    with pytest.raises(SnapshotError, match="header claims"):
        extract_snapshot(io.BytesIO(hostile), "o/r", tmp_path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"100 MB pax header refused, peak {peak / 1e6:.1f} MB")
    assert peak < 20_000_000


def test_many_members_are_bounded_in_number_and_in_memory(tmp_path, monkeypatch):
    top = "o-r-aaaaaaa"
    members = [(info(f"{top}/d{i}", type=tarfile.DIRTYPE), b"") for i in range(60_000)]
    many = tar_gz(members)
    tracemalloc.start()
    sha, _ = extract_snapshot(io.BytesIO(many), "o/r", tmp_path / "a")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"60,000 members extracted, peak {peak / 1e6:.1f} MB")
    assert peak < 15_000_000  # tarfile alone keeps every member: about 40 MB for these
    monkeypatch.setattr(snapshot, "MAX_MEMBERS", 10_000)
    with pytest.raises(SnapshotError, match="more than 10000 members"):
        extract_snapshot(io.BytesIO(many), "o/r", tmp_path / "b")


def test_bodies_past_the_byte_cap_are_cut_off_whatever_the_headers_say(gh, tmp_path, monkeypatch):
    monkeypatch.setattr(download, "DOWNLOAD_BYTES", 1_000_000)
    fake = gh(4)
    n = fake.names
    bomb = gzip.compress(b"\0" * 50_000_000, 9)   # a Content-Encoding bomb: 50 kB that decode to 50 MB
    fake.answers = {
        n[0]: raw("200 OK", {"Content-Type": "application/x-gzip"}, b"\x1f" * 5_000_000),  # no Content-Length
        n[1]: raw("200 OK", {"Content-Type": "application/x-gzip", "Content-Encoding": "gzip",
                             "Content-Length": str(len(bomb))}, bomb),
        n[2]: raw("200 OK", {"Content-Type": "application/x-gzip", "Content-Length": "5000000000"}, b""),
    }
    written = []
    real = download.download

    def measured(session, url, out, deadline):
        try:
            return real(session, url, out, deadline)
        finally:
            written.append(out.seek(0, 2))
    monkeypatch.setattr(github, "download", measured)
    rows = {r["full_name"]: r for r in crawl(fake, tmp_path)}
    assert [rows[x]["status"] for x in n] == ["failed", "failed", "failed", "downloaded"]
    assert "cut off" in rows[n[0]]["reason"] and "cut off" in rows[n[1]]["reason"]
    assert "over the 1000000-byte limit" in rows[n[2]]["reason"]
    print(f"bytes written per try at most {max(written)}; tries {len(written)}")
    assert max(written) <= 1_000_000 and len(written) == 4


class Silent:
    """A server on 127.0.0.1 that accepts and then answers slowly (``trickle`` seconds a byte) or never."""

    def __init__(self, trickle=None):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.trickle = trickle
        self.conns = []
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.trickle:
                threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-gzip\r\nContent-Length: 100000000\r\n\r\n")
            while not self.stop.is_set():
                conn.sendall(b"\x1f")
                time.sleep(self.trickle)
        except OSError:
            pass

    def close(self):
        self.stop.set()
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.mark.parametrize("trickle", [0.05, None], ids=["trickling", "never-answering"])
def test_slow_servers_cost_at_most_the_deadline(gh, tmp_path, monkeypatch, trickle):
    monkeypatch.setattr(github, "DOWNLOAD_SECONDS", 2.0)
    monkeypatch.setattr(download, "DOWNLOAD_SECONDS", 2.0)
    monkeypatch.setattr(download, "READ_TIMEOUT", 1.0)
    slow = Silent(trickle)
    fake = gh(2)
    n = fake.names
    fake.answers = {n[0]: raw("302 Found", {"Location": f"{slow.url}/slow.tar.gz", "Content-Length": "0"}, close=False)}
    t0 = time.monotonic()
    try:
        rows = {r["full_name"]: r for r in crawl(fake, tmp_path)}
    finally:
        slow.close()
    took = time.monotonic() - t0
    print(f"{'trickling' if trickle else 'never-answering'} server: failed after {took:.1f} s "
          f"({rows[n[0]]['reason']})")
    assert rows[n[0]]["status"] == "failed" and rows[n[1]]["status"] == "downloaded"
    assert ("took more than 2 s" if trickle else "silent for 1 s") in rows[n[0]]["reason"]
    assert took < 6  # the 2 s deadline, plus one read timeout and the rest of the crawl


@pytest.mark.parametrize("fault", ["reset-far", "retry-after-huge"])
def test_a_wait_past_max_wait_stops_the_crawl_with_a_clear_message(gh, tmp_path, fault):
    fake = gh(3)
    fake.faults = {0: fault}
    t0 = time.monotonic()
    proc = run_cli(["crawl", "--api-url", fake.url, "--created", "2020-01-01..2020-01-31", "--max-wait", "60",
                    "--db", str(tmp_path / "s.db"), "--sources", str(tmp_path / "r")])
    out, err = proc.communicate(timeout=120)
    print(f"{fault}: stopped in {time.monotonic() - t0:.1f} s: {err.strip()}")
    assert proc.returncode == 2
    assert "asks to wait" in err and "60 s" in err and "internal error" not in err


def test_a_tarball_download_asking_a_huge_wait_stops_the_crawl_too(gh, tmp_path):
    fake = gh(2)
    fake.answers = {fake.names[0]: raw("403 Forbidden", {"Retry-After": str(10 ** 15), "Content-Length": "2",
                                                         "Content-Type": "application/json"}, b"{}")}
    with pytest.raises(WaitTooLong):
        crawl(fake, tmp_path)


def test_an_unreachable_api_is_reported_quickly(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there: connection refused
    t0 = time.monotonic()
    proc = run_cli(["crawl", "--api-url", f"http://127.0.0.1:{port}", "--created", "2020-01-01..2020-01-31",
                    "--db", str(tmp_path / "s.db"), "--sources", str(tmp_path / "r")])
    out, err = proc.communicate(timeout=120)
    took = time.monotonic() - t0
    print(f"connection refused: reported in {took:.1f} s")
    assert proc.returncode == 2 and "cannot reach the API" in err
    assert took < 20


def test_a_token_echoed_by_the_server_is_scrubbed_everywhere(gh, tmp_path):
    secret = "ghp_SECRETSECRETSECRET9876"
    fake = gh(3)
    def echo(h):  # in the body and in the reason phrase, which PyGithub's retry logs
        h.send_response(403, f"Forbidden {h.headers['Authorization']}")
        body = f'{{"message": "token {h.headers["Authorization"]} blocked"}}'.encode()
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
    fake.answers = {fake.names[0]: echo}
    env = {**os.environ, "GITHUB_TOKEN": secret}
    proc = run_cli(["crawl", "--api-url", fake.url, "--created", "2020-01-01..2020-01-31", "--db",
                    str(tmp_path / "s.db"), "--sources", str(tmp_path / "r")], env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert secret not in out + err and secret.encode() not in (tmp_path / "s.db").read_bytes()
    assert "token Bearer *** blocked" in err
    fake.faults = {len(fake.requests): "echo-token"}  # now the search itself echoes it
    proc = run_cli(["crawl", "--api-url", fake.url, "--created", "2021-01-01..2021-01-31", "--db",
                    str(tmp_path / "t.db"), "--sources", str(tmp_path / "r")], env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "401" in err and "***" in err
    assert secret not in out + err
    assert scrub(f"x {secret} y", [secret]) == "x *** y"


def test_names_from_the_api_are_validated_before_they_become_paths(tmp_path):
    repos = [repo_item("owner/ok", "2020-01-02", rid=1), repo_item("owner/..", "2020-01-02", rid=2),
             repo_item("a/" + "n" * 5000, "2020-01-02", rid=3)]
    repos[1]["full_name"] = "../../escape"
    fake = FakeGitHub(repos, {"owner/ok": {"train.py": BUGGY}})
    fake.shas["../../escape"] = "b" * 40
    fake.start()
    try:
        rows = crawl(fake, tmp_path)
    finally:
        fake.stop()
    assert [r["full_name"] for r in rows] == ["owner/ok"] and rows[0]["status"] == "downloaded"
    assert not (tmp_path.parent / "escape").exists() and not (tmp_path / "escape").exists()
    assert valid_full_name("my-org/some.repo_name") and not valid_full_name("-x/y") and not valid_full_name("x/..")


def test_crawls_sharing_sources_keep_each_others_partial_folders(tmp_path):
    live = tmp_path / "o" / "r" / f".partial-{os.getpid()}-1"
    dead = tmp_path / "o" / "r" / ".partial-999999999-1"
    for p in (live, dead):
        p.mkdir(parents=True)
    clean_partials(tmp_path)
    assert live.exists() and not dead.exists()


def test_transient_failures_are_retried_by_the_next_crawl_and_permanent_ones_on_request(gh, tmp_path):
    fake = gh(3)
    flaky, gone, fine = fake.names
    # an expired token: another crawl (with a fresh token) may cure it; a 404 it will not
    fake.answers[flaky] = raw("401 Unauthorized", {"Content-Type": "application/json", "Content-Length": "2"}, b"{}")
    fake.status[gone] = 404
    rows = {r["full_name"]: r for r in crawl(fake, tmp_path)}
    assert rows[flaky]["status"] == "failed" and rows[flaky]["reason"].startswith("transient: ")
    assert rows[gone]["status"] == "failed" and not rows[gone]["reason"].startswith("transient: ")
    assert rows[fine]["status"] == "downloaded"
    # the server recovers: the next crawl fetches the transient failure and leaves the permanent one alone
    del fake.answers[flaky]
    del fake.status[gone]
    rows = {r["full_name"]: r for r in crawl(fake, tmp_path)}
    assert rows[flaky]["status"] == "downloaded"
    assert rows[gone]["status"] == "failed"
    rows = {r["full_name"]: r for r in crawl(fake, tmp_path, retry_failed=True)}
    assert rows[gone]["status"] == "downloaded"
