"""Request-body field tallies ↔ the database: the body schemas a run's bodies are
walked against (`body_schema` and `body_field`, stored with the spec), and the tallies written
in the run's transaction (`endpoint_field_hit`, `endpoint_body_hit`, or for live
events `testing.field_hit`, `testing.body_hit`). The walking itself is
snoopdb/coverage/fields.py."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import psycopg

from snoopdb.coverage.fields import FieldTally, schemas_by_endpoint
from snoopdb.db.queries import query

FIELD_HIT_COLUMNS = ("release", "source", "endpoint", "field", "known", "test", "test_hit",
                     "conf_test_hit", "hits")
BODY_HIT_COLUMNS = ("release", "source", "endpoint", "test", "test_hit", "conf_test_hit",
                    "bodies")
LIVE_FIELD_COPY = ("COPY testing.field_hit (source, endpoint, field, known, useragent, hits)"
                   " FROM STDIN")
LIVE_BODY_COPY = "COPY testing.body_hit (source, endpoint, useragent, bodies) FROM STDIN"


def tally_for(conn: psycopg.Connection, release: str | None) -> FieldTally:
    """A tally over the body schemas of `release`, by test; None: live events, by
    user agent, over the latest release's schemas. A release whose spec has no
    stored body fields (loaded before field coverage existed, or imported) gives
    a tally that counts nothing."""
    live = release is None
    if release is None:
        row = conn.execute("SELECT latest_release()").fetchone()
        release = row[0] if row else None
    params = {"release": release}
    endpoints = conn.execute(query("fields/endpoint_bodies.sql"), params).fetchall()
    fields = conn.execute(query("fields/body_schemas.sql"), params).fetchall()
    return FieldTally(schemas_by_endpoint(endpoints, fields), by_useragent=live)


def store(conn: psycopg.Connection, tally: FieldTally, *, release: str, source: str,
          testing: bool) -> None:
    """Replace the run `source`'s field tallies with `tally`, in the caller's transaction."""
    if testing:
        conn.execute("DELETE FROM testing.field_hit WHERE source = %s", (source,))
        conn.execute("DELETE FROM testing.body_hit WHERE source = %s", (source,))
        field_copy, body_copy = LIVE_FIELD_COPY, LIVE_BODY_COPY
        field_rows, body_rows = live_rows(tally, source)
    else:
        conn.execute("DELETE FROM endpoint_field_hit WHERE source = %s", (source,))
        conn.execute("DELETE FROM endpoint_body_hit WHERE source = %s", (source,))
        field_copy = f"COPY endpoint_field_hit ({', '.join(FIELD_HIT_COLUMNS)}) FROM STDIN"
        body_copy = f"COPY endpoint_body_hit ({', '.join(BODY_HIT_COLUMNS)}) FROM STDIN"
        head = (release, source)
        field_rows = ((*head, *row) for row in tally.field_rows())
        body_rows = ((*head, *row) for row in tally.body_rows())
    for statement, rows in ((field_copy, field_rows), (body_copy, body_rows)):
        with conn.cursor().copy(statement) as copy:
            for chunk in copy_text(rows):
                copy.write(chunk)


COPY_CHUNK = 1 << 20


def copy_text(rows: Iterable[tuple[Any, ...]]) -> Iterator[bytes]:
    """`rows` as COPY text in chunks of about a megabyte: a run has up to a few
    million field rows, and psycopg's write_row per row costs three times as much."""
    lines: list[str] = []
    size = 0
    for row in rows:
        line = "\t".join(_value(value) for value in row)
        lines.append(line)
        size += len(line)
        if size >= COPY_CHUNK:
            yield ("\n".join(lines) + "\n").encode()
            lines.clear()
            size = 0
    if lines:
        yield ("\n".join(lines) + "\n").encode()


def _value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = (text.replace("\\", "\\\\").replace("\t", "\\t")
                .replace("\n", "\\n").replace("\r", "\\r"))
    return text


def live_rows(tally: FieldTally, source: str) -> tuple[Iterator[tuple[Any, ...]],
                                                        Iterator[tuple[Any, ...]]]:
    """Rows for LIVE_FIELD_COPY and LIVE_BODY_COPY of a tally by user agent."""
    fields = ((source, endpoint, field, known, useragent, hits) for
              endpoint, field, known, useragent, _, _, hits in tally.field_rows())
    bodies = ((source, endpoint, useragent, count) for
              endpoint, useragent, _, _, count in tally.body_rows())
    return fields, bodies
