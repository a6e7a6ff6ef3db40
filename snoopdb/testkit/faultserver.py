"""A loopback HTTP server that misbehaves on purpose: bodies cut short (with and
without Content-Length), HTML where a file was expected, bursts of 5xx, bodies
dripped a byte at a time, requests never answered, listings that repeat their
page token. Tests script each path's answers in order (`Answer`)."""

from __future__ import annotations

import http.server
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    """One answer to a request. `length`: send Content-Length (else the body ends
    when the connection closes, as HTTP/1.0 allows); `cut_at`: close the
    connection after this many bytes of the body; `drip`: seconds between bytes;
    `hang`: read the request and never answer."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/octet-stream"
    length: bool = True
    cut_at: int | None = None
    drip: float | None = None
    hang: bool = False


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
    handler.send_response(answer.status)
    handler.send_header("Content-Type", answer.content_type)
    if answer.length:
        handler.send_header("Content-Length", str(len(answer.body)))
    handler.end_headers()
    body = answer.body if answer.cut_at is None else answer.body[:answer.cut_at]
    try:
        if answer.drip is None:
            handler.wfile.write(body)
            return
        for index in range(len(body)):
            if stop.wait(answer.drip):
                return
            handler.wfile.write(body[index:index + 1])
            handler.wfile.flush()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the client gave up: what the test is about


class FaultServer:
    """Answers each path (query string ignored) with its scripted answers in turn;
    the last one repeats. Unscripted paths get 404. `requests` counts per path."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Answer]] = {}
        self.requests: Counter[str] = Counter()
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                server.requests[path] += 1
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

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
