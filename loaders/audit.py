"""Audit logs (JSON lines of audit.k8s.io Events) → `audit_event` and `endpoint_hit`.

A run (one CI job build, or a set of local files) is loaded in one transaction:
its events are streamed line by line into COPY — into a fresh table that replaces
the run's old one at the end (audit_store.py) — and its hit and field counts,
tallied while streaming, go to the run's fresh summary tables. Memory stays flat
whatever the log size.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import queue
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson
import psycopg
from snoopdb.loaders import audit_store, fields, spec
from snoopdb.loaders.github import KUBERNETES, SPEC_PATH

from snoopdb.core import bounds, progress
from snoopdb.core.bounds import Bound
from snoopdb.core.config import Settings
from snoopdb.core.errors import FetchError, InputError, NoSpecLoaded
from snoopdb.core.fetch import Fetcher, bounded
from snoopdb.core.releases import Release, Releases
from snoopdb.coverage.attribution import classify, reattribute
from snoopdb.coverage.fields import FieldTally
from snoopdb.coverage.matching import Matcher
from snoopdb.db import loadlog

# testing.audit_event's columns. Column order chosen so that a row is a constant head,
# the per-event values, and the cached user-agent part, joined without reshuffling
# (a CI run's rows have the same tail: audit_store.EVENT_COLUMNS).
EVENT_COLUMNS = ("release", "release_date", "source", "audit_id", "endpoint", "error",
                 "useragent", "test", "test_hit", "conf_test_hit", "data")
COPY_CHUNK = 1 << 20
# An audit event is one line; a longer one is a bad line, read past without holding
# it: the API server's own request limit is 3 MiB, and a line is parsed whole.
MAX_EVENT_BYTES = 16 << 20
# jsonb holds a number as numeric, which keeps at most 16,383 digits after the point:
# 1e-16384 is refused (orjson reads it as 0.0). Lines where such a number may be (an
# exponent of 5 digits or more, or 16,384 digits after a point) are checked exactly.
# Searches that start with a literal byte are several times faster than one that
# starts with a class: "-NNNNN" first (one line in eight: names, resource versions),
# then the exponent itself.
_DASH_DIGITS = re.compile(rb"-0*[1-9][0-9]{4}")
_EXPONENT = re.compile(rb"[0-9][eE]-0*[1-9][0-9]{4}")
_LONG_FRACTION = re.compile(rb"\.[0-9]{16384}")
NUMERIC_MAX_SCALE = 16383
PROGRESS_LINES = 8192
SEND_QUEUE_CHUNKS = 8
NULL = b"\\N"
GZIP_MAGIC = b"\x1f\x8b"
LIVE_RELEASE = "live"


def _text(value: str | None) -> bytes:
    """A value in COPY text format."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (value.replace("\\", "\\\\").replace("\t", "\\t")
                 .replace("\n", "\\n").replace("\r", "\\r"))
    return value.encode()


