"""Request-body field tallies ↔ the database: the body schemas a run's bodies are
walked against (`body_schema` and `body_field`, stored with the spec), and the tallies
of live events written in their batch's transaction (`testing.field_hit`,
`testing.body_hit`; a CI run's go with the run, run_store.store_summaries). The
walking itself is snoopdb/coverage/fields.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg

from snoopdb.core import copytext
from snoopdb.coverage.fields import FieldTally, schemas_by_endpoint
from snoopdb.db.queries import query

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


def store_live(conn: psycopg.Connection, tally: FieldTally, source: str) -> None:
    """Replace the live batch `source`'s field tallies with `tally`, in the caller's
    transaction (CI runs' tallies go with their run: run_store.store_summaries)."""
    conn.execute("DELETE FROM testing.field_hit WHERE source = %s", (source,))
    conn.execute("DELETE FROM testing.body_hit WHERE source = %s", (source,))
    field_rows, body_rows = live_rows(tally, source)
    for statement, rows in ((LIVE_FIELD_COPY, field_rows), (LIVE_BODY_COPY, body_rows)):
        with conn.cursor().copy(statement) as copy:
            for chunk in copytext.rows(rows):
                copy.write(chunk)


def live_rows(tally: FieldTally, source: str) -> tuple[Iterator[tuple[Any, ...]],
                                                        Iterator[tuple[Any, ...]]]:
    """Rows for LIVE_FIELD_COPY and LIVE_BODY_COPY of a tally by user agent."""
    fields = ((source, endpoint, field, known, useragent, hits) for
              endpoint, field, known, useragent, _, _, hits in tally.field_rows())
    bodies = ((source, endpoint, useragent, count) for
              endpoint, useragent, _, _, count in tally.body_rows())
    return fields, bodies
