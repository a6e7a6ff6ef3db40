"""What the web servers share: running an ASGI app, and one-line error text."""

from __future__ import annotations

import errno
import socket

import uvicorn
from starlette.applications import Starlette

from snoopdb.core.errors import ConfigError

# How long a request waits for a database connection, and shutdown for requests in flight.
DB_TIMEOUT = 10.0


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_port(host: str, port: int) -> None:
    """Fail in one line when `host:port` cannot be listened on (busy, or not an address
    of this machine), before uvicorn would log a traceback-like error and exit."""
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        reason = "already in use" if exc.errno == errno.EADDRINUSE else exc.strerror
        raise ConfigError(f"cannot listen on {host}:{port}: {reason}") from exc


def serve(app: Starlette, host: str, port: int, *, log_level: str = "info") -> None:
    """Run `app` with uvicorn until interrupted (SIGINT/SIGTERM stop it cleanly);
    `info` logs every request, `warning` only problems."""
    check_port(host, port)
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, ws="none",
                            lifespan="on", timeout_graceful_shutdown=int(DB_TIMEOUT))
    uvicorn.Server(config).run()
