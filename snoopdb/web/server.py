"""What the web servers share: running an ASGI app, and one-line error text."""

from __future__ import annotations

import asyncio
import errno
import logging
import resource
import socket
import time
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from typing import Any

import h11
import uvicorn
from starlette.applications import Starlette
from uvicorn.protocols.http.h11_impl import H11Protocol

from snoopdb.core.errors import ConfigError

# How long a request waits for a database connection, and shutdown for requests in flight.
DB_TIMEOUT = 10.0


# Connections the kernel queues before the server accepts them (uvicorn's default).
BACKLOG = 2048

# File descriptors kept free beyond the connection limit: the database pool, logs,
# the listening socket.
SPARE_DESCRIPTORS = 64

log = logging.getLogger("snoopdb.web")


@dataclass(frozen=True)
class Limits:
    """What one client may hold of a server (docs/bounds.md, "HTTP clients").

    uvicorn has no deadline for a request's headers and accepts connections until
    the process runs out of file descriptors (then logs a traceback per accept):
    a few thousand clients sending one header line every few seconds would starve
    everyone else. These bound both."""

    # seconds a client has to send its request line and headers
    header_timeout: float = 10.0
    # open connections at most; past it a new one evicts the slowest still sending
    # its headers, or is closed at once when every connection is busy
    max_connections: int = 1000
    # seconds an idle keep-alive connection stays open
    keep_alive: int = 5
    # bytes of request line and headers at most: beyond, 414 when the request line
    # alone is longer, else 431 (BoundedConnection)
    max_header_bytes: int = 16 * 1024


class HeadTooLarge(Exception):
    """A request whose request line and headers exceed Limits.max_header_bytes: `status`
    is 414 when the request line alone exceeds it, 431 otherwise."""

    # RFC 9110's reason phrases (Python 3.11's HTTPStatus still says "Request-URI Too Long")
    REASONS = {414: b"URI Too Long", 431: b"Request Header Fields Too Large"}

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class BoundedConnection(h11.Connection):
    """h11's server connection with the request line and headers bounded as a whole.

    h11 enforces its max_incomplete_event_size only while a request's head is still
    arriving: a head that arrives complete in one read passes whatever its size (a
    20 KB URL in one packet did). This connection measures every request head it
    parses, complete or not, and raises HeadTooLarge past `max_head` bytes."""

    def __init__(self, max_head: int) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=max_head)
        self.max_head = max_head

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        idle = self.their_state is h11.IDLE
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as exc:
            if idle and exc.error_status_hint == 431:  # h11: the head is incomplete past max_head
                buffered = self.trailing_data[0]
                end = buffered.find(b"\r\n")
                raise self._too_large(len(buffered) if end < 0 else end + 2,
                                      len(buffered), complete=False) from exc
            raise
        if isinstance(event, h11.Request):
            line = len(event.method) + len(event.target) + len(b"  HTTP/1.1\r\n")
            head = line + sum(len(name) + len(value) + 4 for name, value
                              in event.headers.raw_items()) + 2
            if head > self.max_head:
                raise self._too_large(line, head, complete=True)
        return event

    def _too_large(self, line: int, head: int, *, complete: bool) -> HeadTooLarge:
        at_least = "" if complete else "at least "
        bound = f"the limit is {self.max_head:,} bytes of request line and headers"
        if line > self.max_head:
            return HeadTooLarge(414, f"request line of {at_least}{line:,} bytes: {bound}")
        return HeadTooLarge(431, f"request line and headers of {at_least}{head:,} bytes: {bound}")


