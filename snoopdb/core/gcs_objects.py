"""Objects written to and read from a Google Cloud Storage bucket with an access
token: the archive tier in GCS (`snoopdb runs archive --to gs://BUCKET/PREFIX`), where
BigQuery reads it. (loaders/gcs.py reads public buckets without one.)

Uploads use the JSON API's resumable upload: a session is opened for the object, its
bytes are sent in chunks of 8 MiB, and after a chunk is refused (5xx, 408, 429) or its
connection breaks, the session is asked how much it holds and the upload goes on from
there, within `Deadlines.attempts` failures in a row and `Deadlines.total` seconds per
chunk. The object's MD5 goes with the session's metadata, so GCS refuses a body that
does not match it, and the object GCS describes at the end must have the file's size
and MD5: an object is whole or absent, and a second upload to its name replaces it at
once. Downloads are checked against the object's listed size and MD5.

The token: SNOOPDB_GCS_TOKEN, an OAuth 2.0 access token allowed to write objects in
the bucket (`gcloud auth print-access-token`); the API's base is SNOOPDB_GCS_URL's.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
import urllib3.exceptions

from snoopdb.core import numbers, watchdog
from snoopdb.core.bounds import Bound, TooLarge
from snoopdb.core.config import Deadlines
from snoopdb.core.errors import ConfigError, FetchError, NotFound, UsageError

TOKEN_VARIABLE = "SNOOPDB_GCS_TOKEN"  # noqa: S105 (the variable's name, not a token)
SCHEME = "gs://"
# a multiple of 256 KiB, as the API asks of every chunk but the last
UPLOAD_CHUNK = 8 << 20
_TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
# bucket names: 3-222 characters of lowercase letters, digits, dots, dashes, underscores
_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]")
# object names: no control characters, nothing a shell, SQL or a glob reads otherwise
_NAME = re.compile(r"[A-Za-z0-9._=/-]{1,900}")


@dataclass(frozen=True)
class Place:
    """A bucket and a prefix in it (no leading or trailing slash): gs://BUCKET/PREFIX."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> Place:
        """gs://BUCKET/PREFIX, or gs://BUCKET; UsageError for anything else."""
        if not uri.startswith(SCHEME):
            raise UsageError(f"{uri!r}: not a gs://BUCKET/PREFIX address")
        bucket, _, prefix = uri[len(SCHEME):].partition("/")
        prefix = prefix.strip("/")
        if not _BUCKET.fullmatch(bucket):
            raise UsageError(f"{uri!r}: {bucket!r} is not a bucket name (3-222 lowercase "
                             "letters, digits, dots, dashes and underscores)")
        if prefix and (not _NAME.fullmatch(prefix) or ".." in prefix.split("/")
                       or "//" in prefix):
            raise UsageError(f"{uri!r}: the prefix may hold letters, digits and . _ = - / only")
        return cls(bucket, prefix)

    def name(self, relative: str) -> str:
        """The object name of `relative` under the prefix."""
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def uri(self, relative: str = "") -> str:
        """gs://BUCKET/PREFIX/relative."""
        name = self.name(relative) if relative else self.prefix
        return f"{SCHEME}{self.bucket}/{name}".rstrip("/")


def token() -> str:
    """The access token writes and private reads send; ConfigError when none is set."""
    value = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not value:
        raise ConfigError(f"GCS needs an access token in {TOKEN_VARIABLE} (`export "
                          f"{TOKEN_VARIABLE}=$(gcloud auth print-access-token)`)")
    if not value.isprintable() or " " in value:
        raise ConfigError(f"{TOKEN_VARIABLE} holds characters no token has")
    return value


@dataclass(frozen=True)
class Stored:
    """An object as GCS describes it: its size and MD5 (base64)."""

    size: int
    md5: str


class _Retry(Exception):
    """A request that failed in a way the next may not."""


