"""A loopback server answering the three endpoints of GitHub's REST API that
`verify-submission --github` reads, for pull requests made of real files on disk:

- `GET /repos/{owner}/{repo}/pulls/{number}`: the pull request (title, labels, head, counts);
- `GET /repos/{owner}/{repo}/pulls/{number}/files`: its files, paginated as GitHub does
  (`per_page`, 30 by default and at most 100; `page`; a `Link` header with `next`,
  `last`, `first` and `prev`; at most 3,000 files), each with its `raw_url`;
- `GET /repos/{owner}/{repo}/pulls/{number}/commits`: its commits, paginated alike
  (at most 250);

and each file's content at its `raw_url` (`/{owner}/{repo}/raw/{head}/{path}`).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import threading
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from testkit.faultserver import Answer, send

DEFAULT_PER_PAGE, MAX_PER_PAGE = 30, 100
MAX_FILES, MAX_COMMITS = 3000, 250

_PULL = re.compile(r"/repos/([^/]+)/([^/]+)/pulls/([0-9]+)(/files|/commits)?")
_RAW = re.compile(r"/([^/]+)/([^/]+)/raw/([0-9a-f]+)/(.+)")


@dataclass
class FakePullRequest:
    """A pull request of the fake: `files` (repository path → the file on disk with its
    content), their statuses (`added` unless told), its commits, its labels; `raw_urls`
    replaces the `raw_url` listed for a file."""

    owner: str
    repo: str
    number: int
    title: str
    files: dict[str, Path]
    statuses: dict[str, str] = field(default_factory=dict)
    commits: int = 1
    raw_urls: dict[str, str] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)

    @property
    def head(self) -> str:
        named = f"{self.owner}/{self.repo}#{self.number} {self.title}"
        return hashlib.sha1(named.encode(), usedforsecurity=False).hexdigest()


class GitHubFake:
    """The server (`url` is its base, the API's and the raw files' alike). `requests`
    lists each request's path and query with the Authorization header it carried;
    `faults[path]` are answers (testkit.faultserver) given to that path's next requests
    in turn, before the real one."""

    def __init__(self) -> None:
        self.pulls: dict[tuple[str, str, int], FakePullRequest] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.faults: dict[str, list[Answer]] = {}
        self.stop = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake.requests.append((self.path, self.headers.get("Authorization")))
                path = urllib.parse.urlsplit(self.path).path
                if fake.faults.get(path):
                    send(self, fake.faults[path].pop(0), fake.stop)
                    return
                status, body, headers = fake.answer(self.path)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def add(self, owner: str, repo: str, number: int, title: str, root: Path, *,
            names: Iterable[str] | None = None, removed: Iterable[str] = (),
            commits: int = 1, labels: Iterable[str] = ()) -> FakePullRequest:
        """A pull request of the files `names` under `root` (default: every file there,
        links not followed), and of `removed` files (listed, status `removed`), labelled
        `labels`."""
        if names is None:
            names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                           if p.is_file() or p.is_symlink())
        files = {name: root / name for name in names}
        statuses = {name: "added" for name in files}
        for name in removed:
            files[name] = root / name
            statuses[name] = "removed"
        pull = FakePullRequest(owner, repo, number, title, dict(sorted(files.items())),
                               statuses, commits, labels=list(labels))
        self.pulls[(owner, repo, number)] = pull
        return pull

    def answer(self, target: str) -> tuple[int, bytes, dict[str, str]]:
        split = urllib.parse.urlsplit(target)
        query = dict(urllib.parse.parse_qsl(split.query))
        found = _PULL.fullmatch(split.path)
        if found:
            pull = self.pulls.get((found[1], found[2], int(found[3])))
            if pull is None:
                return _json(404, {"message": "Not Found", "status": "404"})
            if found[4] == "/files":
                return self._page(split.path, query, self._files(pull), MAX_FILES)
            if found[4] == "/commits":
                return self._page(split.path, query, self._commits(pull), MAX_COMMITS)
            return _json(200, self._pull(pull))
        found = _RAW.fullmatch(split.path)
        if found:
            pull = next((p for p in self.pulls.values() if (p.owner, p.repo, p.head)
                         == (found[1], found[2], found[3])), None)
            name = urllib.parse.unquote(found[4])
            if pull is not None and name in pull.files and pull.statuses[name] != "removed":
                return 200, _content(pull.files[name]), {"Content-Type": "text/plain"}
        return _json(404, {"message": "Not Found", "status": "404"})

    def _pull(self, pull: FakePullRequest) -> dict:
        return {
            "url": f"{self.url}/repos/{pull.owner}/{pull.repo}/pulls/{pull.number}",
            "html_url": f"{self.url}/{pull.owner}/{pull.repo}/pull/{pull.number}",
            "number": pull.number, "state": "open", "title": pull.title,
            "user": {"login": "vendor"},
            "labels": [{"id": 1000 + n, "name": name, "color": "ededed", "default": False}
                       for n, name in enumerate(pull.labels)],
            "head": {"ref": "submission", "sha": pull.head},
            "base": {"ref": "main", "sha": "0" * 40},
            "commits": pull.commits, "changed_files": len(pull.files),
        }

    def _files(self, pull: FakePullRequest) -> list[dict]:
        items = []
        for name, path in pull.files.items():
            quoted = urllib.parse.quote(name)
            content = b"" if pull.statuses[name] == "removed" else _content(path)
            items.append({
                "sha": hashlib.sha1(b"blob %d\0" % len(content) + content,
                                    usedforsecurity=False).hexdigest(),
                "filename": name, "status": pull.statuses[name],
                "additions": content.count(b"\n"), "deletions": 0,
                "changes": content.count(b"\n"),
                "blob_url": f"{self.url}/{pull.owner}/{pull.repo}/blob/{pull.head}/{quoted}",
                "raw_url": pull.raw_urls.get(
                    name, f"{self.url}/{pull.owner}/{pull.repo}/raw/{pull.head}/{quoted}"),
                "contents_url": (f"{self.url}/repos/{pull.owner}/{pull.repo}/contents/{quoted}"
                                 f"?ref={pull.head}"),
            })
        return items

    def _commits(self, pull: FakePullRequest) -> list[dict]:
        return [{"sha": hashlib.sha1(f"{pull.head}{n}".encode(),
                                     usedforsecurity=False).hexdigest(),
                 "commit": {"message": f"commit {n + 1} of {pull.commits}"}}
                for n in range(pull.commits)]

    def _page(self, path: str, query: dict[str, str], items: list[dict],
              limit: int) -> tuple[int, bytes, dict[str, str]]:
        """One page of `items` (at most `limit` of them listed), with GitHub's Link header."""
        try:
            per_page = min(int(query.get("per_page", DEFAULT_PER_PAGE)), MAX_PER_PAGE)
            page = max(int(query.get("page", 1)), 1)
        except ValueError:
            return _json(400, {"message": "Bad Request"})
        items = items[:limit]
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = [("next", page + 1), ("last", last)] if page < last else []
        links += [("prev", page - 1), ("first", 1)] if page > 1 else []
        listed = [f'<{self.url}{path}?per_page={per_page}&page={number}>; rel="{rel}"'
                  for rel, number in links]
        status, body, headers = _json(200, items[(page - 1) * per_page:page * per_page])
        if listed:
            headers["Link"] = ", ".join(listed)
        return status, body, headers

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _content(path: Path) -> bytes:
    """A file's content as git keeps it: a link's is its target's path."""
    return str(path.readlink()).encode() if path.is_symlink() else path.read_bytes()


def _json(status: int, value: object) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(value).encode(), {"Content-Type": "application/json"}
