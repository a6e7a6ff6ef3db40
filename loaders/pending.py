"""pending_eligible_endpoints.yaml → `conformance.pending_eligible_endpoint`: endpoints
eligible for conformance that may wait for a test. Loaded as the ineligible list is
(loaders/ineligible.py): one list, the release's, replaced whole."""

from __future__ import annotations

import datetime as dt

import psycopg

from snoopdb.core import bounds
from snoopdb.core.errors import InputError, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.core.safeyaml import load_bounded
from snoopdb.db import loadlog, locks

PATH = "test/conformance/testdata/pending_eligible_endpoints.yaml"


def parse(content: bytes, origin: str) -> frozenset[str]:
    """The endpoints of a pending_eligible_endpoints.yaml: a YAML list of operationIds."""
    entries = load_bounded(content, source=origin)
    if entries is None:
        return frozenset()
    if not isinstance(entries, list) or not all(isinstance(e, str) and e for e in entries):
        raise InputError(f"{origin}: expected a list of endpoint names (operationIds)")
    for number, entry in enumerate(entries, 1):
        if "\x00" in entry:
            raise InputError(f"{origin}: entry #{number} holds a NUL character")
    return frozenset(entries)


def load(
    conn: psycopg.Connection, fetcher: Fetcher, location: str, release: str
) -> tuple[int, str | None]:
    """Replace `conformance.pending_eligible_endpoint` with the list at `location` (a URL,
    a mirror's file or a Kubernetes checkout's). Returns (row count, warning): most
    releases have no such file, which is an empty list, with a warning saying so."""
    started = dt.datetime.now(dt.timezone.utc)
    warning = None
    try:
        endpoints = parse(fetcher.read_bytes(location, bound=bounds.YAML, cache=False), location)
    except NotFound:
        endpoints = frozenset()
        warning = f"{location}: not found; release {release} has no pending endpoints list"
    with conn.transaction():
        locks.serialise(conn, "pending")
        conn.execute("DELETE FROM conformance.pending_eligible_endpoint")
        with conn.cursor().copy(
            "COPY conformance.pending_eligible_endpoint (endpoint) FROM STDIN"
        ) as copy:
            for endpoint in sorted(endpoints):
                copy.write_row((endpoint,))
        loadlog.record(conn, "pending", release, location, started, len(endpoints))
    return len(endpoints), warning
