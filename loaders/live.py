"""Live events: what a cluster's API server sends while a test is being written, through
the audit webhook (`snoopdb auditlogger`, a batch at a time) or as log files (`snoopdb
load --testing`). Both paths map, check, tally and store them here, into
testing.audit_event, testing.field_hit and testing.body_hit (and their depth in
testing.param_hit and testing.status_hit), as release `live`.

One rule for the release a live event is mapped and tallied against: the newest loaded
spec (`live_release`), whether or not any coverage data of it is loaded, since the
cluster under test runs the newest Kubernetes there is a spec of. (The views then
compare what it hit with the CI coverage of the latest release with data.)"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from psycopg import sql

from snoopdb.core import copytext
from snoopdb.core.errors import NoSpecLoaded
from snoopdb.coverage.depth import DepthTally
from snoopdb.coverage.fields import BodySchema, FieldTally, schemas_by_endpoint
from snoopdb.coverage.matching import Matcher
from snoopdb.db import loadlog
from snoopdb.db.queries import query
from snoopdb.loaders import spec
from snoopdb.loaders.events import (
    LIVE_COLUMNS,
    AuditReport,
    BadEvent,
    EventRows,
    check_number,
    check_storable,
)
from snoopdb.loaders.logs import LogFile, copy_logs

LIVE_RELEASE = "live"
RELEASE_SQL = "SELECT release FROM open_api ORDER BY release_key(release) DESC LIMIT 1"
OPERATIONS_SQL = "SELECT method, path, endpoint FROM open_api WHERE release = %(release)s"
EVENTS_COPY = f"COPY testing.audit_event ({', '.join(LIVE_COLUMNS)}) FROM STDIN"
FIELDS_COPY = ("COPY testing.field_hit (source, endpoint, field, known, useragent, hits)"
               " FROM STDIN")
BODIES_COPY = "COPY testing.body_hit (source, endpoint, useragent, bodies) FROM STDIN"
PARAMS_COPY = ("COPY testing.param_hit (source, endpoint, parameter, value, useragent, hits)"
               " FROM STDIN")
CODES_COPY = "COPY testing.status_hit (source, endpoint, code, useragent, hits) FROM STDIN"
# A live source's tables, its events' and their tallies'.
LIVE_TABLES = ("audit_event", "field_hit", "body_hit", "param_hit", "status_hit")
EVENT_LIST_VERSIONS = ("audit.k8s.io/v1", "audit.k8s.io/v1beta1")


def _release(row: Sequence[Any] | None) -> str:
    if row is None:
        raise NoSpecLoaded()
    return str(row[0])


def live_release(conn: psycopg.Connection) -> str:
    """The release live events are mapped and tallied against: the newest loaded spec's.
    NoSpecLoaded when none is loaded."""
    return _release(conn.execute(RELEASE_SQL).fetchone())


@dataclass(frozen=True)
class Mapping:
    """What live events are mapped and tallied against: the live release, the matcher
    of its spec and the body schemas and query parameters stored with it."""

    release: str
    matcher: Matcher
    schemas: dict[str, BodySchema]
    declared: dict[str, frozenset[str]]

    @classmethod
    def of(cls, release: str, operations: Iterable[tuple[str, str, str]],
           endpoints: Iterable[tuple[str, str]],
           fields: Iterable[tuple[Any, ...]],
           parameters: Iterable[tuple[str, str]]) -> Mapping:
        """From the rows of OPERATIONS_SQL, of spec.BODY_SCHEMA_QUERIES and of
        spec.DECLARED_PARAMETERS_QUERY."""
        return cls(release, Matcher.from_operations(operations),
                   schemas_by_endpoint(endpoints, fields),
                   spec.parameters_by_endpoint(parameters))

    def rows(self, source: str, received: dt.datetime) -> EventRows:
        """The rows of live events from `source` received at `received`, their request
        bodies' fields tallied by user agent (a test being written is named by it)."""
        return EventRows(self.matcher, LIVE_RELEASE, epoch_ms(received), source,
                         FieldTally(self.schemas, by_useragent=True),
                         DepthTally(self.declared, by_useragent=True))


_MAPPING_SQL = (OPERATIONS_SQL, *map(query, spec.BODY_SCHEMA_QUERIES),
                query(spec.DECLARED_PARAMETERS_QUERY))


def mapping(conn: psycopg.Connection) -> Mapping:
    """The live release's Mapping."""
    params = {"release": live_release(conn)}
    return Mapping.of(params["release"],
                      *(conn.execute(text, params).fetchall() for text in _MAPPING_SQL))


async def read_mapping(conn: psycopg.AsyncConnection) -> Mapping:
    """`mapping`, on an asynchronous connection (the auditlogger's)."""
    params = {"release": _release(await (await conn.execute(RELEASE_SQL)).fetchone())}
    results = [await (await conn.execute(text, params)).fetchall() for text in _MAPPING_SQL]
    return Mapping.of(params["release"], *results)


