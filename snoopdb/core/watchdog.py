"""A deadline over a whole HTTP exchange: sending the request, the status line and
headers, and the body.

A read timeout bounds each wait for one byte, so a server that sends a byte of its
headers just before every timeout would hold a download for ever. Instead, every
connection an attempt opens or reuses is registered with the attempt's `Watch`, and
when the deadline passes a timer shuts the connection down: a read blocked on it
returns at once, whatever the phase. `session()` is a requests session whose
connections register themselves with the watch of the thread using them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.poolmanager

_local = threading.local()


class Watch:
    """Shuts down the connections registered with it once `seconds` have passed; while
    entered, the connections the current thread opens or reuses are registered."""

    def __init__(self, seconds: float):
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> Watch:
        _local.watch = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _local.watch = None

    def add(self, sock: object) -> None:
        if not isinstance(sock, socket.socket):
            return  # TLS inside a TLS proxy: urllib3's own transport, not a socket
        with self._lock:
            if self.fired:
                _shut(sock)
            else:
                self._sockets.append(sock)

    def _fire(self) -> None:
        with self._lock:
            self.fired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    # the plain socket's shutdown, also for a TLS socket: its TLS state stays with
    # the thread reading it, which sees the end of the stream
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _register(sock: object) -> None:
    watch = getattr(_local, "watch", None)
    if watch is not None and sock is not None:
        watch.add(sock)


class _HTTPConnection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _register(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self.sock)  # a kept-alive connection, reused
        super().request(*args, **kwargs)


class _HTTPSConnection(urllib3.connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _register(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _register(self.sock)
        super().request(*args, **kwargs)


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class _Adapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = POOLS

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is urllib3.poolmanager.ProxyManager:  # SOCKS keeps its own pools
            manager.pool_classes_by_scheme = POOLS
        return manager


def session() -> requests.Session:
    """A requests session whose connections a `Watch` can shut down. It asks for gzip
    alone (requests offers deflate too): the one content encoding fetch decodes, under
    the bound of what it reads."""
    made = requests.Session()
    made.headers["Accept-Encoding"] = "gzip"
    made.mount("http://", _Adapter())
    made.mount("https://", _Adapter())
    return made