class Bucket:
    """Writes and reads objects of bucket `name` through the JSON API at `base_url`."""

    def __init__(self, base_url: str, name: str, access_token: str,
                 deadlines: Deadlines | None = None, chunk: int = UPLOAD_CHUNK):
        self.base_url = base_url.rstrip("/")
        self.name = name
        self.deadlines = deadlines or Deadlines()
        self.chunk = chunk
        self.session = watchdog.session()
        self.session.headers["Authorization"] = f"Bearer {access_token}"

    def uri(self, name: str) -> str:
        return f"{SCHEME}{self.name}/{name}"

    def upload(self, name: str, path: Path) -> Stored:
        """Upload the file at `path` as object `name`, replacing any object of that name
        once whole; what GCS stored, checked to be the file."""
        size = path.stat().st_size
        md5 = _md5(path)
        where = self._start(name, size, md5)
        offset, failures = 0, 0
        with path.open("rb") as content:
            while True:
                content.seek(offset)
                chunk = content.read(self.chunk)
                last = offset + len(chunk) >= size
                span = f"bytes {offset}-{offset + len(chunk) - 1}/{size}" if chunk else \
                    f"bytes */{size}"
                try:
                    answer = self._request("PUT", where, data=chunk,
                                           headers={"Content-Range": span})
                except _Retry as exc:
                    failures += 1
                    if failures >= self.deadlines.attempts:
                        raise FetchError(f"{self.uri(name)}: upload failed: {exc} ({failures} "
                                         "failures in a row)") from None
                    time.sleep(min(0.2 * 2 ** (failures - 1), 5.0))
                    offset = self._received(where, size, name)
                    if offset < 0:  # the session had it all
                        return self._check(name, self._object(name), size, md5)
                    continue
                failures = 0
                if answer.status_code in (200, 201):
                    return self._check(name, answer, size, md5)
                if answer.status_code == 308:
                    offset = _range_end(answer)
                    if last and offset >= size:
                        raise FetchError(f"{self.uri(name)}: GCS holds every byte but did not "
                                         "finish the upload")
                    continue
                raise _refused(self.uri(name), answer)

    def _start(self, name: str, size: int, md5: str) -> str:
        """Open a resumable upload session for object `name`; its URL."""
        url = (f"{self.base_url}/upload/storage/v1/b/{_quoted(self.name)}/o?"
               + urllib.parse.urlencode({"uploadType": "resumable", "name": name}))
        for failures in range(1, self.deadlines.attempts + 1):
            try:
                answer = self._request("POST", url, json={
                    "name": name, "md5Hash": md5, "contentType": "application/vnd.apache.parquet"},
                    headers={"X-Upload-Content-Type": "application/vnd.apache.parquet",
                             "X-Upload-Content-Length": str(size)})
            except _Retry as exc:
                if failures >= self.deadlines.attempts:
                    raise FetchError(f"{self.uri(name)}: upload could not start: {exc}") from None
                time.sleep(min(0.2 * 2 ** (failures - 1), 5.0))
                continue
            location = answer.headers.get("Location")
            if answer.status_code == 200 and location:
                if not location.startswith(f"{self.base_url}/"):
                    raise FetchError(f"{self.uri(name)}: the upload session is elsewhere "
                                     f"({location[:200]!r})")
                return location
            raise _refused(self.uri(name), answer)
        raise AssertionError("unreachable")

    def _received(self, where: str, size: int, name: str) -> int:
        """How many bytes the session holds (-1: all of them, the object exists); asked
        again after a pause when the question itself fails, once."""
        for tried in (1, 2):
            try:
                answer = self._request("PUT", where, data=b"",
                                       headers={"Content-Range": f"bytes */{size}"})
            except _Retry as exc:
                if tried == 2:
                    raise FetchError(f"{self.uri(name)}: upload failed: {exc}") from None
                time.sleep(0.5)
                continue
            if answer.status_code in (200, 201):
                return -1
            if answer.status_code == 308:
                return _range_end(answer)
            raise _refused(self.uri(name), answer)
        raise AssertionError("unreachable")

    def _object(self, name: str) -> requests.Response:
        url = f"{self.base_url}/storage/v1/b/{_quoted(self.name)}/o/{_quoted(name)}"
        answer = self._request("GET", url)
        if answer.status_code == 404:
            raise NotFound(f"{self.uri(name)}: no such object")
        if answer.status_code != 200:
            raise _refused(self.uri(name), answer)
        return answer

    def _check(self, name: str, answer: requests.Response, size: int, md5: str) -> Stored:
        stored = _described(self.uri(name), answer)
        if stored != Stored(size, md5):
            raise FetchError(f"{self.uri(name)}: GCS stored {stored.size:,} bytes (MD5 "
                             f"{stored.md5}), the file is {size:,} (MD5 {md5})")
        return stored

    def download(self, name: str, path: Path, bound: Bound) -> Stored:
        """Object `name` into the new file at `path`, checked against its listed size and
        MD5 and read against `bound`."""
        stored = _described(self.uri(name), self._object(name))
        if stored.size > bound.size:
            raise TooLarge(self.uri(name), bound, "holds")
        url = (f"{self.base_url}/storage/v1/b/{_quoted(self.name)}/o/{_quoted(name)}"
               "?alt=media")
        for failures in range(1, self.deadlines.attempts + 1):
            try:
                got = self._fetch(url, path, stored)
            except _Retry as exc:
                if failures >= self.deadlines.attempts:
                    raise FetchError(f"{self.uri(name)}: {exc} (gave up after {failures} "
                                     "attempts)") from None
                time.sleep(min(0.2 * 2 ** (failures - 1), 5.0))
                continue
            if got == stored:
                return stored
            if failures >= self.deadlines.attempts:
                raise FetchError(f"{self.uri(name)}: read {got.size:,} bytes (MD5 {got.md5}), "
                                 f"GCS lists {stored.size:,} (MD5 {stored.md5})")
        raise AssertionError("unreachable")

    def _fetch(self, url: str, path: Path, stored: Stored) -> Stored:
        digest = hashlib.md5(usedforsecurity=False)
        size = 0
        limits = self.deadlines
        with watchdog.Watch(limits.total) as watch, path.open("wb") as out:
            try:
                with self.session.get(url, stream=True, allow_redirects=False,
                                      timeout=(limits.connect, limits.read)) as answer:
                    if answer.status_code in _TRANSIENT:
                        raise _Retry(f"HTTP {answer.status_code}")
                    if answer.status_code != 200:
                        raise _refused(url, answer)
                    while chunk := answer.raw.read1(1 << 20, decode_content=False):
                        size += len(chunk)
                        if size > stored.size:
                            raise _Retry(f"more than the {stored.size:,} bytes GCS lists")
                        digest.update(chunk)
                        out.write(chunk)
            except (requests.ConnectionError, requests.Timeout,
                    urllib3.exceptions.HTTPError) as exc:
                raise _Retry("deadline passed" if watch.fired else
                             " ".join(str(exc).split())[:200]) from None
        return Stored(size, base64.b64encode(digest.digest()).decode())

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One request, its body read; _Retry for a connection that broke or timed out
        and for a transient status."""
        limits = self.deadlines
        with watchdog.Watch(limits.total) as watch:
            try:
                answer = self.session.request(method, url, timeout=(limits.connect, limits.read),
                                              allow_redirects=False, **kwargs)
            except (requests.ConnectionError, requests.Timeout,
                    urllib3.exceptions.HTTPError) as exc:
                raise _Retry("deadline passed" if watch.fired else
                             " ".join(str(exc).split())[:200]) from None
        if answer.status_code in _TRANSIENT:
            raise _Retry(f"HTTP {answer.status_code}")
        return answer


def _quoted(name: str) -> str:
    return urllib.parse.quote(name, safe="")


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as content:
        for chunk in iter(lambda: content.read(1 << 20), b""):
            digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()


def _range_end(answer: requests.Response) -> int:
    """The next byte a 308 answer's Range (`bytes=0-N`) asks for; 0 without one."""
    found = re.fullmatch(r"bytes=0-(\d{1,18})", answer.headers.get("Range", ""))
    return int(found.group(1)) + 1 if found else 0


