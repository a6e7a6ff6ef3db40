"""`snoopdb auditlogger`: the HTTP server a cluster's audit webhook backend posts to.

kube-apiserver's webhook backend (`--audit-webhook-config-file`) POSTs batches of
audit events as one `EventList`. Each batch is parsed and mapped to endpoints
before a database connection is taken, then written to `testing.audit_event`
with one COPY in one transaction, and acknowledged only once committed: a 200
means every event of the batch is stored, any other answer means none is, so the
API server can send a failed batch again without losing or doubling events.

Events are mapped with the same `Matcher` and `EventRows` as the CI loader,
against the newest loaded spec; every few seconds a cheap look at `load_log`
tells whether a spec was loaded since, and the matcher is rebuilt if so.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import math
import os
import re
import stat
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import orjson
import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from snoopdb.core import numbers
from snoopdb.core.errors import ConfigError, NoSpecLoaded
from snoopdb.coverage.fields import BodySchema, FieldTally, schemas_by_endpoint
from snoopdb.coverage.matching import Matcher
from snoopdb.db.queries import query
from snoopdb.loaders.audit import (
    EVENT_COLUMNS,
    LIVE_RELEASE,
    BadEvent,
    EventRows,
    check_number,
    check_storable,
)
from snoopdb.loaders.audit_store import copy_text
from snoopdb.loaders.fields import LIVE_BODY_COPY, LIVE_FIELD_COPY, live_rows
from snoopdb.web.app import DB_TIMEOUT, one_line

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9900
DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_RETAIN = dt.timedelta(hours=24)
# seconds a client has to send a whole body once its headers are in (a webhook
# batch is sent at once; a body dripped slower than this is an attack or a fault)
DEFAULT_BODY_TIMEOUT = 30.0
# Batches run concurrently on one event loop; a handful of connections keeps
# COPYs overlapping without crowding a small server (see docs/measured.md, "Live testing").
POOL_SIZE = 4
SPEC_CHECK_SECONDS = 5.0
LONGEST_RETENTION_SWEEP = dt.timedelta(minutes=5)
# The longest --retain: longer is "forever" in practice (0 says so), and PostgreSQL
# cannot subtract a retention of millions of days from now (every sweep failed).
LONGEST_RETAIN = dt.timedelta(days=3650)
EVENT_LIST_VERSIONS = ("audit.k8s.io/v1", "audit.k8s.io/v1beta1")
HELLO = ("snoopdb auditlogger: POST audit.k8s.io EventLists (a kube-apiserver audit webhook) "
         "to /events; they are stored in testing.audit_event. GET /healthz for the database.")

# A spec load appends to load_log, so its newest id changes exactly when a spec
# (possibly the newest release's again, from a newer commit) was loaded.
SPEC_MARKER_SQL = "SELECT max(id) FROM load_log WHERE kind = 'spec'"
NEWEST_RELEASE_SQL = "SELECT latest_release()"
OPERATIONS_SQL = "SELECT method, path, endpoint FROM open_api WHERE release = %s"
COPY_SQL = f"COPY testing.audit_event ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
RETENTION_SQL = "SELECT delete_older_test_events(%s)"

log = logging.getLogger("snoopdb.web.auditlogger")


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


_DURATION = re.compile(r"(\d+)([smhd])")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"(\d+)\s*([kmg]?)i?b?", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_duration(text: str) -> dt.timedelta | None:
    """`90s`, `30m`, `24h`, `7d` or a sum such as `1h30m`, at most LONGEST_RETAIN; `0`
    means never (None)."""
    text = text.strip().lower()
    if text == "0":
        return None
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise ConfigError(f"--retain: {text!r} is not a duration such as 30m, 24h or 7d "
                          "(0 keeps events forever)")
    # in seconds first (a timedelta of 99999999999 days is an OverflowError), of
    # numbers short enough for int() to read (it refuses more than 4,300 digits)
    seconds = sum(int(n[-12:]) * _DURATION_SECONDS[unit] for n, unit in parts)
    if seconds > LONGEST_RETAIN.total_seconds() or any(len(n.lstrip("0")) > 12 for n, _ in parts):
        raise ConfigError(f"--retain: {text} is longer than {LONGEST_RETAIN.days}d (10 years): "
                          "keep events at most that long, or forever with 0")
    return dt.timedelta(seconds=seconds) or None


def parse_size(text: str) -> int:
    """Bytes in `10MB`, `512KiB`, `1G` or `1048576` (K, M, G are powers of 1024)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None or int(match[1]) == 0:
        raise ConfigError(f"--max-body: {text!r} is not a size such as 10MB or 512KB")
    return int(match[1]) * _SIZE_UNITS[match[2].lower()]


def parse_event_list(body: bytes) -> list[dict[str, Any]]:
    """The events of an EventList body; BadEventList says in one line why it is not one,
    BadBatch which item holds a number too large to read."""
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


