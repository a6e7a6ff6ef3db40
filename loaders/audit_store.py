"""Where a CI run's audit events are stored (schema revision 0008): the run's own
partition of `audit_chunk` (its events, CHUNK_EVENTS to a row, as parallel arrays
that PostgreSQL compresses whole), written fresh in the load's transaction and
swapped in for the old one at its end. `audit_event` is the view that reads them
back one row per event.

Events are kept as the JSON text they were logged as, and `audit_event` casts it to
jsonb when a query reads `data`: parsing JSON into jsonb is most of what PostgreSQL
spends on a load (bench/audit_storage.py), while the loader parses every line with
orjson anyway, which accepts no line that jsonb would refuse once `\u0000` (the one
escape jsonb cannot hold) is replaced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql

if TYPE_CHECKING:  # audit.py imports this module to store what EventRows maps
    from snoopdb.loaders.audit import EventRows

# Events per audit_chunk row. Compression gains little beyond lz4's 64 KB window
# (about 50 events), while larger rows cost memory on both sides: 1,000 events
# (~1.5 MB raw) measured best (bench/audit_storage.py). The migration of revision
# 0008 chunks existing runs by the same number.
CHUNK_EVENTS = 1000
CHUNK_COLUMNS = ("run", "first", "audit_id", "endpoint", "error", "useragent", "test",
                 "test_hit", "conf_test_hit", "data")
HIT_COLUMNS = ("release", "source", "endpoint", "test", "test_hit", "conf_test_hit", "hits")


# COPY's binary format: no escaping on either side, values as they are stored.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, no extension
BINARY_TRAILER = b"\xff\xff"
CHUNK_FIELDS = len(CHUNK_COLUMNS).to_bytes(2, "big")
NULL_ELEMENT = b"\xff\xff\xff\xff"
TEXT_OID, BOOL_OID = 25, 16
TRUE_ELEMENT, FALSE_ELEMENT = b"\x00\x00\x00\x01\x01", b"\x00\x00\x00\x01\x00"


def _element(value: str | None) -> bytes:
    """A text value as an element of a binary array (length, then UTF-8 bytes)."""
    if value is None:
        return NULL_ELEMENT
    encoded = value.encode()
    return len(encoded).to_bytes(4, "big") + encoded


def _field(value: bytes) -> bytes:
    return len(value).to_bytes(4, "big") + value


def _array(oid: int, count: int, elements: Iterable[bytes], nulls: bool = True) -> bytes:
    """A one-dimensional binary array field of `count` encoded elements."""
    head = b"".join((b"\x00\x00\x00\x01", (1 if nulls else 0).to_bytes(4, "big"),
                     oid.to_bytes(4, "big"), count.to_bytes(4, "big"), b"\x00\x00\x00\x01"))
    body = b"".join(elements)
    return (len(head) + len(body)).to_bytes(4, "big") + head + body


class ChunkWriter:
    """Maps a run's events (through `rows`) into binary COPY rows of audit_chunk."""

    def __init__(self, rows: EventRows, run: int, send: Callable[[bytes], None]):
        self._rows = rows
        self._run = _field(run.to_bytes(8, "big"))
        self._send = send
        self._first = 0
        self._ids: list[bytes] = []
        self._endpoints: list[bytes] = []
        self._errors: list[bytes] = []
        self._agents: list[tuple[bytes, bytes, bytes, bytes]] = []
        self._data: list[bytes] = []  # length of each event, then its JSON text
        self._elements: dict[str | None, bytes] = {None: NULL_ELEMENT}
        self._agent_elements: dict[int, tuple[bytes, bytes, bytes, bytes]] = {}
        self._started = False

    def _cached(self, value: str | None) -> bytes:
        element = self._elements.get(value)
        if element is None:
            element = self._elements[value] = _element(value)
        return element

    def add(self, line: bytes, event: dict) -> None:
        """Map one parsed event (`line` is its JSON text) into the current chunk."""
        audit_id, endpoint, error, agent = self._rows.map(event)
        self._ids.append(_element(audit_id))
        self._endpoints.append(self._cached(endpoint))
        self._errors.append(self._cached(error))
        elements = self._agent_elements.get(agent.number)
        if elements is None:
            elements = self._agent_elements[agent.number] = (
                _element(agent.useragent), _element(agent.test),
                TRUE_ELEMENT if agent.test_hit else FALSE_ELEMENT,
                TRUE_ELEMENT if agent.conf_test_hit else FALSE_ELEMENT)
        self._agents.append(elements)
        if b"\\u0000" in line:  # jsonb cannot hold NUL; keep the event, mark the character
            line = line.replace(b"\\u0000", b"\\ufffd")
        self._data.append(len(line).to_bytes(4, "big"))
        self._data.append(line)
        if len(self._agents) == CHUNK_EVENTS:
            self.flush()

    def flush(self) -> None:
        """Send the events collected so far as one audit_chunk row."""
        count = len(self._agents)
        if not count:
            return
        useragents, tests, test_hits, conf_test_hits = zip(*self._agents, strict=True)
        self._send(b"".join((
            b"" if self._started else BINARY_HEADER,
            CHUNK_FIELDS, self._run, _field(self._first.to_bytes(8, "big")),
            _array(TEXT_OID, count, self._ids),
            _array(TEXT_OID, count, self._endpoints),
            _array(TEXT_OID, count, self._errors),
            _array(TEXT_OID, count, useragents),
            _array(TEXT_OID, count, tests),
            _array(BOOL_OID, count, test_hits, nulls=False),
            _array(BOOL_OID, count, conf_test_hits, nulls=False),
            _array(TEXT_OID, count, self._data, nulls=False),
        )))
        self._started = True
        self._first += count
        for values in (self._ids, self._endpoints, self._errors, self._agents, self._data):
            values.clear()

    def close(self) -> None:
        """Send the last chunk and the end of the COPY data."""
        self.flush()
        self._send(BINARY_HEADER + BINARY_TRAILER if not self._started else BINARY_TRAILER)


