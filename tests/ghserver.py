"""A small GitHub-API-compatible HTTP server on 127.0.0.1 for the crawler's tests.

It serves the documented shapes the crawler relies on: repository search with ``total_count``, ``Link``
pagination and the 1000-result cap (422 beyond it), rate-limit headers, primary and secondary rate-limit
403s, 5xx, and tarballs behind a 302 redirect, with faults injected on request; for dated snapshots, a
repository's commit history (``GET /repos/{o}/{r}/commits?until=``, ``.../commits/{sha}``), its metadata
(``GET /repos/{o}/{r}``) and tarballs at any of its commits.
"""
from __future__ import annotations

import io
import json
import re
import tarfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlencode, urlparse


def make_tarball(full_name: str, sha: str, files: Dict[str, bytes]) -> bytes:
    """A tarball shaped like GitHub's: top folder owner-repo-sha7, git's pax comment holding the sha."""
    buf = io.BytesIO()
    top = f"{full_name.replace('/', '-')}-{sha[:7]}"
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT, pax_headers={"comment": sha}) as tar:
        info = tarfile.TarInfo(top)
        info.type = tarfile.DIRTYPE
        tar.addfile(info)
        for rel, data in sorted(files.items()):
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def repo_item(full_name: str, created: str, stars: int = 0, fork: bool = False, rid: int = 0, **extra) -> dict:
    owner, name = full_name.split("/")
    item = {
        "id": rid, "name": name, "full_name": full_name, "owner": {"login": owner, "id": rid, "type": "User"},
        "private": False, "fork": fork, "url": f"/repos/{full_name}", "html_url": f"https://github.com/{full_name}",
        "created_at": f"{created}T12:00:00Z", "updated_at": f"{created}T12:00:00Z", "pushed_at": f"{created}T13:00:00Z",
        "stargazers_count": stars, "watchers_count": stars, "forks_count": 0, "size": 10, "language": "Python",
        "default_branch": "main", "archived": False, "license": {"key": "mit", "spdx_id": "MIT", "name": "MIT License"},
    }
    item.update(extra)
    return item


