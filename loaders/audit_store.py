"""Where a CI run's audit events are stored (schema revision 0008): the run's own
partitions of `audit_chunk` (its events, CHUNK_EVENTS to a row, as parallel arrays
that PostgreSQL compresses whole) and `audit_agent` (its distinct user agents),
written fresh in the load's transaction and swapped in for the old ones at its end.
`audit_event` is the view that reads them back one row per event.
"""

from __future__ import annotations

from collections.abc import Callable
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
CHUNK_COLUMNS = ("run", "first", "audit_id", "endpoint", "error", "agent", "data")
AGENT_COLUMNS = ("run", "agent", "useragent", "test", "test_hit", "conf_test_hit")


def _copy_escaped(value: bytes) -> bytes:
    """An array literal as a COPY text value."""
    value = value.replace(b"\\", b"\\\\")
    if b"\t" in value or b"\n" in value or b"\r" in value:
        value = value.replace(b"\t", b"\\t").replace(b"\n", b"\\n").replace(b"\r", b"\\r")
    return value


def _element(value: str | None) -> bytes:
    """A text value as an element of an array literal (before COPY escaping)."""
    if value is None:
        return b"NULL"
    if "\\" in value or '"' in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return b'"' + value.encode() + b'"'


def _json_array(lines: list[bytes]) -> bytes:
    """JSON lines as a jsonb[] COPY text value. No line holds a newline, so the lines
    are escaped together, joined by newlines that then become the separators."""
    joined = b"\n".join(lines)
    if b"\\u0000" in joined:  # jsonb cannot hold NUL; keep the event, mark the character
        joined = joined.replace(b"\\u0000", b"\\ufffd")
    # element escaping (\ → \\, " → \") and COPY escaping (\ → \\) in one pass each
    joined = joined.replace(b"\\", b"\\\\\\\\").replace(b'"', b'\\\\"')
    if b"\t" in joined or b"\r" in joined:  # insignificant whitespace between tokens
        joined = joined.replace(b"\t", b"\\t").replace(b"\r", b"\\r")
    return b'{"' + joined.replace(b"\n", b'","') + b'"}'


class ChunkWriter:
    """Maps a run's events (through `rows`) into COPY text rows of audit_chunk."""

    def __init__(self, rows: EventRows, run: int, send: Callable[[bytes], None]):
        self._rows = rows
        self._run = b"%d" % run
        self._send = send
        self._first = 0
        self._ids: list[bytes] = []
        self._endpoints: list[bytes] = []
        self._errors: list[bytes] = []
        self._agents: list[bytes] = []
        self._data: list[bytes] = []
        self._elements: dict[str | None, bytes] = {None: b"NULL"}

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
        self._agents.append(b"%d" % agent.number)
        self._data.append(line)
        if len(self._data) == CHUNK_EVENTS:
            self.flush()

    def flush(self) -> None:
        """Send the events collected so far as one audit_chunk row."""
        if not self._data:
            return
        self._send(b"\t".join((
            self._run, b"%d" % self._first,
            _copy_escaped(b"{" + b",".join(self._ids) + b"}"),
            _copy_escaped(b"{" + b",".join(self._endpoints) + b"}"),
            _copy_escaped(b"{" + b",".join(self._errors) + b"}"),
            b"{" + b",".join(self._agents) + b"}",
            _json_array(self._data),
        )) + b"\n")
        self._first += len(self._data)
        for values in (self._ids, self._endpoints, self._errors, self._agents, self._data):
            values.clear()


def _fresh(kind: str, run: int) -> sql.Composed:
    return sql.SQL("runs.{}").format(sql.Identifier(f"{kind}_{run}_new"))


def prepare(conn: psycopg.Connection, source: str, release: str) -> int:
    """Start storing run `source` inside the caller's transaction: waits for any other
    load of the same run, creates the run's fresh tables; returns the run id."""
    row = conn.execute("SELECT audit_run_prepare(%s, %s)", (source, release)).fetchone()
    assert row is not None
    return int(row[0])


def copy_chunks(conn: psycopg.Connection, run: int) -> psycopg.Copy:
    """COPY into the run's fresh events table (FREEZE: created in this transaction)."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        _fresh("events", run), sql.SQL(", ").join(map(sql.Identifier, CHUNK_COLUMNS)))
    return conn.cursor().copy(statement)


def store_agents(conn: psycopg.Connection, run: int, rows: EventRows) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FREEZE)").format(
        _fresh("agents", run), sql.SQL(", ").join(map(sql.Identifier, AGENT_COLUMNS)))
    with conn.cursor().copy(statement) as copy:
        for agent in rows.agents.values():
            copy.write_row((run, agent.number, agent.useragent, agent.test, agent.test_hit,
                            agent.conf_test_hit))


def publish(conn: psycopg.Connection, run: int, release: str, release_date: str | None,
            events: int) -> None:
    """Swap the run's fresh tables in for its old ones (visible at commit)."""
    conn.execute("SELECT audit_run_publish(%s, %s, %s, %s)",
                 (run, release, release_date, events))