def event_rows(events: Iterable[dict[str, Any]], matcher: Matcher, source: str,
               received: dt.datetime, fields: FieldTally | None = None) -> bytes:
    """The COPY text of `events` for testing.audit_event (release `live`).

    release_date holds the time the batch was received in epoch milliseconds, as
    apisnoop's live tables do, so its "hit in the last minute" queries
    (`release_date::bigint > … - 60000`) keep working. `fields` tallies the
    fields their request bodies set.
    """
    received_ms = str(int(received.timestamp() * 1000))
    rows = EventRows(matcher, LIVE_RELEASE, received_ms, source, fields)
    out = []
    for index, event in enumerate(events):
        try:
            out.append(rows.row(orjson.dumps(event), event))
        except BadEvent as exc:
            raise BadBatch(index, str(exc)) from exc
        except orjson.JSONEncodeError as exc:  # nested deeper than orjson writes
            raise BadBatch(index, f"cannot be stored as JSON: {exc}") from exc
    return b"".join(out)


class _BearerToken:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>`."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token}".encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = dict(scope["headers"]).get(b"authorization", b"")
            if not hmac.compare_digest(given, self.expected):
                response = PlainTextResponse("missing or wrong bearer token\n", 401,
                                             headers={"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _AuditLogger:
    """The server's state: the connection pool and the matcher of the newest spec."""

    def __init__(self, database_url: str, *, max_body: int, retain: dt.timedelta | None,
                 retention_interval: float | None, pool_size: int, db_timeout: float,
                 spec_check_interval: float, body_timeout: float) -> None:
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.retain = retain
        self.retention_interval = None if retain is None else (
            retention_interval if retention_interval is not None
            else max(1.0, min(retain / 2, LONGEST_RETENTION_SWEEP).total_seconds()))
        self.spec_check_interval = spec_check_interval
        self.pool = AsyncConnectionPool(
            database_url, min_size=1, max_size=pool_size, open=False, timeout=db_timeout,
            kwargs={"autocommit": True}, check=AsyncConnectionPool.check_connection,
            name="auditlogger")
        self.matcher: Matcher | None = None
        self.schemas: dict[str, BodySchema] = {}
        self.release: str | None = None
        self._marker: object = None
        self._next_check = 0.0
        self._refresh = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        # wait=False: the server starts (and /healthz answers 503) even while the
        # database is down; the pool keeps trying to connect in the background.
        await self.pool.open(wait=False)
        sweeper = (asyncio.create_task(self._sweep_forever(self.retention_interval))
                   if self.retention_interval is not None else None)
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
            await self.pool.close()

    async def current_matcher(self) -> Matcher:
        """The matcher of the newest loaded spec, rebuilt when a spec was loaded since."""
        if self.matcher is not None and time.monotonic() < self._next_check:
            return self.matcher
        async with self._refresh:
            if self.matcher is not None and time.monotonic() < self._next_check:
                return self.matcher
            async with self.pool.connection() as conn:
                marker = (await (await conn.execute(SPEC_MARKER_SQL)).fetchone() or (None,))[0]
                if self.matcher is None or marker != self._marker:
                    row = await (await conn.execute(NEWEST_RELEASE_SQL)).fetchone()
                    release = row[0] if row else None
                    if release is None:
                        raise NoSpecLoaded()
                    operations = await (await conn.execute(OPERATIONS_SQL, (release,))).fetchall()
                    self.matcher = Matcher.from_operations(operations)
                    params = {"release": release}
                    endpoints = await (await conn.execute(
                        query("fields/endpoint_bodies.sql"), params)).fetchall()
                    fields = await (await conn.execute(
                        query("fields/body_schemas.sql"), params)).fetchall()
                    self.schemas = schemas_by_endpoint(endpoints, fields)
                    if release != self.release:
                        log.info("mapping live events with the spec of release %s", release)
                    self.release = release
                    self._marker = marker
            self._next_check = time.monotonic() + self.spec_check_interval
            return self.matcher

    async def store(self, rows: bytes, source: str, fields: FieldTally) -> None:
        """Write one batch's COPY text and its field tallies in one transaction;
        returns once committed."""
        source_rows = live_rows(fields, source)
        async with self.pool.connection() as conn, conn.transaction():
            async with conn.cursor().copy(COPY_SQL) as copy:
                await copy.write(rows)
            if fields.bodies:
                for statement, batch in zip((LIVE_FIELD_COPY, LIVE_BODY_COPY), source_rows,
                                            strict=True):
                    async with conn.cursor().copy(statement) as copy:
                        for chunk in copy_text(batch):
                            await copy.write(chunk)

    async def sweep(self) -> str:
        """Delete the live events older than --retain; snoopDB's 'N events removed'."""
        async with self.pool.connection() as conn:
            row = await (await conn.execute(RETENTION_SQL, (self.retain,))).fetchone()
        return row[0] if row else ""

    async def _sweep_forever(self, interval: float) -> None:
        while True:
            try:
                message = await self.sweep()
                log.debug("retention (%s): %s", self.retain, message)
            except (PoolTimeout, psycopg.Error) as exc:
                log.warning("retention sweep failed: %s", one_line(exc))
            await asyncio.sleep(interval)

    async def read_body(self, request: Request) -> bytes | None:
        """The body, or None when it is larger than max_body (read no further then).

        TimeoutError when it takes longer than body_timeout; ClientDisconnect when
        the client goes away first."""
        declared = request.headers.get("content-length")
        length = numbers.whole_number(declared) if declared is not None else None
        if length is not None and length > self.max_body:
            return None
        chunks, size = [], 0
        async with asyncio.timeout(self.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > self.max_body:
                    return None
                chunks.append(chunk)
        return b"".join(chunks)

    async def hello(self, request: Request) -> Response:
        return JSONResponse({"message": HELLO, "release": self.release})

    async def healthz(self, request: Request) -> Response:
        try:
            async with self.pool.connection() as conn:
                await conn.execute("SELECT 1")
        except (PoolTimeout, psycopg.Error) as exc:
            return JSONResponse({"database": "unreachable", "error": one_line(exc)}, 503)
        return JSONResponse({"database": "reachable"})

    async def events(self, request: Request) -> Response:
        received = dt.datetime.now(dt.timezone.utc)
        try:
            body = await self.read_body(request)
        except TimeoutError:
            return PlainTextResponse(f"body not received within {self.body_timeout:g} "
                                     "seconds\n", 408, headers={"Connection": "close"})
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it
        if body is None:
            return PlainTextResponse(f"body larger than the {self.max_body} byte limit\n", 413)
        try:
            events = parse_event_list(body)
            unstorable = unstorable_item(body)
            if unstorable is not None:
                raise BadBatch(*unstorable)
            matcher = await self.current_matcher()
            source = f"webhook {request.client.host if request.client else 'unknown'}"
            fields = FieldTally(self.schemas, by_useragent=True)
            rows = event_rows(events, matcher, source, received, fields)
            if rows:
                await self.store(rows, source, fields)
        except BadEventList as exc:
            return PlainTextResponse(f"not an EventList: {exc}\n", 400)
        except BadBatch as exc:
            return PlainTextResponse(f"{exc}\n", 400)
        except NoSpecLoaded as exc:
            # 503, not 400: the API server retries the batch once a spec is loaded.
            return PlainTextResponse(f"{exc}: run `snoopdb load --release X --only spec` so "
                                     "that live events can be mapped\n", 503)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            log.warning("batch of %d events not stored: %s", len(events), one_line(exc))
            return PlainTextResponse(f"database unavailable: {one_line(exc)}\n", 503)
        log.debug("stored %d events from %s", len(events), source)
        return JSONResponse({"events": len(events)})


def create_app(
    database_url: str,
    token: str | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    retain: dt.timedelta | None = DEFAULT_RETAIN,
    *,
    retention_interval: float | None = None,
    pool_size: int = POOL_SIZE,
    db_timeout: float = DB_TIMEOUT,
    spec_check_interval: float = SPEC_CHECK_SECONDS,
    body_timeout: float = DEFAULT_BODY_TIMEOUT,
) -> Starlette:
    """The auditlogger ASGI app: `GET /`, `GET /healthz`, `POST /events`.

    `token` (when given) is required of every request as a bearer token; bodies
    over `max_body` bytes get 413; events older than `retain` are deleted every
    `retention_interval` seconds (default: half of `retain`, at most 5 minutes);
    None keeps them. A database that does not answer within `db_timeout` seconds
    gets the request a 503. The newest spec is looked for at most every
    `spec_check_interval` seconds. A body not received within `body_timeout`
    seconds gets 408.
    """
    logger = _AuditLogger(database_url, max_body=max_body, retain=retain,
                          retention_interval=retention_interval, pool_size=pool_size,
                          db_timeout=db_timeout, spec_check_interval=spec_check_interval,
                          body_timeout=body_timeout)
    routes = [
        Route("/", logger.hello, methods=["GET"]),
        Route("/healthz", logger.healthz, methods=["GET"]),
        Route("/events", logger.events, methods=["POST"]),
    ]
    middleware = [Middleware(_BearerToken, token=token)] if token else []
    return Starlette(routes=routes, middleware=middleware, lifespan=logger.lifespan)


def read_token(path: str) -> str:
    """The bearer token in file `path` (surrounding whitespace dropped)."""
    try:
        with open(path, encoding="utf-8") as stream:
            token = stream.read().strip()
    except OSError as exc:
        raise ConfigError(f"--token-file {path}: {exc.strerror}") from exc
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"--token-file {path}: expected one token with no spaces")
    return token


def token_file_exposure(path: str) -> str | None:
    """Why the token file at `path` is readable by others than its owner, or None."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # read_token says why it cannot be read
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        return (f"--token-file {path} is readable by its group or others (mode "
                f"{stat.S_IMODE(mode):o}): anyone who reads it can post events; chmod 600 it")
    return None
