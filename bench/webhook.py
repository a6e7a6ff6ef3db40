"""Load benchmark of `snoopdb auditlogger`: sustained events/s, latency, events lost.

Creates its own database on the server (dropped at the end), loads the 1.36 spec,
starts `snoopdb auditlogger` on a free loopback port, and has CLIENTS threads
post EventLists of BATCH events for SECONDS, each waiting for its answer before
sending the next batch, as kube-apiserver's batching webhook backend does. The
events are realistic (testkit.auditgen: ResponseComplete events of the spec's
operations from e2e tests and system components); every batch gets auditIDs of
its own, so that after the run the database tells exactly which acknowledged
events are missing (lost) or stored more than once.

    python -m bench.webhook [--clients 8] [--batch 100] [--seconds 30]
"""

from __future__ import annotations

import argparse
import gzip
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

import orjson
import requests

from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection, schema
from snoopdb.loaders import spec
from testkit.auditgen import (
    DEFAULT_CONFORMANCE,
    AuditLogGenerator,
    load_tests,
    release_version,
)
from testkit.databases import scratch_database

REPO = Path(__file__).resolve().parent.parent

DEFAULT_SPEC = REPO.parent / "shared" / "data" / "openapi" / "swagger-1.36.json.gz"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
# The placeholder each batch's auditIDs start with; replaced by the batch number.
MARK = b"@@@@@@@@"
DISTINCT_BATCHES = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_auditlogger(url: str, port: int, log: IO[bytes] | None = None) -> subprocess.Popen[bytes]:
    """`snoopdb auditlogger` on `port` over `url`, once its /healthz answers 200."""
    server = subprocess.Popen(
        [sys.executable, "-m", "snoopdb", "--database-url", url, "auditlogger",
         "--port", str(port), "--log-level", "warning"], stdout=log, stderr=log)
    for _ in range(100):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    server.terminate()
    raise SystemExit("the auditlogger did not become healthy")


def batch_templates(spec_path: Path, batch: int) -> list[bytes]:
    """EventList bodies whose auditIDs read `@@@@@@@@-<n>`; ResponseComplete only, as
    the audit policy of kind/ sends."""
    with gzip.open(spec_path, "rb") as stream:
        operations = list(spec.read_operations(stream, str(spec_path)))
    generator = AuditLogGenerator(operations, load_tests(DEFAULT_CONFORMANCE),
                                  version=release_version(spec_path), seed=1)
    events = (orjson.loads(line) for line in generator.lines(DISTINCT_BATCHES * batch * 2))
    complete = [e for e in events if e["stage"] == "ResponseComplete"]
    bodies = []
    for start in range(0, DISTINCT_BATCHES * batch, batch):
        items = complete[start:start + batch]
        for n, event in enumerate(items):
            event["auditID"] = f"{MARK.decode()}-{n}"
        bodies.append(orjson.dumps({"kind": "EventList", "apiVersion": "audit.k8s.io/v1",
                                    "items": items}))
    return bodies


class Client(threading.Thread):
    """Posts batches back to back until `deadline`; records latencies and acknowledged batches."""

    def __init__(self, number: int, url: str, bodies: list[bytes], deadline: float,
                 clients: int) -> None:
        super().__init__(daemon=True)
        self.number, self.url, self.bodies = number, url, bodies
        self.deadline, self.clients = deadline, clients
        self.latencies: list[float] = []
        self.acknowledged: list[int] = []
        self.failures: dict[str, int] = {}

    def run(self) -> None:
        session = requests.Session()
        headers = {"Content-Type": "application/json"}
        sequence = self.number
        while time.monotonic() < self.deadline:
            body = self.bodies[sequence % len(self.bodies)].replace(MARK, b"%08x" % sequence)
            started = time.perf_counter()
            try:
                response = session.post(self.url, data=body, headers=headers, timeout=30)
                status = str(response.status_code)
            except requests.RequestException as exc:
                status = type(exc).__name__
            self.latencies.append(time.perf_counter() - started)
            if status == "200":
                self.acknowledged.append(sequence)
            else:
                self.failures[status] = self.failures.get(status, 0) + 1
            sequence += self.clients


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=os.environ.get("SNOOPDB_BENCH_SERVER",
                                                               DEFAULT_SERVER),
                        help="PostgreSQL server on which to create the bench database")
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)

    with scratch_database(args.server_url, "snoopdb_bench") as url:
        server: subprocess.Popen[bytes] | None = None
        try:
            schema.migrate(url)
            with connection.connect(url) as conn, tempfile.TemporaryDirectory() as cache:
                spec.load(conn, Fetcher(Path(cache)), str(args.spec), "1.36.0", None, cache=False)
            bodies = batch_templates(args.spec, args.batch)
            port = free_port()
            server = start_auditlogger(url, port)
            base = f"http://127.0.0.1:{port}"

            deadline = time.monotonic() + args.seconds
            clients = [Client(n, f"{base}/events", bodies, deadline, args.clients)
                       for n in range(args.clients)]
            started = time.monotonic()
            for client in clients:
                client.start()
            for client in clients:
                client.join()
            elapsed = time.monotonic() - started

            acknowledged = {s for c in clients for s in c.acknowledged}
            with connection.connect(url) as conn:
                stored = dict(conn.execute(
                    "SELECT split_part(audit_id, '-', 1), count(*) FROM testing.audit_event"
                    " GROUP BY 1").fetchall())
            lost = sum(max(0, args.batch - stored.get(f"{s:08x}", 0)) for s in acknowledged)
            doubled = sum(max(0, n - args.batch) for n in stored.values())
            unacknowledged = sum(n for s, n in stored.items() if int(s, 16) not in acknowledged)
            latencies = sorted(t for c in clients for t in c.latencies)
            failures: dict[str, int] = {}
            for client in clients:
                for status, count in client.failures.items():
                    failures[status] = failures.get(status, 0) + count
            events = len(acknowledged) * args.batch
            print(f"{args.clients} clients x EventLists of {args.batch} events for {elapsed:.1f} s")
            print(f"accepted: {events:,} events in {len(acknowledged):,} batches: "
                  f"{events / elapsed:,.0f} events/s")
            print(f"latency per batch: p50 {statistics.median(latencies) * 1000:.1f} ms, "
                  f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")
            print(f"events lost (acknowledged, not stored): {lost}; stored twice: {doubled}; "
                  f"stored but not acknowledged: {unacknowledged}; failed requests: "
                  + (", ".join(f"{n} x {s}" for s, n in sorted(failures.items())) or "0"))
            return 1 if lost or doubled else 0
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
