"""A loopback HTTP server that misbehaves on purpose: bodies cut short (with and
without Content-Length, chunked or not), HTML where a file was expected, bursts
of 5xx, bodies or headers dripped a byte at a time, requests never answered,
listings that repeat their page token or never end. Tests script each path's
answers in order (`Answer`), or answer every request by a function (`respond`)."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One answer to a request. `length`: send Content-Length (else the body ends
    when the connection closes, as HTTP/1.0 allows); `chunked`: send the body in
    chunked encoding instead (a cut then misses its last, empty chunk); `cut_at`:
    close the connection after this many bytes of the body; `drip`: seconds
    between bytes of the body; `header_drip`: seconds between bytes of the status
    line and headers; `hang`: read the request and never answer; `headers`: more
    headers, sent as Latin-1 (HTTP's own: `²` goes as the byte 0xB2)."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    length: bool = True
    chunked: bool = False
    cut_at: int | None = None
    drip: float | None = None
    header_drip: float | None = None
    hang: bool = False
    headers: tuple[tuple[str, str], ...] = ()


def html_page() -> Answer:
    """What a login or captive portal answers in place of the file: 200 and a page."""
    return Answer(b"<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n",
                  content_type="text/html; charset=utf-8")


def send(handler: http.server.BaseHTTPRequestHandler, answer: Answer,
         stop: threading.Event) -> None:
    """Write `answer` on `handler`'s connection (the handler speaks HTTP/1.0, so the
    connection closes after it)."""
    if answer.hang:
        stop.wait()
        return
    lines = [f"HTTP/1.0 {answer.status} {handler.responses.get(answer.status, ('',))[0]}",
             f"Content-Type: {answer.content_type}"]
    body = answer.body
    if answer.chunked:
        lines.append("Transfer-Encoding: chunked")
        body = b"".join(b"%x\r\n%s\r\n" % (len(body[at:at + 100]), body[at:at + 100])
                        for at in range(0, len(body), 100)) + b"0\r\n\r\n"
    elif answer.length:
        lines.append(f"Content-Length: {len(body)}")
    lines += [f"{name}: {value}" for name, value in answer.headers]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if answer.cut_at is not None:
        body = body[:answer.cut_at]
    try:
        _write(handler, head, answer.header_drip, stop)
        _write(handler, body, answer.drip, stop)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up: what the test is about


def _write(handler: http.server.BaseHTTPRequestHandler, data: bytes, drip: float | None,
           stop: threading.Event) -> None:
    if drip is None:
        handler.wfile.write(data)
        return
    for index in range(len(data)):
        if stop.wait(drip):
            return
        handler.wfile.write(data[index:index + 1])
        handler.wfile.flush()


class FaultServer:
    """Answers each path (query string ignored) with its scripted answers in turn;
    the last one repeats; a path given a function (`respond`) is answered by what it
    returns for the request's query. Unscripted paths get 404. `requests` counts
    per path."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.responders: dict[str, Callable[[dict[str, list[str]]], Answer]] = {}
        self.requests: Counter[str] = Counter()
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                parts = urllib.parse.urlsplit(self.path)
                path = parts.path
                server.requests[path] += 1
                responder = server.responders.get(path)
                if responder is not None:
                    send(self, responder(urllib.parse.parse_qs(parts.query)), server.stop)
                    return
                queue = server.answers.get(path)
                if not queue:
                    send(self, Answer(b"no such path", status=404), server.stop)
                    return
                send(self, queue.pop(0) if len(queue) > 1 else queue[0], server.stop)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def script(self, path: str, *answers: Answer) -> str:
        """Answer `path` with `answers` in turn; returns its URL."""
        self.answers[path] = list(answers)
        return self.url + path

    def respond(self, path: str, answer: Callable[[dict[str, list[str]]], Answer]) -> str:
        """Answer `path` with `answer(query)`, the query string parsed; returns its URL."""
        self.responders[path] = answer
        return self.url + path

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