def epoch_ms(when: dt.datetime) -> str:
    """A live event's release_date: the time it was received, in epoch milliseconds, as
    apisnoop's live tables hold it (its queries filter on release_date::bigint)."""
    return str(int(when.timestamp() * 1000))


def tally_copies(tally: FieldTally, source: str) -> list[tuple[str, Iterator[bytes]]]:
    """The COPYs of a tally by user agent: (statement, its COPY text chunks)."""
    fields = ((source, endpoint, field, known, useragent, hits) for
              endpoint, field, known, useragent, _, _, hits in tally.field_rows())
    bodies = ((source, endpoint, useragent, count) for
              endpoint, useragent, _, _, count in tally.body_rows())
    return [(FIELDS_COPY, copytext.rows(fields)), (BODIES_COPY, copytext.rows(bodies))]


def depth_copies(depth: DepthTally, source: str) -> list[tuple[str, Iterator[bytes]]]:
    """The COPYs of a depth tally by user agent: (statement, its COPY text chunks)."""
    params = ((source, endpoint, parameter, value, useragent, hits) for
              endpoint, parameter, value, useragent, _, _, hits in depth.param_rows())
    codes = ((source, endpoint, code, useragent, hits) for
             endpoint, code, useragent, _, _, hits in depth.status_rows())
    return [(PARAMS_COPY, copytext.rows(params)), (CODES_COPY, copytext.rows(codes))]


# --- the webhook's batches ---------------------------------------------------------

class BadEventList(ValueError):
    """A request body that is not an audit.k8s.io EventList (the message is one line)."""


class BadBatch(ValueError):
    """An EventList one of whose events cannot be stored: the whole batch is refused.

    All or nothing, because the API server resends a refused batch whole: storing
    the good events of a batch and refusing it would store them again on every
    resend, and answering 200 would hide the bad event from whoever sent it."""

    def __init__(self, index: int, reason: str) -> None:
        super().__init__(f"items[{index}] is not a usable audit event: {reason}; "
                         "nothing of this batch was stored")


def parse_event_list(body: bytes) -> list[dict[str, Any]]:
    """The events of an EventList body; BadEventList says in one line why it is not one,
    BadBatch which item cannot be stored (see unstorable_item) or holds a number too
    large to read (see unreadable_number)."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        try:  # orjson checks the encoding first and then reports position 0
            body.decode()
        except UnicodeDecodeError as bad:
            raise BadEventList(f"body is not UTF-8 (byte {bad.start})") from exc
        unreadable = unreadable_number(body)
        if unreadable is not None:
            raise BadBatch(*unreadable) from exc
        raise BadEventList(f"body is not JSON (error at line {exc.lineno}, "
                           f"column {exc.colno})") from exc
    if not isinstance(document, dict):
        raise BadEventList(f"body is a JSON {type(document).__name__}, not an EventList object")
    kind, version = document.get("kind"), document.get("apiVersion")
    if kind != "EventList":
        raise BadEventList(f"kind is {kind!r}, expected 'EventList'")
    if version not in EVENT_LIST_VERSIONS:
        raise BadEventList(f"apiVersion is {version!r}, expected one of "
                           + ", ".join(EVENT_LIST_VERSIONS))
    items = document.get("items")
    if items is None:  # Go encodes an empty list as null
        return []
    if not isinstance(items, list):
        raise BadEventList(f"items is a JSON {type(items).__name__}, not a list")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadEventList(f"items[{index}] is a JSON {type(item).__name__}, not an Event")
    unstorable = unstorable_item(body)
    if unstorable is not None:
        raise BadBatch(*unstorable)
    return items


class _FloatText(str):
    """A JSON number with a fraction or exponent, as it was written."""


def _numbers(item: Any) -> Iterator[_FloatText]:
    """The numbers with a fraction or exponent in `item` (json.loads with parse_float=
    _FloatText), as they were written."""
    stack = [item]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, _FloatText):
            yield value


def unstorable_item(body: bytes) -> tuple[int, str] | None:
    """(index in items, reason) of the first EventList item holding a number that
    PostgreSQL's jsonb cannot hold (orjson reads 1e-99999 as 0.0: the number as it was
    written is checked); None when there is none."""
    try:
        check_storable(body)
        return None
    except BadEvent as exc:
        first = str(exc)
    try:
        document = json.loads(body, parse_float=_FloatText, parse_int=len)
    except RecursionError:
        return 0, first
    for index, item in enumerate(document.get("items") or ()):
        for value in _numbers(item):
            try:
                check_number(value)
            except BadEvent as exc:
                return index, str(exc)
    return None


def unreadable_number(body: bytes) -> tuple[int, str] | None:
    """(index in items, reason) of the first EventList item holding a number too large
    for a double (past ~1.8e308: orjson refuses the whole body), when the body is JSON
    otherwise; None when it is not, or holds none."""
    try:
        document = json.loads(body, parse_float=_FloatText, parse_int=len)
    except (ValueError, RecursionError):
        return None
    items = document.get("items") if isinstance(document, dict) else None
    for index, item in enumerate(items if isinstance(items, list) else ()):
        for value in _numbers(item):
            if math.isinf(float(value)):
                shown = value if len(value) <= 40 else value[:20] + "…" + value[-10:]
                return index, f"number {shown} is too large to read (beyond about 1.8e308)"
    return None


@dataclass(frozen=True)
class Batch:
    """One webhook batch made rows: the COPY text of its events, their field tally and
    their depth tally."""

    source: str
    events: int
    rows: bytes
    tally: FieldTally
    depth: DepthTally

    def copies(self) -> list[tuple[str, Iterable[bytes]]]:
        """Every COPY that stores it: (statement, COPY text chunks)."""
        if not self.events:
            return []
        tallies = tally_copies(self.tally, self.source) if self.tally.bodies else []
        depth = (depth_copies(self.depth, self.source)
                 if self.depth.params or self.depth.codes else [])
        return [(EVENTS_COPY, (self.rows,)), *tallies, *depth]


def batch(events: Iterable[dict[str, Any]], live: Mapping, source: str,
          received: dt.datetime) -> Batch:
    """The rows of a batch of `events` (see parse_event_list) from `source`; BadBatch,
    naming the item, when one of them cannot be stored."""
    rows = live.rows(source, received)
    out = []
    for index, event in enumerate(events):
        try:
            out.append(rows.row(orjson.dumps(event), event))
        except BadEvent as exc:
            raise BadBatch(index, str(exc)) from exc
        except orjson.JSONEncodeError as exc:  # nested deeper than orjson writes
            raise BadBatch(index, f"cannot be stored as JSON: {exc}") from exc
    assert rows.fields is not None and rows.depth is not None
    return Batch(source, rows.report.events, b"".join(out), rows.fields, rows.depth)


# The events of a batch its source has stored already (testing.audit_event_source_audit_id)
STORED_SQL = ("SELECT audit_id, data->>'stage' FROM testing.audit_event"
              " WHERE source = %s AND audit_id = ANY(%s)")


def event_key(event: dict[str, Any]) -> tuple[str, str | None] | None:
    """What makes an event the same event when resent: its auditID and stage (one request
    is sent once per stage under one auditID); None without an auditID."""
    audit_id, stage = event.get("auditID"), event.get("stage")
    if not isinstance(audit_id, str):
        return None
    return audit_id, stage if isinstance(stage, str) else None


def unseen(events: Sequence[dict[str, Any]],
           seen: set[tuple[str, str | None]]) -> list[dict[str, Any]]:
    """`events` but those whose key is in `seen` or repeats an earlier one's."""
    fresh = []
    for event in events:
        key = event_key(event)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        fresh.append(event)
    return fresh


