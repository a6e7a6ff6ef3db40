"""The subset of the Google Cloud Storage JSON API snoopdb reads public buckets with."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from snoopdb.core.errors import FetchError
from snoopdb.core.fetch import Fetcher


@dataclass(frozen=True)
class Blob:
    """An object of a bucket: its name, size and generation (which changes on rewrite)."""

    name: str
    size: int
    generation: str


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
            for item in page.get("items", []):
                blobs.append(Blob(item["name"], int(item.get("size", 0)),
                                  str(item.get("generation", ""))))
            prefixes += page.get("prefixes", [])
        return blobs, prefixes

    def _pages(self, prefix: str, delimiter: str | None) -> Iterator[dict]:
        token = None
        while True:
            query = {"prefix": prefix}
            if delimiter:
                query["delimiter"] = delimiter
            if token:
                query["pageToken"] = token
            url = (f"{self.base_url}/storage/v1/b/{urllib.parse.quote(self.name, safe='')}/o?"
                   + urllib.parse.urlencode(query))
            content = self.fetcher.read_bytes(url, cache=False)
            try:
                page = orjson.loads(content)
            except orjson.JSONDecodeError as exc:
                raise FetchError(f"{url}: not a JSON object listing: {exc}") from exc
            yield page
            token = page.get("nextPageToken")
            if not token:
                return

    def url(self, name: str) -> str:
        """The media download URL of object `name`."""
        return f"{self.base_url}/{self.name}/{urllib.parse.quote(name)}"

    def read(self, name: str) -> bytes:
        """The content of a small, possibly changing object (never cached)."""
        return self.fetcher.read_bytes(self.url(name), cache=False)

    def download(self, blob: Blob) -> Path:
        """A local copy of `blob`, cached by bucket, name and generation."""
        key = f"gcs:{self.name}/{blob.name}#{blob.generation}"
        return self.fetcher.download(self.url(blob.name), key=key)