def _described(where: str, answer: requests.Response) -> Stored:
    """The size and MD5 of an object GCS describes in `answer`'s JSON."""
    try:
        item = answer.json()
        size = numbers.whole_number(item["size"]) if isinstance(item.get("size"), str) else None
        md5 = item.get("md5Hash")
    except (ValueError, AttributeError, KeyError):
        size, md5 = None, None
    if size is None or not isinstance(md5, str):
        raise FetchError(f"{where}: GCS's description of the object has no size and MD5")
    return Stored(size, md5)


def _refused(where: str, answer: requests.Response) -> FetchError:
    """The error for a final answer other than success: its status and GCS's message."""
    message = ""
    try:
        error = answer.json().get("error", {})
        message = error.get("message", "") if isinstance(error, dict) else ""
    except (ValueError, AttributeError):
        message = answer.text[:200] if answer.text else ""
    said = " ".join(str(message).split())[:200]
    hint = (f" ({TOKEN_VARIABLE}: a valid token, allowed to use the bucket?)"
            if answer.status_code in (401, 403) else "")
    if answer.status_code == 404:
        return NotFound(f"{where}: not found (404){': ' + said if said else ''}")
    return FetchError(f"{where}: HTTP {answer.status_code}{': ' + said if said else ''}{hint}")