async def store(conn: psycopg.AsyncConnection, built: Batch, events: Sequence[dict[str, Any]],
                live: Mapping, received: dt.datetime) -> Batch:
    """Append the events of a batch (`built` from `events` by `batch`) that its source has
    not stored yet, in one transaction; returns what was stored, once committed. Batches
    of one source take turns, so that a batch resent while the first is being stored is
    still stored once."""
    async with conn.transaction():
        await conn.execute("SELECT audit_run_lock(%s)", (built.source,))
        ids = sorted({key[0] for event in events if (key := event_key(event))})
        cursor = await conn.execute(STORED_SQL, (built.source, ids))
        fresh = unseen(events, set(await cursor.fetchall()))
        stored = built if len(fresh) == len(events) else batch(fresh, live, built.source,
                                                               received)
        for statement, chunks in stored.copies():
            async with conn.cursor().copy(statement) as copy:
                for chunk in chunks:
                    await copy.write(chunk)
    return stored


# --- log files (load --testing) -----------------------------------------------------

def load_logs(
    conn: psycopg.Connection,
    logs: Sequence[LogFile],
    source: str,
    *,
    skip_bad_lines: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> AuditReport:
    """Replace the live events of `source` with those of `logs` (read in the order
    given), received now: one transaction, in which nothing of `source` changes on any
    error; loads of the same source wait for each other."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.timezone.utc)
    rows = mapping(conn).rows(source, started_at)
    assert rows.fields is not None and rows.depth is not None
    with conn.transaction():
        conn.execute("SELECT audit_run_lock(%s)", (source,))
        for table in LIVE_TABLES:
            conn.execute(sql.SQL("DELETE FROM testing.{} WHERE source = %s").format(
                sql.Identifier(table)), (source,))
        with conn.cursor().copy(EVENTS_COPY) as copy:
            copy_logs(copy, logs, rows, rows.row, skip_bad_lines, on_progress)
        for statement, chunks in (*tally_copies(rows.fields, source),
                                  *depth_copies(rows.depth, source)):
            with conn.cursor().copy(statement) as copy:
                for chunk in chunks:
                    copy.write(chunk)
        report = rows.report
        report.depth_bounded = rows.depth.bounded
        loadlog.record(conn, "testing-audit", LIVE_RELEASE, source, started_at, report.events,
                       report.details())
    report.seconds = time.monotonic() - started
    return report
