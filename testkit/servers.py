"""Loopback HTTP servers over real files: a folder as it is, and the GitHub raw layout."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def serve_directory(root: Path) -> tuple[str, http.server.ThreadingHTTPServer]:
    """Serve `root` over HTTP on a free loopback port; returns (base URL, server)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def build_raw_mirror(root: Path, shared: Path) -> Path:
    """The GitHub raw layout (kubernetes/kubernetes/<ref>/<path>) over the real files:
    every shipped spec at its tag, conformance.yaml and ineligible_endpoints.yaml at 1.36."""
    repo = root / "kubernetes" / "kubernetes"
    for spec in sorted((shared / "openapi").glob("swagger-*.json.gz")):
        minor = spec.name.removeprefix("swagger-").removesuffix(".json.gz")
        target = repo / f"v{minor}.0" / "api" / "openapi-spec" / "swagger.json"
        target.parent.mkdir(parents=True)
        target.symlink_to(spec)
    testdata = repo / "v1.36.0" / "test" / "conformance" / "testdata"
    testdata.mkdir(parents=True)
    (testdata / "conformance.yaml").symlink_to(shared / "conformance" / "conformance.yaml")
    (testdata / "ineligible_endpoints.yaml").symlink_to(
        shared / "conformance" / "ineligible_endpoints.yaml")
    return root