class FakeGitHub:
    def __init__(self, repos: List[dict], files: Optional[Dict[str, Dict[str, bytes]]] = None):
        self.repos = repos
        self.files = files or {}
        self.shas = {r["full_name"]: f"{abs(hash(r['full_name'])) % (16 ** 40):040x}" for r in repos}
        self.status: Dict[str, int] = {}          # full_name -> 404 / 451 / 409
        self.tarballs: Dict[str, bytes] = {}      # full_name -> raw tarball bytes (hostile ones)
        self.drop_once: set = set()               # full_names whose first tarball is cut mid-body
        self.answers: Dict[str, Callable] = {}    # full_name -> answer(handler) for the tarball (hostile ones)
        self.faults: Dict[int, str] = {}          # request number -> "primary" | "secondary" | "502"
        self.counts: Counter = Counter()
        self.requests: List[str] = []
        self.auth_headers: List[str] = []
        self.lock = threading.Lock()
        self.delay = 0.0                          # seconds per tarball, to make a crawl slow enough to kill
        self.server: Optional[ThreadingHTTPServer] = None
        self.history: Dict[str, List[Tuple[str, str, Dict[str, bytes]]]] = {}  # name -> (sha, date, files), oldest first

    def add_history(self, full_name: str, commits: List[Tuple[str, str, Dict[str, bytes]]]) -> None:
        """Gives a repository dated commits (ISO dates, oldest first); the last one is its default branch's head."""
        self.history[full_name] = list(commits)
        self.shas[full_name] = commits[-1][0]
        self.files[full_name] = commits[-1][2]

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> str:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # -- behaviour ---------------------------------------------------------------------------------
    def search(self, q: str) -> List[dict]:
        lo, hi = "0000-00-00", "9999-99-99"
        m = re.search(r"created:(\S+)\.\.(\S+)", q)
        if m:
            lo, hi = m.groups()
        s_lo, s_hi = 0, 10 ** 9
        m = re.search(r"stars:(\d+)\.\.(\d+)", q)
        if m:
            s_lo, s_hi = map(int, m.groups())
        m = re.search(r"stars:>=(\d+)", q)
        if m:
            s_lo = int(m.group(1))
        forks = "fork:true" in q
        out = [r for r in self.repos if lo <= r["created_at"][:10] <= hi and s_lo <= r["stargazers_count"] <= s_hi
               and (forks or not r["fork"])]
        return sorted(out, key=lambda r: r["full_name"])

    def tarball(self, full_name: str, ref: str = "") -> bytes:
        if full_name in self.tarballs:
            return self.tarballs[full_name]
        for sha, _date, files in self.history.get(full_name, []):
            if ref == sha:
                return make_tarball(full_name, sha, files)
        return make_tarball(full_name, self.shas[full_name], self.files.get(full_name, {}))

    def commits(self, full_name: str) -> List[dict]:
        """The default branch's commits, newest first, as the commits API lists them."""
        repo = next(r for r in self.repos if r["full_name"] == full_name)
        history = self.history.get(full_name) or [(self.shas[full_name], repo["pushed_at"], {})]
        return [{"sha": sha, "commit": {"committer": {"name": "c", "date": date}, "author": {"name": "a", "date": date},
                                        "message": "m"}, "parents": []} for sha, date, _ in reversed(history)]

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status: int, body: bytes, headers: Optional[dict] = None, ctype="application/json"):
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                sent = {"Content-Length": str(len(body)), "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4999",
                        "X-RateLimit-Reset": str(int(time.time()) + 3600), **(headers or {})}
                for k, v in sent.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data, headers=None):
                self._send(status, json.dumps(data).encode(), headers)

            def do_GET(self):
                with fake.lock:
                    n = len(fake.requests)
                    fake.requests.append(self.path)
                    fake.auth_headers.append(self.headers.get("Authorization", ""))
                    fault = fake.faults.pop(n, None)
                url = urlparse(self.path)
                kind = "search" if url.path == "/search/repositories" else \
                    "tarball" if "/tarball/" in url.path else "codeload" if url.path.startswith("/codeload/") else \
                    "commits" if re.match(r"^/repos/[^/]+/[^/]+/commits(/|$)", url.path) else \
                    "repo" if re.match(r"^/repos/[^/]+/[^/]+$", url.path) else "other"
                fake.counts[kind] += 1
                if fault == "primary":
                    return self._json(403, {"message": "API rate limit exceeded for 127.0.0.1.",
                                            "documentation_url": "https://docs.github.com/rest"},
                                      {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 2)})
                if fault == "secondary":
                    return self._json(403, {"message": "You have exceeded a secondary rate limit. Please wait."},
                                      {"Retry-After": "1"})
                if fault == "502":
                    return self._json(502, {"message": "Server Error"})
                if fault == "reset-far":  # a primary limit that resets in a hundred years
                    return self._json(403, {"message": "API rate limit exceeded for 127.0.0.1."},
                                      {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 3 * 10 ** 9)})
                if fault == "retry-after-huge":
                    return self._json(403, {"message": "You have exceeded a secondary rate limit."},
                                      {"Retry-After": str(10 ** 12)})
                if fault == "echo-token":  # an error body that quotes the credentials it was sent
                    return self._json(401, {"message": f"Bad credentials: {self.headers.get('Authorization')}"})
                if kind == "search":
                    return self._search(url)
                if kind == "tarball":
                    return self._tarball(url)
                if kind == "codeload":
                    return self._codeload(url)
                if kind == "commits":
                    return self._commits(url)
                if kind == "repo":
                    return self._repo(url)
                if url.path == "/rate_limit":
                    return self._json(200, {"resources": {"core": {"limit": 5000, "remaining": 4999}}})
                return self._json(404, {"message": "Not Found"})

            def _search(self, url):
                params = parse_qs(url.query)
                q = params.get("q", [""])[0]
                per_page = int(params.get("per_page", ["30"])[0])
                page = int(params.get("page", ["1"])[0])
                if (page - 1) * per_page >= 1000:
                    return self._json(422, {"message": "Only the first 1000 search results are available"})
                hits = fake.search(q)
                reachable = min(len(hits), 1000)
                items = hits[(page - 1) * per_page: min(page * per_page, reachable)]
                last = max(1, -(-reachable // per_page))
                links = []
                base = f"{fake.url}/search/repositories?"
                if page < last:
                    links.append(f'<{base}{urlencode({"q": q, "per_page": per_page, "page": page + 1})}>; rel="next"')
                    links.append(f'<{base}{urlencode({"q": q, "per_page": per_page, "page": last})}>; rel="last"')
                headers = {"Link": ", ".join(links)} if links else {}
                return self._json(200, {"total_count": len(hits), "incomplete_results": False, "items": items}, headers)

            def _gone(self, name):
                if name in fake.status and fake.status[name] != 409:
                    code = fake.status[name]
                    self._json(code, {"message": {404: "Not Found", 451: "Repository access blocked"}[code]})
                    return True
                if name not in fake.shas:
                    self._json(404, {"message": "Not Found"})
                    return True
                return False

            def _repo(self, url):
                name = url.path[len("/repos/"):]
                if not self._gone(name):
                    self._json(200, next(r for r in fake.repos if r["full_name"] == name))

            def _commits(self, url):
                m = re.match(r"^/repos/([^/]+/[^/]+)/commits/?(.*)$", url.path)
                name, sha = m.groups()
                if self._gone(name):
                    return
                if fake.status.get(name) == 409:
                    return self._json(409, {"message": "Git Repository is empty."})
                listed = fake.commits(name)
                if sha:
                    hit = [c for c in listed if c["sha"] == sha]
                    return self._json(200, hit[0]) if hit else self._json(422, {"message": "No commit found"})
                params = parse_qs(url.query)
                until = params.get("until", [""])[0]
                per_page = int(params.get("per_page", ["30"])[0])
                if until:
                    listed = [c for c in listed if c["commit"]["committer"]["date"] <= until]
                self._json(200, listed[:per_page])

            def _tarball(self, url):
                m = re.match(r"^/repos/([^/]+/[^/]+)/tarball/(.+)$", url.path)
                name = m.group(1) if m else ""
                if name in fake.status:
                    code = fake.status[name]
                    return self._json(code, {"message": {404: "Not Found", 451: "Repository access blocked",
                                                         403: "Repository access blocked",
                                                         409: "Git Repository is empty."}[code]})
                if name not in fake.shas:
                    return self._json(404, {"message": "Not Found"})
                if name in fake.answers:
                    return fake.answers[name](self)
                self._send(302, b"", {"Location": f"{fake.url}/codeload/{name}/legacy.tar.gz/{m.group(2)}"})

            def _codeload(self, url):
                m = re.match(r"^/codeload/([^/]+/[^/]+)/legacy\.tar\.gz/", url.path)
                name = m.group(1)
                if fake.delay:
                    time.sleep(fake.delay)
                body = fake.tarball(name, url.path.rsplit("/", 1)[-1])
                drop = False
                with fake.lock:
                    if name in fake.drop_once:
                        fake.drop_once.discard(name)
                        drop = True
                if drop:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-gzip")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self._send(200, body, ctype="application/x-gzip")

        return Handler
