"""ineligible_endpoints.yaml → `conformance.ineligible_endpoint`."""

from __future__ import annotations

import datetime as dt

import psycopg

from snoopdb.core import bounds
from snoopdb.core.errors import InputError, NotFound
from snoopdb.core.fetch import Fetcher
from snoopdb.core.safeyaml import load_bounded
from snoopdb.db import loadlog, locks, refresh

PATH = "test/conformance/testdata/ineligible_endpoints.yaml"


def parse(content: bytes, origin: str) -> list[tuple[str, str, str]]:
    """(endpoint, reason, link) for each entry."""
    entries = load_bounded(content, source=origin) or []
    if not isinstance(entries, list):
        raise InputError(f"{origin}: expected a list of {{endpoint, reason, link}}")
    rows = {}
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not entry.get("endpoint"):
            raise InputError(f"{origin}: entry #{number} has no endpoint")
        for name in ("endpoint", "reason", "link"):
            if not isinstance(entry.get(name) or "", str):
                raise InputError(f"{origin}: entry #{number}: {name} is a "
                                 f"{type(entry[name]).__name__}, not text")
            if "\x00" in (entry.get(name) or ""):
                raise InputError(f"{origin}: entry #{number}: {name} holds a NUL character")
        rows[entry["endpoint"]] = (
            entry["endpoint"], str(entry.get("reason") or ""), str(entry.get("link") or "")
        )
    return list(rows.values())


def load(
    conn: psycopg.Connection, fetcher: Fetcher, location: str, release: str
) -> tuple[int, str | None]:
    """Replace `conformance.ineligible_endpoint` with the list at `location`.

    Returns (row count, warning). Releases before the file existed answer 404:
    that is an empty list, with a warning saying so.
    """
    started = dt.datetime.now(dt.timezone.utc)
    warning = None
    try:
        rows = parse(fetcher.read_bytes(location, bound=bounds.YAML, cache=False), location)
    except NotFound:
        rows = []
        warning = f"{location}: not found; release {release} has no ineligible endpoints list"
    with conn.transaction():
        locks.serialise(conn, "ineligible")
        conn.execute("DELETE FROM conformance.ineligible_endpoint")
        with conn.cursor().copy(
            "COPY conformance.ineligible_endpoint (endpoint, reason, link) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        loadlog.record(conn, "ineligible", release, location, started, len(rows))
        refresh.eligible_coverage(conn)
    return len(rows), warning
