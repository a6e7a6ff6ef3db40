"""A loopback server speaking the subset of the GCS JSON API snoopdb uses, over a
directory laid out as a bucket (`ROOT/<bucket>/<object name>`): listings and media
downloads of public objects; and, with an access token, resumable uploads (the
archive tier's writes) and an object's description and media."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import secrets
import threading
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from snoopdb.core.crc32c import crc32c
from testkit.faultserver import Answer, send

PAGE_SIZE = 2  # small, so every listing exercises nextPageToken
CHUNK_UNIT = 256 * 1024  # every chunk of an upload but the last is a multiple of it


@dataclass
class Upload:
    """A resumable upload session: the object it makes, the bytes it holds so far, its
    declared size, and the MD5 the object must have (from the session's metadata)."""

    bucket: str
    name: str
    size: int | None
    md5: str | None
    received: bytearray = field(default_factory=bytearray)


class GcsServer:
    """Serves listings (`/storage/v1/b/<bucket>/o`) and media (`/<bucket>/<object>`).

    `fail_first[name] = n` makes the first n downloads of object `name` answer 500;
    `faults[name]` are answers (testkit.faultserver) given to its next downloads
    in turn, before the object itself. Listings carry each object's size, MD5 and
    CRC-32C as GCS lists them (`md5Hash` is left out of objects named in
    `composite`, as GCS does for composite objects; `crc32c` only given for
    those). `requests` counts downloads per object name.
    """

    def __init__(self, root: Path, token: str | None = None):
        self.root = root
        self.fail_first: dict[str, int] = {}
        self.faults: dict[str, list[Answer]] = {}
        self.composite: set[str] = set()
        self.stop = threading.Event()
        self.requests: Counter[str] = Counter()
        # uploads: the token they need; sessions by id; the answers given to the next
        # chunks in turn (an int: that status, the chunk dropped; "cut": the connection
        # closed after half the chunk is read, none of it kept); the chunks received
        self.token = token
        self.uploads: dict[str, Upload] = {}
        self.chunk_faults: list[int | str] = []
        self.chunks: list[tuple[str, int]] = []
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
                if url.path.startswith("/storage/v1/b/") and parts[5:6] == ["o"]:
                    if not self._authorized():
                        return
                    name = urllib.parse.unquote("/".join(parts[6:]))
                    path = server.root / parts[4] / name
                    if not path.is_file():
                        self._send(404, json.dumps({"error": {"code": 404, "message":
                                                              "No such object"}}).encode())
                    elif "alt=media" in url.query:
                        server.requests[name] += 1
                        self._send(200, path.read_bytes())
                    else:
                        self._send(200, json.dumps(server._item(
                            parts[4], server.root / parts[4], name)).encode())
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

            def _send(self, status: int, body: bytes,
                      headers: tuple[tuple[str, str], ...] = ()) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self) -> bool:
                if server.token is None or (self.headers.get("Authorization")
                                            == f"Bearer {server.token}"):
                    return True
                self._send(401, json.dumps({"error": {"code": 401, "message":
                                                      "Invalid Credentials"}}).encode())
                return False

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                parts = url.path.split("/")
                query = dict(urllib.parse.parse_qsl(url.query))
                if (parts[1:5] != ["upload", "storage", "v1", "b"] or parts[6:] != ["o"]
                        or query.get("uploadType") != "resumable"):
                    self._send(404, b"Not Found")
                    return
                body = self._body()
                if not self._authorized():
                    return
                metadata = json.loads(body or b"{}")
                declared = self.headers.get("X-Upload-Content-Length")
                upload_id = secrets.token_hex(8)
                server.uploads[upload_id] = Upload(
                    parts[5], query.get("name") or metadata["name"],
                    int(declared) if declared else None, metadata.get("md5Hash"))
                location = (f"{server.url}/upload/storage/v1/b/{parts[5]}/o?"
                            + urllib.parse.urlencode({"uploadType": "resumable",
                                                      "upload_id": upload_id}))
                self._send(200, b"", (("Location", location),))

            def do_PUT(self) -> None:
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                upload = server.uploads.get(query.get("upload_id", ""))
                if upload is None:
                    self._send(404, b"No such upload")
                    return
                span = self.headers.get("Content-Range", "")
                length = int(self.headers.get("Content-Length") or 0)
                if length and server.chunk_faults:
                    fault = server.chunk_faults.pop(0)
                    if fault == "cut":
                        self.rfile.read(length // 2)
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    self._body()
                    self._send(int(fault), b"try again")
                    return
                chunk = self._body()
                if not self._authorized():
                    return
                found = re.fullmatch(r"bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)", span)
                if found is None:
                    self._send(400, b"bad Content-Range")
                    return
                first, total = found.group(1), found.group(3)
                if first is not None:
                    if int(first) != len(upload.received):
                        self._send(400, b"not the next byte")  # GCS: resends overlap
                        return
                    if (int(found.group(2)) + 1 < int(total if total != "*" else 0)
                            and len(chunk) % CHUNK_UNIT):
                        self._send(400, b"a chunk but the last must be a multiple of 256 KiB")
                        return
                    upload.received += chunk
                    server.chunks.append((upload.name, len(chunk)))
                if total != "*" and len(upload.received) == int(total):
                    self._finish(upload)
                    return
                held = len(upload.received)
                self._send(308, b"", (("Range", f"bytes=0-{held - 1}"),) if held else ())

            def _finish(self, upload: Upload) -> None:
                content = bytes(upload.received)
                md5 = base64.b64encode(hashlib.md5(content, usedforsecurity=False).digest()
                                       ).decode()
                if upload.md5 is not None and upload.md5 != md5:
                    self._send(400, json.dumps({"error": {"code": 400, "message":
                               "Provided MD5 hash does not match"}}).encode())
                    return
                path = server.root / upload.bucket / upload.name
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(f".{path.name}.uploading")
                partial.write_bytes(content)
                partial.replace(path)  # as GCS: the object whole, or the old one
                self._send(200, json.dumps(server._item(
                    upload.bucket, server.root / upload.bucket, upload.name)).encode())

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