def _fresh(run: int) -> sql.Composed:
    """The run's fresh table (audit_run_prepare creates it)."""
    return sql.SQL("runs.{}").format(sql.Identifier(f"events_{run}_new"))


def prepare(conn: psycopg.Connection, source: str, release: str) -> int:
    """Start storing run `source` inside the caller's transaction: waits for any other
    load of the same run, creates the run's fresh table; returns the run id."""
    row = conn.execute("SELECT audit_run_prepare(%s, %s)", (source, release)).fetchone()
    assert row is not None
    return int(row[0])


def copy_chunks(conn: psycopg.Connection, run: int) -> AbstractContextManager[psycopg.Copy]:
    """COPY into the run's fresh events table (FREEZE: created in this transaction),
    in the binary format ChunkWriter writes."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary, FREEZE)").format(
        _fresh(run), sql.SQL(", ").join(map(sql.Identifier, CHUNK_COLUMNS)))
    return conn.cursor().copy(statement)


def store_hits(conn: psycopg.Connection, source: str,
               hits: Iterable[tuple[object, ...]]) -> None:
    """Make the run's endpoint_hit rows `hits` (rows of HIT_COLUMNS), rewriting only
    the rows whose counts changed."""
    conn.execute("CREATE TEMPORARY TABLE run_hit (LIKE endpoint_hit INCLUDING DEFAULTS)"
                 " ON COMMIT DROP")
    with conn.cursor().copy(f"COPY run_hit ({', '.join(HIT_COLUMNS)}) FROM STDIN") as copy:
        for hit in hits:
            copy.write_row(hit)
    conn.execute("ANALYZE run_hit")
    conn.execute("SELECT endpoint_hit_merge(%s)", (source,))


def publish(conn: psycopg.Connection, run: int, release: str, release_date: str | None,
            events: int) -> None:
    """Swap the run's fresh table in for its old one (visible at commit)."""
    conn.execute("SELECT audit_run_publish(%s, %s, %s, %s)",
                 (run, release, release_date, events))
