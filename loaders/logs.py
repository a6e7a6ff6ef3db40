"""Audit log files (JSON lines of audit.k8s.io Events, plain or gzipped) streamed into a
COPY: read line by line, each line bounded and checked, made a row by EventRows, the
rows sent in chunks from a thread of their own. Memory stays flat whatever the log
size; a bad line is refused naming its file and line, or counted and skipped."""

from __future__ import annotations

import gzip
import io
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import orjson
import psycopg

from snoopdb.core import bounds
from snoopdb.core.bounds import Bound
from snoopdb.core.errors import FetchError, InputError
from snoopdb.core.fetch import bounded
from snoopdb.loaders.events import BadEvent, EventRows, check_storable

# An audit event is one line; a longer one is a bad line, read past without holding
# it: the API server's own request limit is 3 MiB, and a line is parsed whole.
MAX_EVENT_BYTES = 16 << 20
COPY_CHUNK = 1 << 20
PROGRESS_LINES = 8192
SEND_QUEUE_CHUNKS = 8
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class LogFile:
    """A local audit log file, the name to give it in messages (its URL, if downloaded),
    and the most it may expand to when gzipped."""

    path: Path
    name: str
    bound: Bound = bounds.AUDIT_LOG


def _lines(log: LogFile, raw: io.BufferedReader) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line) of a plain or gzipped log, None for a line longer than
    MAX_EVENT_BYTES (read past, never held whole); a truncated gzip is an InputError,
    and so is one expanding past the log's bound (bounds.TooLarge)."""
    stream: IO[bytes] = raw
    if raw.peek(2)[:2] == GZIP_MAGIC:
        stream = bounded(gzip.GzipFile(fileobj=raw), log.name, log.bound, "expands to")
    number = 0
    try:
        while line := stream.readline(MAX_EVENT_BYTES + 1):
            number += 1
            if len(line) > MAX_EVENT_BYTES and not line.endswith(b"\n"):
                while (rest := stream.readline(COPY_CHUNK)) and not rest.endswith(b"\n"):
                    pass
                yield number, None
                continue
            yield number, line
    except (EOFError, gzip.BadGzipFile, OSError) as exc:
        raise InputError(f"{log.name}:{number + 1}: truncated or corrupt gzip: {exc}") from exc


def copy_logs(
    copy: psycopg.Copy,
    logs: Iterable[LogFile],
    rows: EventRows,
    row: Callable[[bytes, dict], bytes],
    skip_bad_lines: bool,
    on_progress: Callable[[int], None] | None,
) -> None:
    """Stream the events of `logs` (in the order given) into `copy`, each made a row by
    `row` (EventRows.row or numbered_row of `rows`, whose report counts them). A
    malformed line is an InputError naming its file and line; with `skip_bad_lines`,
    a bad line counted (a truncated gzip's rest counts as one). `on_progress` gets the
    number of bytes of events read (uncompressed) since its last call."""
    report = rows.report
    sender = _Sender(copy)
    writer = _RowBuffer(row, sender.send)
    try:
        for log in logs:
            report.files += 1
            try:
                _copy_file(log, rows, writer.add, skip_bad_lines, on_progress)
            except InputError:
                if not skip_bad_lines:
                    raise
                report.bad_lines += 1  # the rest of a truncated file is lost
                report.bad_reasons["truncated or corrupt gzip"] += 1
        writer.flush()
    finally:
        sender.close()


def read_logs(logs: Iterable[LogFile], rows: EventRows, skip_bad_lines: bool) -> None:
    """Map the events of `logs` with `rows` (its hits and report count them) and store
    nothing: a pull request's run in `snoopdb presubmit`, mapped with the pull
    request's own spec. Bad lines as `copy_logs` has them."""
    def count(_line: bytes, event: dict) -> None:
        rows.map(event)

    for log in logs:
        rows.report.files += 1
        try:
            _copy_file(log, rows, count, skip_bad_lines, None)
        except InputError:
            if not skip_bad_lines:
                raise
            rows.report.bad_lines += 1
            rows.report.bad_reasons["truncated or corrupt gzip"] += 1


class _RowBuffer:
    """Collects COPY text rows (made by `row`) into chunks of about COPY_CHUNK bytes."""

    def __init__(self, row: Callable[[bytes, dict], bytes], send: Callable[[bytes], None]):
        self._row = row
        self._send = send
        self._buffer: list[bytes] = []
        self._size = 0

    def add(self, line: bytes, event: dict) -> None:
        row = self._row(line, event)
        self._buffer.append(row)
        self._size += len(row)
        if self._size >= COPY_CHUNK:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            self._send(b"".join(self._buffer))
            self._buffer.clear()
            self._size = 0


class _Sender:
    """Sends COPY chunks from a thread of its own, so that parsing the next chunk
    overlaps sending this one; a short queue keeps memory flat when PostgreSQL is
    the slower side."""

    def __init__(self, copy: psycopg.Copy):
        self._copy = copy
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=SEND_QUEUE_CHUNKS)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="copy-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (chunk := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._copy.write(chunk)
                except BaseException as exc:  # handed to the loading thread by send/close
                    self._error = exc

    def send(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)

    def close(self) -> None:
        """Wait until every chunk is sent; re-raise a failure of the sending thread."""
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


def _copy_file(
    log: LogFile,
    rows: EventRows,
    add: Callable[[bytes, dict], None],
    skip_bad_lines: bool,
    on_progress: Callable[[int], None] | None,
) -> None:
    report = rows.report
    try:
        raw = log.path.open("rb")
    except OSError as exc:
        raise FetchError(f"{log.name}: {exc.strerror}") from exc
    with raw:
        consumed = reported = 0
        for number, read in _lines(log, raw):
            consumed += MAX_EVENT_BYTES if read is None else len(read)
            if read is None:
                reason = detail = f"an event longer than {MAX_EVENT_BYTES >> 20} MiB"
            elif not (line := read.rstrip(b"\r\n")).strip():
                continue
            else:
                try:
                    event = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    reason, detail = "not JSON", str(exc)
                else:
                    try:
                        if not isinstance(event, dict):
                            raise BadEvent("not a JSON object")
                        check_storable(line)
                        add(line, event)
                    except BadEvent as exc:
                        reason, detail = exc.reason, str(exc)
                    else:
                        reason = ""
            if reason:
                if not skip_bad_lines:
                    raise InputError(f"{log.name}:{number}: malformed audit event: {detail}")
                report.bad_lines += 1
                report.bad_reasons[reason] += 1
                continue
            if on_progress and number % PROGRESS_LINES == 0:
                on_progress(consumed - reported)
                reported = consumed
        report.bytes_read += raw.tell()
        if on_progress:
            on_progress(consumed - reported)


def log_size(path: Path) -> int:
    """The bytes of events a log holds: its size, or for a gzipped one the size its
    trailer gives (modulo 4 GiB, and of its last member only: at least its own size)."""
    size = path.stat().st_size
    with path.open("rb") as raw:
        if raw.read(2) != GZIP_MAGIC or size < 18:
            return size
        raw.seek(-4, io.SEEK_END)
        return max(int.from_bytes(raw.read(4), "little"), size)
