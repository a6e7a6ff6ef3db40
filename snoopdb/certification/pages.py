"""`--check-urls`: asking for PRODUCT.yaml's pages as the bot does, through a session
that connects to public addresses only."""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util.connection import create_connection

URL_TIMEOUT = (5, 20)
MAX_REDIRECTS = 10  # Go's http.Client default, the bot's client


def refused_address(address: str) -> str | None:
    """Why `--check-urls` will not connect to `address` (None when it will):
    loopback, link-local, private and other non-public addresses are refused, so a
    PRODUCT.yaml cannot make snoopdb probe the machine or its network."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(ip, f"is_{kind}"):
            return f"{kind.replace('_', '-')} address {ip}"
    return None


class RefusedAddress(Exception):
    """The URL leads to an address `--check-urls` does not connect to. Not an OSError,
    so neither urllib3 nor requests retries or wraps it."""


def _guarded(connection: type[HTTPConnection]) -> type[HTTPConnection]:
    class Guarded(connection):  # type: ignore[valid-type,misc]
        """Resolves the host itself, refuses the addresses that are not public, and
        connects to an address it checked: a refused address is never connected to (an
        open port and a closed one answer alike), and no later DNS answer can differ."""

        def _new_conn(self) -> socket.socket:
            try:
                answers = socket.getaddrinfo(self._dns_host, self.port,
                                             type=socket.SOCK_STREAM)
            except socket.gaierror as exc:
                raise NewConnectionError(self, f"host name not found: {exc}") from exc
            problems, failure = [], None
            for *_, address in answers:
                problem = refused_address(str(address[0]))
                if problem:
                    problems.append(problem)
                    continue
                try:
                    return create_connection((str(address[0]), self.port), self.timeout,
                                             source_address=self.source_address,
                                             socket_options=self.socket_options)
                except TimeoutError as exc:
                    raise ConnectTimeoutError(self, f"connecting to {self.host} timed out"
                                              ) from exc
                except OSError as exc:
                    failure = exc
            if failure is not None or not problems:
                raise NewConnectionError(self, f"no connection: {failure}")
            raise RefusedAddress(f"refused: {problems[0]}")

    return Guarded


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _guarded(HTTPConnection)


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _guarded(HTTPSConnection)  # type: ignore[assignment]


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool,
                                                   "https": _GuardedHTTPSPool}


def url_session(allow_private: bool = False) -> requests.Session:
    """The session `--check-urls` asks with: no proxy from the environment (the address
    checked must be the server's), at most MAX_REDIRECTS redirects, and unless
    `allow_private` only public addresses, checked before connecting to exactly the
    address checked (so neither DNS nor a redirect can lead elsewhere)."""
    session = requests.Session()
    session.trust_env = False
    session.max_redirects = MAX_REDIRECTS
    if not allow_private:
        session.mount("http://", _GuardedAdapter())
        session.mount("https://", _GuardedAdapter())
    return session


@dataclass(frozen=True)
class PageAnswer:
    """What asking for a URL gave: the final Content-Type (empty when the request
    failed or none was sent, as the bot sees it) and why it is not a good page."""

    content_type: str
    problem: str | None


def ask_page(session: requests.Session, url: str) -> PageAnswer:
    """HEAD `url` as the bot does, following redirects; a server that refuses HEAD is
    asked again with a streamed GET (headers only), for the status only."""
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        return PageAnswer("", "not an absolute URL: not asked")
    try:
        response = session.head(url, allow_redirects=True, timeout=URL_TIMEOUT)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code in (405, 501):
            with session.get(url, stream=True, timeout=URL_TIMEOUT) as response:
                pass
    except RefusedAddress as exc:
        return PageAnswer("", str(exc))
    except requests.RequestException as exc:
        return PageAnswer("", type(exc).__name__)
    if response.status_code != 200:
        return PageAnswer(content_type, f"HTTP {response.status_code}")
    content_type = response.headers.get("Content-Type", "")
    if "text/html" not in content_type:
        return PageAnswer(content_type, f"content type {content_type or 'none'}, not text/html")
    return PageAnswer(content_type, None)
