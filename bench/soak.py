"""Soak of `snoopdb auditlogger` under a slow-client attack: valid events/s, and
whether every acknowledged event is stored exactly once.

Creates its own database (dropped at the end), loads the 1.36 spec, starts
`snoopdb auditlogger` on a free loopback port with its log in a file, then:
1. BASELINE seconds of CLIENTS valid clients alone (bench.webhook's clients:
   EventLists of BATCH events back to back, each waiting for its answer);
2. SECONDS of the same clients while SLOW connections each send one header
   line every INTERVAL seconds and never finish their request (reconnecting,
   at most RECONNECTS per second, when the server cuts them off).
It prints events/s of both phases, the slow connections cut off, the server's
log size, and acknowledged vs stored events (lost, doubled). Loopback only;
bounded in time and connections.

    python -m bench.soak [--clients 8] [--slow 2000] [--seconds 60] [--baseline 10]
"""

from __future__ import annotations

import argparse
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.webhook import (
    DEFAULT_SERVER,
    DEFAULT_SPEC,
    Client,
    batch_templates,
    free_port,
    start_auditlogger,
)
from snoopdb.core.fetch import Fetcher
from snoopdb.db import connection, schema
from snoopdb.loaders import spec
from testkit.databases import scratch_database

HEADER_LINE = b"X-Slow: 1\r\n"


class SlowClients(threading.Thread):
    """Holds up to `count` connections that send a header line every `interval`
    seconds and never end their headers; counts those the server cut off."""

    def __init__(self, port: int, count: int, interval: float, reconnects: int,
                 deadline: float) -> None:
        super().__init__(daemon=True)
        self.port, self.count, self.interval = port, count, interval
        self.reconnects, self.deadline = reconnects, deadline
        self.opened = self.cut_off = self.refused = self.most_open = 0

    def run(self) -> None:
        selector = selectors.DefaultSelector()
        due: dict[socket.socket, float] = {}
        budget, budget_at = 0.0, time.monotonic()
        while (now := time.monotonic()) < self.deadline:
            budget = min(self.reconnects, budget + (now - budget_at) * self.reconnects)
            budget_at = now
            while len(due) < self.count and budget >= 1:
                budget -= 1
                try:
                    client = socket.create_connection(("127.0.0.1", self.port), timeout=1)
                    client.sendall(b"POST /events HTTP/1.1\r\nHost: soak\r\n")
                except OSError:
                    self.refused += 1
                    continue
                client.setblocking(False)
                selector.register(client, selectors.EVENT_READ)
                due[client] = now + self.interval
                self.opened += 1
            self.most_open = max(self.most_open, len(due))
            closed = [key.fileobj for key, _ in selector.select(timeout=0.05)]
            for client, at in list(due.items()):
                if at <= now and client not in closed:
                    try:
                        client.send(HEADER_LINE)
                        due[client] = now + self.interval
                    except OSError:
                        closed.append(client)
            for client in set(closed):
                assert isinstance(client, socket.socket)
                try:
                    gone = client.recv(4096) == b""
                except BlockingIOError:
                    continue
                except OSError:
                    gone = True
                if gone:
                    self.cut_off += 1
                    selector.unregister(client)
                    client.close()
                    due.pop(client, None)
        for client in due:
            client.close()
        selector.close()


def run_clients(base: str, bodies: list[bytes], count: int, seconds: float,
                first: int) -> tuple[list[Client], float]:
    """`count` valid clients for `seconds`; batch numbers start at `first`."""
    deadline = time.monotonic() + seconds
    clients = [Client(first + n, f"{base}/events", bodies, deadline, count)
               for n in range(count)]
    started = time.monotonic()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    return clients, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-url", default=os.environ.get("SNOOPDB_BENCH_SERVER",
                                                               DEFAULT_SERVER))
    parser.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--slow", type=int, default=2000, help="slow connections to hold")
    parser.add_argument("--interval", type=float, default=5.0,
                        help="seconds between a slow connection's header lines")
    parser.add_argument("--reconnects", type=int, default=500,
                        help="new slow connections per second at most")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline", type=float, default=10.0)
    args = parser.parse_args(argv)

    with scratch_database(args.server_url, "snoopdb_soak") as url, \
            tempfile.TemporaryDirectory() as work:
        server: subprocess.Popen[bytes] | None = None
        log_path = Path(work) / "auditlogger.log"
        try:
            schema.migrate(url)
            with connection.connect(url) as conn:
                spec.load(conn, Fetcher(Path(work)), str(args.spec), "1.36.0", None, cache=False)
            bodies = batch_templates(args.spec, args.batch)
            port = free_port()
            with log_path.open("wb") as log:
                server = start_auditlogger(url, port, log)
            base = f"http://127.0.0.1:{port}"

            calm, calm_seconds = run_clients(base, bodies, args.clients, args.baseline, 0)
            first = 1 + max(s for c in calm for s in c.acknowledged) if calm else 0
            slow = SlowClients(port, args.slow, args.interval, args.reconnects,
                               time.monotonic() + args.seconds + 2)
            slow.start()
            time.sleep(2)  # let the attack build up first
            attacked, attacked_seconds = run_clients(base, bodies, args.clients, args.seconds,
                                                     first)
            slow.join()

            acknowledged = [s for c in calm + attacked for s in c.acknowledged]
            with connection.connect(url) as conn:
                stored = dict(conn.execute(
                    "SELECT split_part(audit_id, '-', 1), count(*) FROM testing.audit_event"
                    " GROUP BY 1").fetchall())
            lost = sum(max(0, args.batch - stored.get(f"{s:08x}", 0)) for s in acknowledged)
            doubled = sum(max(0, n - args.batch) for n in stored.values())
            acknowledged_events = len(set(acknowledged)) * args.batch
            stored_events = sum(stored.values())

            def rate(clients: list[Client], seconds: float) -> str:
                events = sum(len(c.acknowledged) for c in clients) * args.batch
                failed: dict[str, int] = {}
                for client in clients:
                    for status, n in client.failures.items():
                        failed[status] = failed.get(status, 0) + n
                return (f"{events / seconds:,.0f} valid events/s ({events:,} in {seconds:.1f} s"
                        + (", failed requests: " + ", ".join(
                            f"{n} x {s}" for s, n in sorted(failed.items())) if failed else "")
                        + ")")

            print(f"{args.clients} clients x EventLists of {args.batch} events")
            print(f"alone:        {rate(calm, calm_seconds)}")
            print(f"under attack: {rate(attacked, attacked_seconds)}")
            print(f"attack: {args.slow} slow connections wanted, {slow.most_open} open at most, "
                  f"{slow.opened} opened, {slow.cut_off} cut off by the server, "
                  f"{slow.refused} refused at connect")
            print(f"auditlogger log: {log_path.stat().st_size:,} bytes")
            print(f"acknowledged {acknowledged_events:,} events, stored {stored_events:,}: "
                  f"lost {lost}, stored twice {doubled}")
            return 1 if lost or doubled or acknowledged_events != stored_events else 0
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
                tail = log_path.read_text(errors="replace").splitlines()[-5:]
                if tail:
                    print("auditlogger log ends:", *tail, sep="\n  ")


if __name__ == "__main__":
    sys.exit(main())
