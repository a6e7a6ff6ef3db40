"""A loopback server speaking the subset of the GCS JSON API snoopdb uses, over a
directory laid out as a bucket (`ROOT/<bucket>/<object name>`)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import threading
import urllib.parse
from collections import Counter
from pathlib import Path

from snoopdb.core.crc32c import crc32c
from testkit.faultserver import Answer, send

PAGE_SIZE = 2  # small, so every listing exercises nextPageToken


class GcsServer:
    """Serves listings (`/storage/v1/b/<bucket>/o`) and media (`/<bucket>/<object>`).

    `fail_first[name] = n` makes the first n downloads of object `name` answer 500;
    `faults[name]` are answers (testkit.faultserver) given to its next downloads
    in turn, before the object itself. Listings carry each object's size, MD5 and
    CRC-32C as GCS lists them (`md5Hash` is left out of objects named in
    `composite`, as GCS does for composite objects; `crc32c` only given for
    those). `requests` counts downloads per object name.
    """

    def __init__(self, root: Path):
        self.root = root
        self.fail_first: dict[str, int] = {}
        self.faults: dict[str, list[Answer]] = {}
        self.composite: set[str] = set()
        self.stop = threading.Event()
        self.requests: Counter[str] = Counter()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                parts = url.path.split("/")
                if url.path.startswith("/storage/v1/b/") and parts[5:] == ["o"]:
                    query = dict(urllib.parse.parse_qsl(url.query))
                    self._send(200, json.dumps(server.listing(parts[4], query)).encode())
                    return
                bucket, name = parts[1], urllib.parse.unquote("/".join(parts[2:]))
                server.requests[name] += 1
                if server.faults.get(name):
                    send(self, server.faults[name].pop(0), server.stop)
                    return
                if server.fail_first.get(name, 0) > 0:
                    server.fail_first[name] -= 1
                    self._send(500, b"try again")
                    return
                path = server.root / bucket / name
                if not path.is_file():
                    self._send(404, b"No such object")
                    return
                self._send(200, path.read_bytes())

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def listing(self, bucket: str, query: dict[str, str]) -> dict:
        prefix, delimiter = query.get("prefix", ""), query.get("delimiter")
        base = self.root / bucket
        names = sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_file())
        entries: list[tuple[str, bool]] = []  # (name or prefix, is_prefix)
        for name in names:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            if delimiter and delimiter in rest:
                sub = prefix + rest.split(delimiter, 1)[0] + delimiter
                if (sub, True) not in entries:
                    entries.append((sub, True))
            else:
                entries.append((name, False))
        start = int(query.get("pageToken", "0"))
        page = entries[start:start + PAGE_SIZE]
        result: dict = {"kind": "storage#objects"}
        items = [self._item(bucket, base, n) for n, is_prefix in page if not is_prefix]
        prefixes = [n for n, is_prefix in page if is_prefix]
        if items:
            result["items"] = items
        if prefixes:
            result["prefixes"] = prefixes
        if start + PAGE_SIZE < len(entries):
            result["nextPageToken"] = str(start + PAGE_SIZE)
        return result

    def _item(self, bucket: str, base: Path, name: str) -> dict:
        content = (base / name).read_bytes()
        item = {"name": name, "bucket": bucket, "size": str(len(content)),
                "generation": str((base / name).stat().st_mtime_ns)}
        if name in self.composite:
            # GCS lists a CRC-32C for every object; computed here only where the
            # client needs it (pure Python, slow on the larger samples)
            item["crc32c"] = base64.b64encode(crc32c(content).to_bytes(4, "big")).decode()
        else:
            digest = hashlib.md5(content, usedforsecurity=False).digest()
            item["md5Hash"] = base64.b64encode(digest).decode()
        return item

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
