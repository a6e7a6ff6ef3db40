"""The subset of the Google Cloud Storage JSON API snoopdb reads public buckets with."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from snoopdb.core import bounds
from snoopdb.core.errors import FetchError
from snoopdb.core.fetch import Expected, Fetcher

# A listing of one build's artifacts is a page or two, and a job's builds (listed
# with a delimiter, 1,000 a page) a few dozen; a listing that hands out new page
# tokens past this many pages is a server fault, not a big folder.
MAX_PAGES = 1_000


@dataclass(frozen=True)
class Blob:
    """An object of a bucket: its name, size, generation (which changes on rewrite),
    and what its download must be (listed size and checksums)."""

    name: str
    size: int
    generation: str
    expected: Expected = Expected()


class Bucket:
    """Lists and downloads objects of one public bucket through `base_url`."""

    def __init__(self, fetcher: Fetcher, base_url: str, bucket: str):
        self.fetcher = fetcher
        self.base_url = base_url.rstrip("/")
        self.name = bucket

    def list(self, prefix: str, delimiter: str | None = None) -> tuple[list[Blob], list[str]]:
        """(objects, sub-prefixes) under `prefix`, following every nextPageToken."""
        blobs: list[Blob] = []
        prefixes: list[str] = []
        for page in self._pages(prefix, delimiter):
            for item in page.get("items") or []:
                if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                    raise FetchError(f"{self.url(prefix)}: a listing item has no name")
                try:
                    expected = Expected.from_gcs(item)
                except ValueError as exc:
                    raise FetchError(f"{self.url(prefix)}: listing item {item['name']!r}: "
                                     f"{exc}") from None
                blobs.append(Blob(item["name"], expected.size or 0,
                                  str(item.get("generation", "")), expected))
            listed = page.get("prefixes") or []
            if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
                raise FetchError(f"{self.url(prefix)}: listing prefixes are not names")
            prefixes += listed
        return blobs, prefixes

    def _pages(self, prefix: str, delimiter: str | None) -> Iterator[dict]:
        token = None
        seen: set[str] = set()
        while True:
            query = {"prefix": prefix}
            if delimiter:
                query["delimiter"] = delimiter
            if token:
                query["pageToken"] = token
            url = (f"{self.base_url}/storage/v1/b/{urllib.parse.quote(self.name, safe='')}/o?"
                   + urllib.parse.urlencode(query))
            page = json_object(self.fetcher.read_bytes(url, bound=bounds.LISTING, cache=False),
                               url, "listing")
            yield page
            token = page.get("nextPageToken")
            if not token:
                return
            if not isinstance(token, str):
                raise FetchError(f"{url}: the listing's nextPageToken is not text")
            if token in seen:
                raise FetchError(f"{url}: the listing repeats page token {token!r}; "
                                 "refusing to loop")
            if len(seen) + 1 >= MAX_PAGES:
                raise FetchError(f"{url}: the listing goes on past {MAX_PAGES:,} pages, each "
                                 "with a new page token; refusing to read more")
            seen.add(token)

    def url(self, name: str) -> str:
        """The media download URL of object `name`."""
        return f"{self.base_url}/{self.name}/{urllib.parse.quote(name)}"

    def read(self, name: str) -> bytes:
        """The content of a small, possibly changing object (never cached)."""
        return self.fetcher.read_bytes(self.url(name), bound=bounds.PROW_FILE, cache=False)

    def download(self, blob: Blob) -> Path:
        """A local copy of `blob`, cached by bucket, name and generation."""
        key = f"gcs:{self.name}/{blob.name}#{blob.generation}"
        return self.fetcher.download(self.url(blob.name), bound=bounds.AUDIT_LOG, key=key,
                                     expected=blob.expected)


def json_object(content: bytes, url: str, what: str = "") -> dict:
    """`content` as a JSON object; FetchError naming `url` when it is not one."""
    kind = f"a JSON object {what}".rstrip()
    try:
        value = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        raise FetchError(f"{url}: not {kind}: {exc}") from exc
    if not isinstance(value, dict):
        raise FetchError(f"{url}: not {kind}")
    return value