def guarded_protocol(limits: Limits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with `limits`' header deadline, head size (BoundedConnection)
    and connection cap.

    At the cap, a new connection evicts the one that has waited longest for its
    headers to end (a slow client, or one that sent nothing): so slow clients
    cannot keep a valid one out, they only ever shorten each other's time. Only
    when every connection is busy with a request is the new one refused."""
    refused = {"count": 0, "logged": 0.0}
    # connections whose request line and headers are not all in yet, oldest first
    waiting: dict[H11Protocol, None] = {}

    class GuardedH11(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.conn = BoundedConnection(limits.max_header_bytes)

        def handle_events(self) -> None:
            try:
                super().handle_events()
            except HeadTooLarge as exc:
                self._refuse(exc.status, str(exc))

        def _refuse(self, status: int, message: str) -> None:
            """Answer `status` with `message` and close: the app never sees the request."""
            self._disarm_header_timer()
            body = message.encode() + b"\n"
            headers = [(b"content-type", b"text/plain; charset=utf-8"),
                       (b"content-length", str(len(body)).encode()), (b"connection", b"close")]
            for event in (h11.Response(status_code=status, headers=headers,
                                       reason=HeadTooLarge.REASONS[status]), h11.Data(data=body),
                          h11.EndOfMessage()):
                self.transport.write(self.conn.send(event) or b"")
            self.transport.close()

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            if len(self.connections) >= limits.max_connections:
                if waiting:
                    oldest = next(iter(waiting))
                    waiting.pop(oldest)
                    oldest.transport.abort()
                    _note_refused(refused, limits, "slowest connection closed")
                else:
                    self.transport = transport
                    transport.abort()
                    _note_refused(refused, limits, "connection refused")
                    return
            super().connection_made(transport)
            self._arm_header_timer()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE and self._header_timer is None:
                self._arm_header_timer()  # the next request on a kept-alive connection
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            self._header_timer = self.loop.call_later(limits.header_timeout, self._too_slow)
            waiting[self] = None

        def _disarm_header_timer(self) -> None:
            waiting.pop(self, None)
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _too_slow(self) -> None:
            self._header_timer = None
            waiting.pop(self, None)
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.abort()

    return GuardedH11


def _note_refused(refused: dict[str, float], limits: Limits, what: str) -> None:
    """Count a connection dropped at the cap; log the count at most once a minute, so
    that an attack makes a line a minute, not a line per connection."""
    refused["count"] += 1
    now = time.monotonic()
    if now - refused["logged"] >= 60:
        log.warning("%d connections dropped at the limit of %d open (the last: %s)",
                    refused["count"], limits.max_connections, what)
        refused["count"], refused["logged"] = 0, now


def allow_descriptors(limits: Limits) -> Limits:
    """`limits` with max_connections lowered to what the process's file descriptor
    limit allows (raising the soft limit towards the hard one first)."""
    needed = limits.max_connections + SPARE_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
        except (ValueError, OSError):
            pass
    if soft != resource.RLIM_INFINITY and soft < needed:
        return dataclass_replace(limits, max_connections=max(1, soft - SPARE_DESCRIPTORS))
    return limits


def server_config(app: Starlette, limits: Limits, *, host: str = "127.0.0.1", port: int = 0,
                  log_level: str = "info") -> uvicorn.Config:
    """The uvicorn configuration snoopdb's servers run with, `limits` enforced."""
    return uvicorn.Config(
        app, host=host, port=port, log_level=log_level, ws="none", lifespan="on",
        timeout_graceful_shutdown=int(DB_TIMEOUT), http=guarded_protocol(limits),
        timeout_keep_alive=limits.keep_alive,
        h11_max_incomplete_event_size=limits.max_header_bytes)


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on `host:port` (port 0: a free one) for `serve` to take; fails
    in one line when it cannot be had (busy, or not an address of this machine), before
    uvicorn would log a traceback-like error and exit."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except (OSError, OverflowError) as exc:
        sock.close()
        reason = ("already in use" if getattr(exc, "errno", None) == errno.EADDRINUSE
                  else getattr(exc, "strerror", None) or str(exc))
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from exc
    return sock


def base_url(sock: socket.socket) -> str:
    """`http://host:port` of a listening socket, with the port it really has."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(app: Starlette, sock: socket.socket, *, log_level: str = "info",
          limits: Limits = Limits()) -> None:
    """Run `app` with uvicorn on `sock` (see `listen`) until interrupted (SIGINT/SIGTERM
    stop it cleanly); `info` logs every request, `warning` only problems."""
    host, port = sock.getsockname()[:2]
    config = server_config(app, allow_descriptors(limits), host=host, port=port,
                           log_level=log_level)
    uvicorn.Server(config).run(sockets=[sock])