class BadEvent(ValueError):
    """A JSON object that is not a usable audit event; the message says why, `reason`
    (the message by default) is what a report counts it under."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


_JSON_TYPES = {dict: "an object", list: "an array", int: "a number", float: "a number",
               bool: "a boolean"}


def _text_field(event: dict, name: str, *, required: bool) -> str | None:
    """Field `name` of an event as text; None when absent (or null) and not required.

    These fields become columns of their own: a value of another JSON type, or
    one holding a NUL character (PostgreSQL text cannot hold it, and no API server
    writes one into a verb, URI, user agent or audit ID), makes the line bad."""
    value = event.get(name)
    if value is None:
        if required:
            raise BadEvent(f"no {name}")
        return None
    if not isinstance(value, str):
        raise BadEvent(f"{name} is {_JSON_TYPES.get(type(value), 'not text')}, not a string")
    if "\x00" in value:
        raise BadEvent(f"{name} holds a NUL character")
    return value


def check_number(literal: str) -> float:
    """json.loads' parse_float: BadEvent for a number PostgreSQL's jsonb cannot hold."""
    mantissa, _, exponent = literal.lower().partition("e")
    fraction = mantissa.partition(".")[2]
    if len(fraction) - int(exponent or 0) > NUMERIC_MAX_SCALE:
        shown = literal if len(literal) <= 40 else literal[:20] + "…" + literal[-10:]
        raise BadEvent(f"number {shown} is beyond what PostgreSQL's jsonb can hold",
                       UNSTORABLE_NUMBER)
    return 0.0


UNSTORABLE_NUMBER = "a number beyond what PostgreSQL's jsonb can hold"


def check_storable(line: bytes | str) -> None:
    """BadEvent when the JSON text `line` holds a number jsonb cannot hold."""
    text = line.encode() if isinstance(line, str) else line
    if ((_DASH_DIGITS.search(text) and _EXPONENT.search(text))
            or _LONG_FRACTION.search(text)):
        try:
            json.loads(line, parse_float=check_number, parse_int=len)
        except RecursionError as exc:
            raise BadEvent("nested too deeply to check its numbers") from exc


def _json_text(line: bytes) -> bytes:
    """A JSON line as a COPY text value for a jsonb column.

    NUL characters elsewhere in the event (a request body may hold one) are kept
    as U+FFFD: jsonb cannot hold NUL, and the rest of the event is worth keeping."""
    if b"\\u0000" in line:
        line = line.replace(b"\\u0000", b"\\ufffd")
    line = line.replace(b"\\", b"\\\\")
    if b"\t" in line:
        line = line.replace(b"\t", b"\\t")
    return line


@dataclass
class AuditReport:
    """What a load did: events loaded, matched, unmatched by reason, bad lines skipped."""

    source: str = ""
    release: str = ""
    events: int = 0
    matched: int = 0
    unmatched: Counter[str] = field(default_factory=Counter)
    bad_lines: int = 0
    # why lines were skipped (with skip_bad_lines): reason → count
    bad_reasons: Counter[str] = field(default_factory=Counter)
    files: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    summary_seconds: float = 0.0
    # where the release's open_api spec came from (CI runs: loaded for it if need be)
    spec: str = ""
    # older runs of the job compacted after the load: (source, events)
    compacted: list[tuple[str, int]] = field(default_factory=list)

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Agent:
    """A user agent with its test attribution."""

    useragent: str | None
    test: str | None
    test_hit: bool
    conf_test_hit: bool
    text: bytes  # the four values in COPY text format, tab-separated


class EventRows:
    """Maps raw audit events to their endpoint and agent, tallying hits; and turns them
    into COPY text rows: of a hot run's table (`numbered_row`) or of the live table
    (`row`).

    User agents and (verb, URI) matches repeat a great deal, so both are cached.
    `fields` (when given) tallies the fields each request body sets.
    """

    def __init__(self, matcher: Matcher, release: str, release_date: str | None, source: str,
                 fields: FieldTally | None = None):
        self.matcher = matcher
        self.fields = fields
        self.hits: Counter[tuple[str, str | None, bool, bool]] = Counter()
        self.report = AuditReport(source=source, release=release)
        self._agents: dict[tuple[str | None, str | None, bool, bool], Agent] = {}
        self._by_useragent: dict[str | None, Agent] = {}
        self._head = b"\t".join((_text(release), _text(release_date), _text(source))) + b"\t"

    def _agent(self, useragent: str | None, test: str | None, test_hit: bool,
               conf: bool) -> Agent:
        key = (useragent, test, test_hit, conf)
        agent = self._agents.get(key)
        if agent is None:
            agent = self._agents[key] = Agent(
                useragent, test, test_hit, conf,
                b"\t".join((_text(useragent), _text(test), b"t" if test_hit else b"f",
                            b"t" if conf else b"f")))
        return agent

    def map(self, event: dict) -> tuple[str | None, str | None, str | None, Agent]:
        """(audit_id, endpoint, error, agent) of one parsed event, its hit tallied;
        BadEvent, before anything is counted, for an event that cannot be stored."""
        verb = _text_field(event, "verb", required=True)
        uri = _text_field(event, "requestURI", required=True)
        useragent = _text_field(event, "userAgent", required=False)
        audit_id = _text_field(event, "auditID", required=False)
        assert verb is not None and uri is not None  # required fields
        agent = self._by_useragent.get(useragent)
        if agent is None:
            agent = self._by_useragent[useragent] = self._agent(useragent, *classify(useragent))
        endpoint, error = self.matcher.match(verb, uri)
        self.report.events += 1
        if endpoint is None:
            self.report.unmatched[error or "unknown"] += 1
        else:
            self.report.matched += 1
            credited = reattribute(endpoint, useragent, uri)
            if credited is not None:
                agent = self._agent(useragent, credited, True, "[Conformance]" in credited)
            self.hits[(endpoint, agent.test, agent.test_hit, agent.conf_test_hit)] += 1
            if self.fields is not None:
                body = event.get("requestObject")
                if body is not None:
                    self.fields.add(endpoint, (useragent, agent.test, agent.test_hit,
                                               agent.conf_test_hit), body)
        return audit_id, endpoint, error, agent

    def _tail(self, line: bytes, event: dict) -> bytes:
        audit_id, endpoint, error, agent = self.map(event)
        return b"".join((
            _text(audit_id), b"\t", _text(endpoint), b"\t", _text(error), b"\t",
            agent.text, b"\t", _json_text(line), b"\n",
        ))

    def row(self, line: bytes, event: dict) -> bytes:
        """The live table's COPY row of one parsed event (`line` is its JSON text)."""
        return self._head + self._tail(line, event)

    def numbered_row(self, line: bytes, event: dict) -> bytes:
        """The COPY row of one parsed event of a hot run (audit_store.EVENT_COLUMNS),
        numbered by its position in the run from 0."""
        n = self.report.events
        return b"%d\t" % n + self._tail(line, event)

    def hit_rows(self) -> Iterator[tuple[str, str | None, bool, bool, int]]:
        """(endpoint, test, test_hit, conf_test_hit, hits), by endpoint and test."""
        for (endpoint, test, test_hit, conf), hits in sorted(
                self.hits.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            yield (endpoint, test, test_hit, conf, hits)


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


def load_run(
    conn: psycopg.Connection,
    logs: Iterable[LogFile],
    matcher: Matcher,
    *,
    release: str,
    release_date: str | None,
    source: str,
    testing: bool = False,
    skip_bad_lines: bool = False,
    on_progress: Callable[[int], None] | None = None,
    keep_hot: int | None = None,
    on_step: Callable[[str], None] | None = None,
    facts: audit_store.BuildFacts | None = None,
) -> AuditReport:
    """Replace the run `source` with the events of `logs` (read in the order given).

    A CI run is stored hot (audit_store), swapped in for its old tables at the end,
    with its hit and field counts; with `testing`, events go to `testing.audit_event`
    (live tests' table). One transaction: on any error nothing of the run changes.
    Loads of the same run wait for each other. Then, each in a transaction of its
    own, the job's hot runs beyond the newest `keep_hot` (default: the database's
    setting, else 1) are compacted. `facts` (a CI build's id, start, commit, result)
    are recorded with the run. `on_progress` gets the number of bytes of events read
    (uncompressed) since its last call; `on_step` the name of each step done after the
    reading (FINISH_STEPS), and of the one that follows them: "compaction".
    """
    def done(step: str) -> None:
        if on_step is not None:
            on_step(step)

    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    tally = fields.tally_for(conn, None if testing else release)
    rows = EventRows(matcher, release, release_date, source, tally)
    report = rows.report
    copy_context: AbstractContextManager[psycopg.Copy]
    with conn.transaction():
        if testing:
            conn.execute("SELECT audit_run_lock(%s)", (source,))
            conn.execute("DELETE FROM testing.audit_event WHERE source = %s", (source,))
            copy_context = conn.cursor().copy(
                f"COPY testing.audit_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN")
        else:
            run = audit_store.prepare(conn, source, release)
            copy_context = audit_store.copy_events(conn, run)
        with copy_context as copy:
            sender = _Sender(copy)
            writer = _RowBuffer(rows.row if testing else rows.numbered_row, sender.send)
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
        summary_started = time.monotonic()
        if testing:
            fields.store_live(conn, tally, source)
        else:
            audit_store.store_summaries(conn, run, rows.hit_rows(), tally.field_rows(),
                                        tally.body_rows())
            done("summaries")
            # Raw events win: the release's imported published coverage goes.
            imported = conn.execute(
                "SELECT source FROM audit_run WHERE release = %s AND state = 'imported'",
                (release,)).fetchall()
            for (other,) in imported:
                audit_store.drop(conn, other)
            loaded_before = audit_store.publish(conn, run, release, release_date,
                                                report.events)
            if facts is not None:
                audit_store.describe(conn, run, facts)
            done("indexes")
            if loaded_before is None and not imported:
                audit_store.add_to_summaries(conn, run)  # the release's runs and one more
            else:
                audit_store.refresh(conn, release, loaded_before)
            done("coverage")
            report.summary_seconds = time.monotonic() - summary_started
        loadlog.record(conn, "testing-audit" if testing else "audit", release, source,
                       started_at, report.events, {
                           "matched": report.matched, "unmatched": dict(report.unmatched),
                           "bad_lines": report.bad_lines,
                           "bad_reasons": dict(report.bad_reasons), "files": report.files,
                           "summary_seconds": round(report.summary_seconds, 3),
                       })
    report.seconds = time.monotonic() - started
    if not testing:
        done("compaction")
        report.compacted = audit_store.keep_hot(conn, source, keep_hot)
    return report


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


def matcher_for(
    conn: psycopg.Connection, fetcher: Fetcher, settings: Settings, release: str,
    commit: str | None = None,
) -> tuple[Matcher, str]:
    """The matcher of the spec at `commit` (downloaded once, cached), falling back to
    the loaded spec of `release`; and where that spec came from."""
    if commit:
        url = settings.github_raw(KUBERNETES, commit, SPEC_PATH)
        try:
            with fetcher.open(url, bound=bounds.SPEC) as stream:
                operations = [(op.method, op.path, op.endpoint)
                              for op in spec.read_operations(stream, url)]
            return Matcher.from_operations(operations), url
        except (FetchError, InputError):
            pass  # an abbreviated or unknown commit: the release's spec will do
    loaded = conn.execute("SELECT 1 FROM open_api WHERE release = %s LIMIT 1",
                          (release,)).fetchone()
    if not loaded:
        raise NoSpecLoaded(release)
    return Matcher.for_release(conn, release), f"open_api release {release}"


def newest_loaded_release(conn: psycopg.Connection) -> str:
    row = conn.execute(
        "SELECT release FROM open_api ORDER BY release_key(release) DESC LIMIT 1").fetchone()
    if row is None:
        raise NoSpecLoaded()
    return str(row[0])


def store_run(
    conn: psycopg.Connection, logs: list[LogFile], matcher: Matcher,
    release: Release | None, releases: Releases, source: str, testing: bool,
    skip_bad_lines: bool, keep_hot: int | None = None,
    facts: audit_store.BuildFacts | None = None,
) -> AuditReport:
    """Load one run's logs as release `release` (`live` with `testing` or no release),
    with a progress bar over their events' bytes and the steps that follow."""
    read = sum(log_size(log.path) for log in logs)
    step = 0 if testing else int(read * FINISH_SHARE / len(FINISH_STEPS))
    date: str | None
    if testing or release is None:
        # as the webhook does: the time received, in epoch milliseconds (apisnoop's
        # live queries filter on release_date::bigint)
        name, date = LIVE_RELEASE, str(int(time.time() * 1000))
    else:
        known = releases.date(release)
        name, date = str(release), known.isoformat() if known else None
    with progress.bar(total=read + step * len(FINISH_STEPS), desc="audit events", unit="B",
                      unit_scale=True) as bar:
        def on_step(name: str) -> None:
            if name in FINISH_STEPS:
                bar.update(step)
            bar.set_description(f"audit events: {NEXT_STEP[name]}")

        return load_run(conn, logs, matcher, release=name, release_date=date,
                        source=source, testing=testing, skip_bad_lines=skip_bad_lines,
                        on_progress=bar.update, keep_hot=keep_hot, on_step=on_step,
                        facts=facts)


# What a CI load does once its events are read, in the bar: its steps' share, about a
# quarter of the reading's time (bench.queries: 7-10 s of indexes and summaries after
# 30 s of reading 1 M events); what comes after each step (compaction: the job's older
# runs, after the load's commit, outside the bar's total).
FINISH_STEPS = ("summaries", "indexes", "coverage")
FINISH_SHARE = 0.25
NEXT_STEP = {"summaries": "indexing the events", "indexes": "summarising coverage",
             "coverage": "committing", "compaction": "compacting older runs of the job"}


def log_size(path: Path) -> int:
    """The bytes of events a log holds: its size, or for a gzipped one the size its
    trailer gives (modulo 4 GiB, and of its last member only: at least its own size)."""
    size = path.stat().st_size
    with path.open("rb") as raw:
        if raw.read(2) != GZIP_MAGIC or size < 18:
            return size
        raw.seek(-4, io.SEEK_END)
        return max(int.from_bytes(raw.read(4), "little"), size)
