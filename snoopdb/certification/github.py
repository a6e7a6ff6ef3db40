"""A pull request read from GitHub's REST API, as the bot reads it: its title and labels
(`GET /repos/{owner}/{repo}/pulls/{number}`), its files (`…/files`) and its commits
(`…/commits`), then each file the checks open from its `raw_url`.

Everything is downloaded through `snoopdb.core.fetch` (deadlines, retries, one-line
errors naming the URL): the API's answers with a fetcher of their own, whose session
alone carries `GITHUB_TOKEN`, so the token never goes to another host; the files with
a fetcher of theirs (cached: a `raw_url` names the head commit), from GitHub alone: a
`raw_url`, and every redirect it takes, must be on the pull requests' web host
(github.com, the Enterprise host) or the raw host (SNOOPDB_GITHUB_RAW_URL), so an
answer cannot send snoopdb to a port of this machine or anywhere else. Pages are asked
for by number, 100 a page, up to GitHub's own limits (3,000 files, 250 commits).
"""

from __future__ import annotations

import functools
import os
import re
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import orjson
import requests

from snoopdb.certification.pullrequest import PullRequest, PullRequestFile
from snoopdb.core import bounds
from snoopdb.core.errors import ConfigError, FetchError, NotFound
from snoopdb.core.fetch import CHUNK, Fetcher, decoded, is_url

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_RAW_URL = "https://raw.githubusercontent.com"
PER_PAGE = 100
FILE_PAGES = 30  # GitHub lists at most 3,000 files of a pull request
COMMIT_PAGES = 3  # and at most 250 commits
# What `git diff --diff-filter=AMR` keeps: a file the pull request removes is not read.
KEPT_STATUSES = frozenset({"added", "modified", "renamed", "copied", "changed"})

# a pull request's number: at most 18 digits, so that int() reads it
_REFERENCE = re.compile(r"([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)#([0-9]{1,18})")
_PULL_URL = re.compile(r"(https?)://([^/?#]+)/([A-Za-z0-9][A-Za-z0-9-]*)/([A-Za-z0-9._-]+)"
                       r"/pull/([0-9]{1,18})(?:[/?#].*)?")


@dataclass(frozen=True)
class GitHubApi:
    """Where the REST API is (`SNOOPDB_GITHUB_API_URL`; GitHub Enterprise:
    `https://HOST/api/v3`), the token sent to it alone (`GITHUB_TOKEN`), and the raw
    files' base (`SNOOPDB_GITHUB_RAW_URL`), where raw_url links redirect to."""

    url: str = DEFAULT_API_URL
    token: str | None = None
    raw_url: str = DEFAULT_RAW_URL

    @classmethod
    def from_environment(cls, raw_url: str = DEFAULT_RAW_URL) -> GitHubApi:
        url = os.environ.get("SNOOPDB_GITHUB_API_URL") or DEFAULT_API_URL
        if not is_url(url):
            raise ConfigError(f"SNOOPDB_GITHUB_API_URL={url!r}: expected an http(s) URL")
        return cls(url.rstrip("/"), os.environ.get("GITHUB_TOKEN") or None, raw_url)

    @property
    def web_host(self) -> str:
        """The host its pull requests' pages are on (api.github.com → github.com)."""
        host = urllib.parse.urlsplit(self.url).netloc
        return host.removeprefix("api.")

    @property
    def raw_origins(self) -> tuple[str, ...]:
        """Where a pull request's files may be read: the web host (a raw_url's own) and
        the raw host (where it redirects), as scheme://host[:port]."""
        web = f"{urllib.parse.urlsplit(self.url).scheme}://{self.web_host}"
        return tuple(dict.fromkeys((web, origin(self.raw_url))))


