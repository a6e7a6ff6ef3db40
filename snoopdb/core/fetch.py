"""Reading files from URLs or local paths: cached, retried, gzip-transparent, never partial.

A download is used only once it is known to be whole: its byte count matches
the server's Content-Length (or its chunked encoding ended properly), and, where
the source listed them beforehand (GCS), the listed size and MD5 (CRC-32C for
composite objects, which have no MD5). A body that falls short, a 5xx, a
mismatch, or a body whose end nothing can vouch for (no Content-Length, not
chunked, nothing listed: a cut there looks like the end) is tried again, up to
`Deadlines.attempts` times and within `Deadlines.total` seconds for the whole
file, connecting, headers and body included (core.watchdog); then a one-line
FetchError names the URL. `Deadlines.no_length` accepts a body of unverifiable
length instead, used once and never cached. An HTML page where a file was
expected (a login, error or captive portal page answering 200) is refused.

Every read names the bound of what it reads (core.bounds): a body sent, declared
or, gzipped, expanding past it is refused in one line (TooLarge), never retried,
never held whole.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import requests
import urllib3.exceptions

from snoopdb.core import nofollow, numbers, watchdog
from snoopdb.core.bounds import Bound, TooLarge
from snoopdb.core.config import Deadlines
from snoopdb.core.crc32c import Crc32c
from snoopdb.core.errors import FetchError, NotFound

TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})
GZIP_MAGIC = b"\x1f\x8b"
CHUNK = 1 << 20
PARTIAL_PREFIX = ".partial-"
# a partial file untouched for this long beyond the total deadline belongs to a
# download that was killed: no live download leaves its file alone that long
STALE_MARGIN = 60.0
_HTML_START = re.compile(rb"\s*<(!doctype\s+html|html[\s>])", re.IGNORECASE)


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


@dataclass(frozen=True)
class Expected:
    """What a download must be, as its source listed it beforehand (a GCS listing):
    its size in bytes, MD5 digest, CRC-32C; None where not listed."""

    size: int | None = None
    md5: bytes | None = None
    crc32c: int | None = None

    @classmethod
    def from_gcs(cls, item: dict) -> Expected:
        """From a GCS listing item: `size`, and base64 `md5Hash` and `crc32c`; a ValueError
        when it lists a size that is no byte count."""
        size = item.get("size")
        md5 = item.get("md5Hash")
        crc = item.get("crc32c")
        if size is not None:
            size = (numbers.whole_number(size) if isinstance(size, str) else
                    size if isinstance(size, int) and not isinstance(size, bool) and size >= 0
                    else None)
            if size is None:
                raise ValueError(f"its size {item.get('size')!r} is not a byte count")
        return cls(
            size=size,
            md5=_b64(md5, 16),
            crc32c=int.from_bytes(raw, "big") if (raw := _b64(crc, 4)) else None,
        )


def _b64(value: object, length: int) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        decoded = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    return decoded if len(decoded) == length else None


class _Retry(Exception):
    """This attempt failed in a way another attempt may not (the message says how)."""


class Fetcher:
    """Opens URLs and files; downloads of immutable URLs are kept in `cache_dir`."""

    def __init__(self, cache_dir: Path, deadlines: Deadlines | None = None,
                 warn: Callable[[str], None] | None = None):
        self.cache_dir = cache_dir
        self.deadlines = deadlines or Deadlines()
        # hears of each body used although nothing vouches that it is whole
        self.warn = warn
        self._local = threading.local()
        self._swept = False

    def alike(self, deadlines: Deadlines | None = None) -> Fetcher:
        """A fetcher of its own (a session of its own), with the same cache and warnings."""
        return Fetcher(self.cache_dir, deadlines or self.deadlines, self.warn)

    @property
    def session(self) -> requests.Session:
        """One session per thread: downloads run in parallel, sessions are not thread-safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = watchdog.session()
        return session

    @contextlib.contextmanager
    def open(self, location: str, *, bound: Bound, cache: bool = True) -> Iterator[IO[bytes]]:
        """A binary stream of the (decompressed) content of a URL or file, of at most
        `bound` bytes (TooLarge past it)."""
        if is_url(location):
            path, kept, _ = self._download(location, bound=bound, cache=cache)
        else:
            path, kept = Path(location), True
        try:
            with decoded(path, location, bound) as stream:
                yield stream
        finally:
            if not kept:
                path.unlink(missing_ok=True)

    def read_bytes(self, location: str, *, bound: Bound, cache: bool = True) -> bytes:
        """The whole (decompressed) content of a URL or file, at most `bound` bytes."""
        with self.open(location, bound=bound, cache=cache) as stream:
            try:
                return stream.read()
            except (OSError, EOFError) as exc:
                raise FetchError(f"{location}: {exc}") from exc

    def cache_path(self, url: str, key: str | None = None) -> Path:
        digest = hashlib.sha256((key or url).encode()).hexdigest()[:32]
        return self.cache_dir / "downloads" / digest[:2] / digest

    def download(self, url: str, *, bound: Bound, cache: bool = True, key: str | None = None,
                 expected: Expected | None = None) -> Path:
        """The local path of `url`'s content (as served: gzipped or not), downloading it
        unless cached; a body past `bound` is refused.

        The file appears in the cache only once verified whole (see the module's
        docstring). A download that could not be verified, or with `cache`
        False, is a temporary file that the caller may delete; one left behind is
        swept as stale like the partial file of a killed download.
        """
        return self._download(url, bound=bound, cache=cache, key=key, expected=expected)[0]

    def save(self, url: str, root: Path, relative: str, *, bound: Bound,
             cache: bool = True) -> bool:
        """Write `url`'s content, as served (gzipped or not), to `root`/`relative`, whole
        or not at all, through no link below `root` (core.nofollow); True when the
        download was verified whole (see the module's docstring). With `cache`, a cached
        copy is used, and a verified download kept. A body past `bound` is refused."""
        path, kept, verified = self._download(url, bound=bound, cache=cache)
        try:
            with path.open("rb") as content:
                nofollow.write(root, relative, iter(lambda: content.read(CHUNK), b""))
        finally:
            if not kept:
                path.unlink(missing_ok=True)
        return verified

    def _download(self, url: str, *, bound: Bound, cache: bool, key: str | None = None,
                  expected: Expected | None = None) -> tuple[Path, bool, bool]:
        """(path, whether it is the cached copy, to keep; whether it was verified whole)
        of `url`'s content."""
        target = self.cache_path(url, key)
        if cache and target.exists():
            return target, True, True
        target.parent.mkdir(parents=True, exist_ok=True)
        self._sweep_stale()
        fd, name = tempfile.mkstemp(dir=target.parent, prefix=PARTIAL_PREFIX)
        partial = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                verified = self._get_into(url, out, expected, bound)
            if cache and verified:
                os.replace(partial, target)
                return target, True, True
            return partial, False, verified
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def _sweep_stale(self) -> None:
        """Remove partial files that killed downloads left (once per fetcher)."""
        if self._swept:
            return
        self._swept = True
        cutoff = time.time() - self.deadlines.total - STALE_MARGIN
        for path in (self.cache_dir / "downloads").glob(f"*/{PARTIAL_PREFIX}*"):
            with contextlib.suppress(OSError):
                if path.stat().st_mtime < cutoff:
                    path.unlink()

    def _get_into(self, url: str, out: IO[bytes], expected: Expected | None,
                  bound: Bound) -> bool:
        """Write `url`'s body to `out`, trying again while that helps; whether the
        body was verified whole."""
        limits = self.deadlines
        deadline = time.monotonic() + limits.total
        reason = ""
        tried = 0
        while tried < limits.attempts:
            if tried:
                pause = min(0.2 * 2 ** (tried - 1), deadline - time.monotonic())
                if pause <= 0:
                    break
                time.sleep(pause)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            out.seek(0)
            out.truncate()
            tried += 1
            try:
                return self._attempt(url, out, expected, bound, remaining)
            except _Retry as exc:
                reason = str(exc)
        spent = "attempt" if tried == 1 else "attempts"
        raise FetchError(f"{url}: {reason or 'download deadline passed'} (gave up after "
                         f"{tried} {spent} within the {limits.total:g}s deadline)")

    def _attempt(self, url: str, out: IO[bytes], expected: Expected | None, bound: Bound,
                 remaining: float) -> bool:
        """One request, shut down when `remaining` seconds have passed."""
        limits = self.deadlines
        timeout = (min(limits.connect, remaining), min(limits.read, remaining))
        response: requests.Response | None = None
        with watchdog.Watch(remaining) as watch:
            try:
                with self.session.get(url, stream=True, timeout=timeout) as response:
                    if response.status_code == 404:
                        raise NotFound(f"{url}: not found (404)")
                    if response.status_code in TRANSIENT_STATUS:
                        raise _Retry(f"HTTP {response.status_code}")
                    if response.status_code != 200:
                        raise FetchError(f"{url}: HTTP {response.status_code}")
                    return self._body(url, response, out, expected, bound, watch)
            except (requests.ConnectionError, requests.Timeout,
                    urllib3.exceptions.HTTPError) as exc:
                if watch.fired:
                    raise _Retry("download deadline passed before the response's headers "
                                 "ended" if response is None else
                                 f"download deadline passed after {out.tell()} bytes") from exc
                raise _Retry(_connection_problem(exc)) from exc

    def _body(self, url: str, response: requests.Response, out: IO[bytes],
              expected: Expected | None, bound: Bound, watch: watchdog.Watch) -> bool:
        """Stream the body to `out` before `watch` fires, checking it as it comes;
        whether it was verified whole (False: its length could not be, and
        `Deadlines.no_length` accepts that)."""
        if response.headers.get("content-type", "").lower().startswith("text/html"):
            raise FetchError(f"{url}: the server sent an HTML page, not the file")
        declared = response.headers.get("content-length")
        length = numbers.whole_number(declared) if declared else None
        if declared and length is None:
            raise _Retry(f"Content-Length {declared!r} is not a byte count")
        if length is not None and length > bound.size:
            raise TooLarge(url, bound, "declares")
        md5 = hashlib.md5(usedforsecurity=False) if expected and expected.md5 else None
        crc = Crc32c() if expected and expected.crc32c is not None and md5 is None else None
        size = 0
        # raw bytes: content-encoding is left alone (gzip is detected on open); read1
        # returns what has arrived, and the watch ends a read at the deadline
        while chunk := response.raw.read1(CHUNK, decode_content=False):
            if size == 0 and _HTML_START.match(chunk):
                raise FetchError(f"{url}: the server sent an HTML page, not the file")
            out.write(chunk)
            size += len(chunk)
            if size > bound.size:
                raise TooLarge(url, bound, "sends")
            if md5:
                md5.update(chunk)
            if crc:
                crc.update(chunk)
        out.flush()
        if watch.fired:
            raise _Retry(f"download deadline passed after {size} bytes")
        if length is not None and size != length:
            raise _Retry(f"body cut short: {size} of {length} bytes")
        if expected and expected.size is not None and size != expected.size:
            raise _Retry(f"{size} bytes, but its listing says {expected.size}")
        if md5 and expected and md5.digest() != expected.md5:
            raise _Retry("MD5 differs from its listing's")
        if crc and expected and crc.value != expected.crc32c:
            raise _Retry("CRC-32C differs from its listing's")
        if (length is not None or response.raw.chunked
                or (expected and expected.size is not None)):
            return True
        if self.deadlines.no_length:
            if self.warn is not None:
                self.warn(f"warning: {url}: used unchecked (SNOOPDB_ALLOW_NO_LENGTH=1): no "
                          "Content-Length and no chunked encoding, so nothing shows that its "
                          f"{size} bytes are the whole body")
            return False
        raise _Retry(f"no Content-Length and no chunked encoding, so nothing shows that "
                     f"its {size} bytes are the whole body; SNOOPDB_ALLOW_NO_LENGTH=1 "
                     "accepts such a body")


