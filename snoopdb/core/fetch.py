"""Reading files from URLs or local paths: cached, retried, gzip-transparent, never partial."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import requests

from snoopdb.core.errors import FetchError, NotFound

RETRIES = 4
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
GZIP_MAGIC = b"\x1f\x8b"
TIMEOUT = (10, 120)


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class Fetcher:
    """Opens URLs and files; downloads of immutable URLs are kept in `cache_dir`."""

    def __init__(self, cache_dir: Path):
        self.cache_dir = cache_dir
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        """One session per thread: downloads run in parallel, sessions are not thread-safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    @contextlib.contextmanager
    def open(self, location: str, *, cache: bool = True) -> Iterator[IO[bytes]]:
        """A binary stream of the (decompressed) content of a URL or file."""
        path = self.download(location, cache=cache) if is_url(location) else Path(location)
        try:
            raw = path.open("rb")
        except FileNotFoundError as exc:
            raise NotFound(f"{location}: no such file") from exc
        except OSError as exc:
            raise FetchError(f"{location}: {exc.strerror}") from exc
        with raw:
            if raw.peek(2)[:2] == GZIP_MAGIC:
                with gzip.open(raw) as unzipped:
                    yield unzipped  # type: ignore[misc]
            else:
                yield raw
        if is_url(location) and not cache:
            path.unlink(missing_ok=True)

    def read_bytes(self, location: str, *, cache: bool = True) -> bytes:
        with self.open(location, cache=cache) as stream:
            try:
                return stream.read()
            except (OSError, EOFError) as exc:
                raise FetchError(f"{location}: {exc}") from exc

    def cache_path(self, url: str, key: str | None = None) -> Path:
        digest = hashlib.sha256((key or url).encode()).hexdigest()[:32]
        return self.cache_dir / "downloads" / digest[:2] / digest

    def download(self, url: str, *, cache: bool = True, key: str | None = None) -> Path:
        """The local path of `url`'s content, downloading it unless cached.

        The file appears under its final name only once complete (write to a
        temporary file, then rename), so an interrupted download leaves nothing.
        """
        target = self.cache_path(url, key)
        if cache and target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
        try:
            with os.fdopen(fd, "wb") as out:
                self._get_into(url, out)
            os.replace(partial, target)
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        return target

    def _get_into(self, url: str, out: IO[bytes]) -> None:
        for attempt in range(RETRIES):
            out.seek(0)
            out.truncate()
            try:
                with self.session.get(url, stream=True, timeout=TIMEOUT) as response:
                    if response.status_code == 404:
                        raise NotFound(f"{url}: not found (404)")
                    if response.status_code in TRANSIENT_STATUS and attempt + 1 < RETRIES:
                        time.sleep(0.2 * 2**attempt)
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"{url}: HTTP {response.status_code}")
                    # raw bytes: content-encoding is left alone, gzip is detected on open
                    for chunk in response.raw.stream(1 << 20, decode_content=False):
                        out.write(chunk)
                    return
            except (requests.ConnectionError, requests.Timeout) as exc:
                if attempt + 1 == RETRIES:
                    raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
                time.sleep(0.2 * 2**attempt)
        raise FetchError(f"{url}: gave up after {RETRIES} attempts")