def origin(url: str) -> str:
    """scheme://host[:port] of `url`, as a browser compares them (lowercase)."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


@dataclass(frozen=True)
class PullRequestReference:
    owner: str
    repo: str
    number: int

    def __str__(self) -> str:
        return f"{self.owner}/{self.repo}#{self.number}"


def parse_reference(text: str, api: GitHubApi) -> PullRequestReference:
    """`OWNER/REPO#N`, or the pull request's page URL on the API's host."""
    found = _REFERENCE.fullmatch(text.strip())
    if found:
        return PullRequestReference(found[1], found[2], int(found[3]))
    found = _PULL_URL.fullmatch(text.strip())
    if found is None:
        raise ConfigError(f"--github {text!r}: expected OWNER/REPO#N or a pull request's URL"
                          " (https://github.com/OWNER/REPO/pull/N)")
    if found[2] != api.web_host:
        raise ConfigError(f"--github {text!r}: the pull request is on {found[2]}, the API"
                          f" asked ({api.url}, SNOOPDB_GITHUB_API_URL) is {api.web_host}'s")
    return PullRequestReference(found[3], found[4], int(found[5]))


def read_pull_request(reference: str, fetcher: Fetcher, api: GitHubApi) -> PullRequest:
    """The pull request `reference` names (see parse_reference): title, files (those it
    removes left out), commits; each file downloaded when a check first reads it."""
    pull = parse_reference(reference, api)
    client = _ApiClient(api, fetcher)
    url = f"{api.url}/repos/{pull.owner}/{pull.repo}/pulls/{pull.number}"
    answer = client.get(url, pull)
    if not isinstance(answer, dict) or not isinstance(answer.get("title"), str):
        raise FetchError(f"{url}: not a pull request (no title)")
    page = answer.get("html_url")
    where = page if isinstance(page, str) else f"{api.url} {pull}"
    labels = answer.get("labels")
    if not isinstance(labels, list) or not all(
            isinstance(label, dict) and isinstance(label.get("name"), str) for label in labels):
        raise FetchError(f"{url}: its labels are not a list of named labels")
    request = PullRequest(where, answer["title"], [], labels=[label["name"] for label in labels],
                          kinds_known=False)
    files = _raw_fetcher(fetcher, api.raw_origins)
    for item in client.pages(f"{url}/files", pull, FILE_PAGES):
        name, status, raw = (item.get(key) if isinstance(item, dict) else None
                             for key in ("filename", "status", "raw_url"))
        if not isinstance(name, str) or not isinstance(status, str):
            raise FetchError(f"{url}/files: a file with no filename or status")
        if status not in KEPT_STATUSES:
            continue
        if not isinstance(raw, str) or not is_url(raw):
            raise FetchError(f"{url}/files: {name}: its raw_url {raw!r} is not an http(s) URL")
        if origin(raw) not in api.raw_origins:
            raise FetchError(f"{url}/files: {name}: its raw_url {raw} is not on "
                             f"{' or '.join(api.raw_origins)} (SNOOPDB_GITHUB_API_URL's web "
                             "host, SNOOPDB_GITHUB_RAW_URL): not fetched")
        request.files.append(PullRequestFile(name, RemoteFile(files, raw, request.temporary)))
    request.commits = len(client.pages(f"{url}/commits", pull, COMMIT_PAGES))
    return request


class RemoteFile:
    """A file of the pull request, downloaded from its `raw_url` when first read (size
    included), at most bounds.PULL_REQUEST_FILE once decompressed (a server may send it
    gzipped: `Content-Encoding: gzip`); a download that could not be cached is listed
    in `temporary`."""

    kind = "file"  # GitHub's file list does not tell links apart

    def __init__(self, fetcher: Fetcher, url: str, temporary: list[Path]):
        self.fetcher = fetcher
        self.url = url
        self.temporary = temporary

    @functools.cached_property
    def path(self) -> Path:
        path = self.fetcher.download(self.url, bound=bounds.PULL_REQUEST_FILE)
        if path != self.fetcher.cache_path(self.url):
            self.temporary.append(path)
        return path

    @functools.cached_property
    def size(self) -> int:
        """Its bytes once decompressed, as the checks read it."""
        with self.open() as stream:
            return sum(len(chunk) for chunk in iter(lambda: stream.read(CHUNK), b""))

    def open(self) -> IO[bytes]:
        return decoded(self.path, self.url, bounds.PULL_REQUEST_FILE)


def _raw_fetcher(fetcher: Fetcher, origins: tuple[str, ...]) -> Fetcher:
    """A fetcher for raw files that follows a redirect only to one of `origins` (GitHub
    sends github.com/…/raw/… on to raw.githubusercontent.com)."""
    files = fetcher.alike()

    def stay(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        if response.is_redirect:
            target = urllib.parse.urljoin(response.url, response.headers.get("location", ""))
            if origin(target) not in origins:
                raise FetchError(f"{response.url}: redirected to {target}, not on "
                                 f"{' or '.join(origins)}: not followed")
        return response

    files.session.hooks["response"].append(stay)
    return files


class _ApiClient:
    """The API's answers as JSON, through a fetcher whose session carries the token."""

    def __init__(self, api: GitHubApi, fetcher: Fetcher):
        self.api = api
        self.fetcher = fetcher.alike()
        headers = self.fetcher.session.headers
        headers["Accept"] = "application/vnd.github+json"
        if api.token:
            headers["Authorization"] = f"Bearer {api.token}"

    def get(self, url: str, pull: PullRequestReference) -> Any:
        try:
            content = self.fetcher.read_bytes(url, bound=bounds.GITHUB_ANSWER, cache=False)
        except NotFound as exc:
            advice = "" if self.api.token else "; a private repository needs GITHUB_TOKEN"
            raise NotFound(f"{url}: no pull request {pull} there (404){advice}") from exc
        except FetchError as exc:
            if self.api.token or not str(exc).endswith(("HTTP 401", "HTTP 403")):
                raise
            raise FetchError(f"{exc} (GitHub refuses or rate-limits requests without a"
                             " token: set GITHUB_TOKEN)") from exc
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise FetchError(f"{url}: not JSON: {exc}") from exc

    def pages(self, url: str, pull: PullRequestReference, limit: int) -> list[Any]:
        """The items of a paginated list, page by page until a short one or `limit`."""
        items: list[Any] = []
        for number in range(1, limit + 1):
            page = self.get(f"{url}?per_page={PER_PAGE}&page={number}", pull)
            if not isinstance(page, list):
                raise FetchError(f"{url}?per_page={PER_PAGE}&page={number}: not a JSON list")
            items += page
            if len(page) < PER_PAGE:
                break
        return items