def decoded(path: Path, location: str, bound: Bound) -> IO[bytes]:
    """The content of the file at `path` (named `location`), decompressed when it is
    gzipped, of at most `bound` bytes either way; the caller closes it."""
    try:
        raw = path.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(f"{location}: no such file") from exc
    except OSError as exc:
        raise FetchError(f"{location}: {exc.strerror}") from exc
    if raw.peek(2)[:2] == GZIP_MAGIC:
        return bounded(gzip.GzipFile(fileobj=raw), location, bound, "expands to", raw)
    return bounded(raw, location, bound, "holds")


class Readable(Protocol):
    """What `bounded` reads from: a file, a GzipFile."""

    def read1(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def bounded(stream: Readable, location: str, bound: Bound, how: str,
            *also: Readable) -> IO[bytes]:
    """`stream`, buffered, refusing to give more than `bound` bytes (TooLarge names
    `location` and `how` it went past: "expands to" for a decompression); closing
    it closes `stream` and `also`."""
    return io.BufferedReader(_Bounded(stream, location, bound, how, also), CHUNK)


class _Bounded(io.RawIOBase):
    """The bytes of a stream up to a bound; the byte past it is an error."""

    def __init__(self, stream: Readable, location: str, bound: Bound, how: str,
                 also: tuple[Readable, ...]):
        self._stream, self._location, self._bound, self._how = stream, location, bound, how
        self._also = also
        self._left = bound.size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        # one byte more than is left: that it exists is what goes past the bound. read1:
        # what one step gives, so that the lines before a truncated gzip's end come out
        # before its error
        data = self._stream.read1(min(len(view), self._left + 1))
        if len(data) > self._left:
            raise TooLarge(self._location, self._bound, self._how)
        view[:len(data)] = data
        self._left -= len(data)
        return len(data)

    def close(self) -> None:
        if not self.closed:
            for stream in (self._stream, *self._also):
                stream.close()
        super().close()


def _connection_problem(exc: BaseException) -> str:
    """One line on why a connection failed, without urllib3's nested reprs."""
    if isinstance(exc, (requests.ConnectTimeout, urllib3.exceptions.ConnectTimeoutError)):
        return "connection timed out"
    if isinstance(exc, (requests.ReadTimeout, urllib3.exceptions.ReadTimeoutError)):
        return "no data within the read timeout"
    text = str(exc)
    if "IncompleteRead" in text or "ended prematurely" in text or "Connection broken" in text:
        return "body cut short (connection closed)"
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "NameResolutionError" in text:
        return "host name not found"
    return type(exc).__name__ + ": " + " ".join(text.split())[:200]
