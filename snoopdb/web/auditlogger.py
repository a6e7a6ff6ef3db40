"""`snoopdb auditlogger`: the HTTP server a cluster's audit webhook backend posts to.

kube-apiserver's webhook backend (`--audit-webhook-config-file`) POSTs batches of
audit events as one `EventList`. Each batch is parsed and mapped to endpoints
before a database connection is taken, then written to `testing.audit_event`
with one COPY in one transaction, and acknowledged only once committed: a 200
means every event of the batch is stored, any other answer means none is, so the
API server can send a failed batch again without losing or doubling events.

Events are checked, mapped, tallied and stored as `load --testing` does
(loaders/live.py), against the newest loaded spec; every few seconds a cheap look at
`load_log` tells whether a spec was loaded since, and the mapping is rebuilt if so.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import logging
import os
import re
import stat
import time
from collections.abc import AsyncIterator

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
from snoopdb.loaders import live
from snoopdb.web.server import DB_TIMEOUT, one_line

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
HELLO = ("snoopdb auditlogger: POST audit.k8s.io EventLists (a kube-apiserver audit webhook) "
         "to /events; they are stored in testing.audit_event. GET /healthz for the database.")

# A spec load appends to load_log, so its newest id changes exactly when a spec
# (possibly the newest release's again, from a newer commit) was loaded.
SPEC_MARKER_SQL = "SELECT max(id) FROM load_log WHERE kind = 'spec'"
RETENTION_SQL = "SELECT delete_older_test_events(%s)"

log = logging.getLogger("snoopdb.web.auditlogger")


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
    """The server's state: the connection pool and the live events' Mapping."""

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
        self.mapping: live.Mapping | None = None
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

    async def current_mapping(self) -> live.Mapping:
        """The live Mapping (loaders/live.py), rebuilt when a spec was loaded since."""
        if self.mapping is not None and time.monotonic() < self._next_check:
            return self.mapping
        async with self._refresh:
            if self.mapping is not None and time.monotonic() < self._next_check:
                return self.mapping
            async with self.pool.connection() as conn:
                marker = (await (await conn.execute(SPEC_MARKER_SQL)).fetchone() or (None,))[0]
                if self.mapping is None or marker != self._marker:
                    mapping = await live.read_mapping(conn)
                    if self.mapping is None or mapping.release != self.mapping.release:
                        log.info("mapping live events with the spec of release %s",
                                 mapping.release)
                    self.mapping, self._marker = mapping, marker
            self._next_check = time.monotonic() + self.spec_check_interval
            return self.mapping

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
        """HELLO and the release live events are mapped against (null while no spec is
        loaded, or the database cannot be reached)."""
        try:
            release: str | None = (await self.current_mapping()).release
        except (NoSpecLoaded, PoolTimeout, psycopg.OperationalError):
            release = None
        return JSONResponse({"message": HELLO, "release": release})

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
            events = live.parse_event_list(body)
            source = f"webhook {request.client.host if request.client else 'unknown'}"
            mapping = await self.current_mapping()
            batch = live.batch(events, mapping, source, received)
            stored = 0
            if batch.events:
                async with self.pool.connection() as conn:
                    stored = (await live.store(conn, batch, events, mapping, received)).events
        except live.BadEventList as exc:
            return PlainTextResponse(f"not an EventList: {exc}\n", 400)
        except live.BadBatch as exc:
            return PlainTextResponse(f"{exc}\n", 400)
        except NoSpecLoaded as exc:
            # 503, not 400: the API server retries the batch once a spec is loaded.
            return PlainTextResponse(f"{exc}: run `snoopdb load --release X --only spec` so "
                                     "that live events can be mapped\n", 503)
        except (PoolTimeout, psycopg.OperationalError) as exc:
            log.warning("batch of %d events not stored: %s", len(events), one_line(exc))
            return PlainTextResponse(f"database unavailable: {one_line(exc)}\n", 503)
        log.debug("stored %d events from %s", stored, source)
        if stored < len(events):
            # the API server resent a batch whose answer it lost: its events are kept once
            log.info("%d of %d events from %s stored already (a resent batch): not stored "
                     "again", len(events) - stored, len(events), source)
            return JSONResponse({"events": stored, "duplicates": len(events) - stored})
        return JSONResponse({"events": stored})


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
